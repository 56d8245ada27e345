package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// CheckEntitlementInput names the technician and the application requested.
type CheckEntitlementInput struct {
	TenantID      string
	ApplicationID string
	TechnicianID  string
}

// EntitlementResult is the database's answer. A denial is a normal result (Allowed false
// with Reason), not an error.
type EntitlementResult struct {
	Allowed  bool
	Reason   string // why not, when denied
	RuleID   string
	RuleName string

	ApplicationName string
	Domain          string   // where the technician's account lives
	Roles           []string // role template ids to assign

	TechnicianEmail       string
	TechnicianDisplayName string
}

// CheckEntitlement asks the database whether the technician may use the application now.
// It is authoritative: rules may have changed since the API accepted the request.
func (a *Activities) CheckEntitlement(ctx context.Context, in CheckEntitlementInput) (EntitlementResult, error) {
	ent, err := a.Store.CheckEntitlement(ctx, in.TenantID, in.ApplicationID, in.TechnicianID)
	if err != nil {
		return EntitlementResult{}, fmt.Errorf("check entitlement of %s to %s: %w", in.TechnicianID, in.ApplicationID, err)
	}
	res := EntitlementResult{
		Allowed:               ent.Allowed,
		Reason:                ent.Reason,
		RuleID:                ent.RuleID,
		RuleName:              ent.RuleName,
		ApplicationName:       ent.Application.Name,
		Domain:                ent.Application.Domain,
		Roles:                 ent.Application.Roles,
		TechnicianEmail:       ent.Technician.Email,
		TechnicianDisplayName: ent.Technician.DisplayName,
	}
	// An entitled technician still cannot get an account where none can be provisioned.
	if res.Allowed && (res.Domain == "" || len(res.Roles) == 0) {
		res.Allowed = false
		res.Reason = "the application is not ready: it needs a domain and at least one role"
	}
	if res.Allowed && res.TechnicianEmail == "" {
		res.Allowed = false
		res.Reason = "the technician has no e-mail address to name the account after"
	}
	if !res.Allowed && res.Reason == "" {
		res.Reason = "no entitlement rule grants this application to the technician"
	}
	return res, nil
}

// RecordGrantInput is one transition of a grant: the projection columns to write (zero
// values leave a column unchanged, except Status) and the audit event it is (Action empty: no
// audit event). The embedded update keeps the payload's JSON flat, as recorded histories hold it.
type RecordGrantInput struct {
	store.GrantUpdate

	// Audit event of the transition.
	Action    string // e.g. "grant.requested", "grant.activated"
	ActorID   string // technician id; empty means the system
	ActorKind string // admin | technician | system
	Reason    string // denial, revocation or failure reason
	RuleID    string
	RuleName  string
	Extension time.Duration // for "grant.extended"
}

// Audit actions recorded by the workflow.
const (
	ActionRequested = "grant.requested"
	ActionDenied    = "grant.denied"
	ActionActivated = "grant.activated"
	ActionExtended  = "grant.extended"
	ActionRevoke    = "grant.revoke_requested"
	ActionExpired   = "grant.expired"
	ActionRevoked   = "grant.revoked"
	ActionFailed    = "grant.failed"
	// ActionDisableBlocked: the account cannot be disabled until an admin authorizes the
	// application again (the grant stays revoking).
	ActionDisableBlocked = "grant.disable_blocked"
)

// RecordGrant writes the grant's projection row and the audit event of the transition in
// one transaction.
func (a *Activities) RecordGrant(ctx context.Context, in RecordGrantInput) error {
	var event *store.AuditEvent
	if in.Action != "" {
		e := auditEvent(in)
		event = &e
	}
	if err := a.Store.RecordTransition(ctx, in.GrantUpdate, event); err != nil {
		return fmt.Errorf("record grant %s as %s: %w", in.GrantID, in.Status, err)
	}
	return nil
}

// BeginGrant is a grant's first step in one local activity: it checks the entitlement and
// writes the request (the projection and its grant.requested event) in one transaction,
// already as provisioning when the check allows it. in is the pending transition.
// Separate CheckEntitlement and RecordGrant steps cost two more local activities and one more
// commit before any account work can start (docs/performance.md).
func (a *Activities) BeginGrant(ctx context.Context, in RecordGrantInput) (EntitlementResult, error) {
	res, err := a.CheckEntitlement(ctx, CheckEntitlementInput{TenantID: in.TenantID, ApplicationID: in.ApplicationID, TechnicianID: in.TechnicianID})
	if err != nil {
		return res, err
	}
	event := auditEvent(in) // grant.requested, as the technician asked: status pending
	u := in.GrantUpdate
	if res.Allowed {
		u.Status = store.StatusProvisioning
	}
	if err := a.Store.RecordTransition(ctx, u, &event); err != nil {
		return EntitlementResult{}, fmt.Errorf("record request of grant %s: %w", in.GrantID, err)
	}
	return res, nil
}

// auditEventID is the same for every attempt of one transition, so an attempt that committed
// but whose answer was lost is not logged twice when the activity is retried. A run records
// each action once, except extensions, which differ in their new expiry.
func auditEventID(in RecordGrantInput) string {
	return store.DerivedID("aud", strings.Join([]string{in.GrantID, in.RunID, in.Action, in.ExpiresAt.UTC().Format(time.RFC3339Nano)}, "\x00"))
}

// auditEvent describes a transition for auditors: ids and times, never a credential.
func auditEvent(in RecordGrantInput) store.AuditEvent {
	actorID, kind := in.ActorID, in.ActorKind
	if actorID == "" {
		actorID, kind = "system", "system"
	} else if kind == "" {
		kind = "technician"
	}
	details := map[string]any{
		"status":         in.Status,
		"application_id": in.ApplicationID,
		"technician_id":  in.TechnicianID,
		"workflow_id":    in.WorkflowID,
		"run_id":         in.RunID,
	}
	setIf := func(key, v string) {
		if v != "" {
			details[key] = v
		}
	}
	setTime := func(key string, t time.Time) {
		if !t.IsZero() {
			details[key] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	setIf("justification", in.Justification)
	setIf("reason", in.Reason)
	setIf("failure", in.Failure)
	setIf("rule_id", in.RuleID)
	setIf("rule_name", in.RuleName)
	setIf("account_upn", in.AccountUPN)
	setIf("account_id", in.AccountID)
	setIf("revoked_by", in.RevokedBy)
	setTime("activated_at", in.ActivatedAt)
	setTime("expires_at", in.ExpiresAt)
	setTime("ended_at", in.EndedAt)
	if len(in.Roles) > 0 {
		details["roles"] = in.Roles
	}
	if in.Extension > 0 {
		details["extension"] = in.Extension.String()
	}
	return store.AuditEvent{
		ID:        auditEventID(in),
		TenantID:  in.TenantID,
		ActorID:   actorID,
		ActorKind: kind,
		Action:    in.Action,
		Target:    in.GrantID,
		Details:   details,
	}
}
