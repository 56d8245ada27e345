package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// BeginGrant claims the grant row the API created for this run chain and loads from the
// database everything that decides the grant: the entitlement, the duration (the request
// bounded by the application's duration and the global maximum), the account and the roles.
// A run with no row of its own is refused (grant.refused, nothing else written). The claim,
// the account lock of an allowed grant (one account, one live grant) and its first status
// (provisioning, pending_approval, or pending when denied) with the grant.requested event are
// one transaction.
func (a *Activities) BeginGrant(ctx context.Context, in workflows.BeginInput) (workflows.Plan, error) {
	claim := store.Claim{GrantID: in.GrantID, TenantID: in.TenantID, ApplicationID: in.ApplicationID,
		TechnicianID: in.TechnicianID, WorkflowID: in.WorkflowID, RunID: in.RunID, FirstRunID: in.FirstRunID}
	// The claim itself is checked under the row's lock when the grant is begun (BeginGrant).
	g, err := a.Store.Grant(ctx, in.GrantID)
	if errors.Is(err, store.ErrNotFound) {
		return a.refuse(ctx, in, fmt.Sprintf("%v: no grant %s was requested through the API", store.ErrClaimRefused, in.GrantID))
	}
	if err != nil {
		return workflows.Plan{}, fmt.Errorf("read grant %s: %w", in.GrantID, err)
	}
	ent, err := a.Store.CheckEntitlement(ctx, g.TenantID, g.ApplicationID, g.TechnicianID)
	if err != nil {
		return workflows.Plan{}, fmt.Errorf("check entitlement of grant %s: %w", g.ID, err)
	}
	plan := a.planOf(g, ent)
	if !plan.Denied {
		pol, _, err := a.Store.ApplicationPolicy(ctx, g.ApplicationID)
		if err != nil {
			return workflows.Plan{}, fmt.Errorf("read policy of grant %s: %w", g.ID, err)
		}
		// The effective policy decides: the saved one, else the default of the roles, which
		// asks one admin's approval when a role is privileged (Global Administrator, …).
		if pol.MaxDuration != 0 && plan.Duration > time.Duration(pol.MaxDuration) {
			plan.Duration = time.Duration(pol.MaxDuration)
		}
		if ap := pol.Approval; ap.Required {
			plan.ApprovalRequired, plan.ApprovalsNeeded, plan.ApprovalTimeout = true, max(ap.ApprovalsNeeded, 1), time.Duration(ap.Timeout)
			if plan.ApprovalTimeout <= 0 {
				plan.ApprovalTimeout = policy.DefaultApprovalTimeout
			}
		}
	}
	status, err := a.begin(ctx, in, g, claim, &plan)
	if errors.Is(err, store.ErrClaimRefused) {
		return a.refuse(ctx, in, err.Error())
	}
	if err != nil {
		return workflows.Plan{}, fmt.Errorf("record request of grant %s: %w", g.ID, err)
	}
	if err := a.publish(ctx, workflows.GrantNotification{Event: workflows.NotifyRequested, GrantID: g.ID, Key: "requested", ActorID: g.TechnicianID}); err != nil {
		return workflows.Plan{}, err
	}
	if status == workflows.StatusPendingApproval {
		if err := a.publish(ctx, workflows.GrantNotification{Event: workflows.NotifyApprovalNeeded, GrantID: g.ID, Key: "requested"}); err != nil {
			return workflows.Plan{}, err
		}
	}
	a.metrics().Transition(string(status))
	return plan, nil
}

// begin writes the claim, the account lock and the first status; an account another live
// grant holds denies the grant, which is then written as denied.
func (a *Activities) begin(ctx context.Context, in workflows.BeginInput, g store.Grant, claim store.Claim, plan *workflows.Plan) (workflows.Status, error) {
	for {
		status := workflows.StatusPending
		switch {
		case plan.Denied:
		case plan.ApprovalRequired:
			status = workflows.StatusPendingApproval
		default:
			status = workflows.StatusProvisioning
		}
		rec := workflows.Record{GrantID: g.ID, WorkflowID: in.WorkflowID, RunID: in.RunID, TenantID: g.TenantID,
			ApplicationID: g.ApplicationID, TechnicianID: g.TechnicianID, Status: status, Action: workflows.ActionRequested,
			Key: "requested", Actor: workflows.Actor{ID: g.TechnicianID, Kind: store.ActorTechnician, Verified: true},
			RuleID: plan.RuleID, RuleName: plan.RuleName}
		event := auditEvent(rec)
		event.Details["justification"] = g.Justification
		b := store.Begin{Claim: claim, Status: string(status), Event: &event}
		if !plan.Denied {
			b.LockUPN = plan.AccountUPN
		}
		err := a.Store.BeginGrant(ctx, b)
		if errors.Is(err, store.ErrAccountInUse) && !plan.Denied {
			plan.Denied, plan.Reason = true, err.Error()
			continue
		}
		return status, err
	}
}

// planOf turns the database's answers into the grant's plan.
func (a *Activities) planOf(g store.Grant, ent store.Entitlement) workflows.Plan {
	maxTotal := a.MaxAccessDuration
	if maxTotal <= 0 {
		maxTotal = workflows.DefaultMaxTotal
	}
	app := ent.Application
	ceiling := maxTotal
	if app.AccessDuration > 0 {
		ceiling = min(app.AccessDuration, maxTotal)
	}
	duration := g.RequestedDuration
	if duration <= 0 || duration > ceiling {
		duration = ceiling
	}
	p := workflows.Plan{
		Denied: !ent.Allowed, Reason: ent.Reason, RuleID: ent.RuleID, RuleName: ent.RuleName, RequestedAt: g.RequestedAt,
		Duration: duration, MaxStep: ceiling, MaxTotal: maxTotal,
		TechnicianEmail: ent.Technician.Email, TechnicianDisplayName: ent.Technician.DisplayName,
		Domain: app.Domain, Roles: app.Roles, SignInMethod: app.SignInMethod,
	}
	switch {
	case p.Denied && p.Reason == "":
		p.Reason = "no entitlement rule grants this application to the technician"
	case p.Denied:
	case p.Domain == "" || len(p.Roles) == 0:
		p.Denied, p.Reason = true, "the application is not ready: it needs a domain and at least one role"
	case p.TechnicianEmail == "":
		p.Denied, p.Reason = true, "the technician has no e-mail address to name the account after"
	default:
		upn, err := directory.BuildUPN(p.TechnicianEmail, p.Domain)
		if err != nil {
			p.Denied, p.Reason = true, fmt.Sprintf("no valid account name for %s in %s: %v", p.TechnicianEmail, p.Domain, err)
		}
		p.AccountUPN = upn
	}
	return p
}

// refuse records a run that has no grant of its own and counts it.
func (a *Activities) refuse(ctx context.Context, in workflows.BeginInput, reason string) (workflows.Plan, error) {
	event := auditEvent(workflows.Record{GrantID: in.GrantID, WorkflowID: in.WorkflowID, RunID: in.RunID, TenantID: in.TenantID,
		ApplicationID: in.ApplicationID, TechnicianID: in.TechnicianID, Action: workflows.ActionRefused, Key: "refused", Reason: reason})
	if err := a.Store.RecordTransition(ctx, store.GrantUpdate{GrantID: in.GrantID}, &event); err != nil {
		return workflows.Plan{}, fmt.Errorf("record refusal of run %s: %w", in.RunID, err)
	}
	a.logger().WarnContext(ctx, "workflow run refused", "grant_id", in.GrantID, "workflow_id", in.WorkflowID, "run_id", in.RunID, "reason", reason)
	a.metrics().Refused()
	return workflows.Plan{Refused: true, Reason: reason}, nil
}

// RecordGrant writes records in order, each projection write with its audit event in one
// transaction. A record of a grant whose row is gone (its tenant was deleted) is skipped.
func (a *Activities) RecordGrant(ctx context.Context, recs []workflows.Record) error {
	for _, rec := range recs {
		var event *store.AuditEvent
		if rec.Action != "" {
			e := auditEvent(rec)
			event = &e
		}
		err := a.Store.RecordTransition(ctx, updateOf(rec), event)
		if errors.Is(err, store.ErrNotFound) {
			a.logger().WarnContext(ctx, "grant record skipped: no such grant", "grant_id", rec.GrantID, "status", rec.Status)
			continue
		}
		if err != nil {
			return fmt.Errorf("record grant %s as %s: %w", rec.GrantID, rec.Status, err)
		}
		if n, ok := notificationOf(rec); ok {
			if err := a.publish(ctx, n); err != nil {
				return err
			}
		}
		switch {
		case rec.Action == workflows.ActionExtended:
			a.metrics().Extended()
		case rec.Status != "":
			a.metrics().Transition(string(rec.Status))
			if rec.Status == workflows.StatusExpired && !rec.ExpiresAt.IsZero() && !rec.EndedAt.IsZero() {
				a.metrics().ExpiryLateness(rec.EndedAt.Sub(rec.ExpiresAt))
			}
		}
	}
	return nil
}

// VerifyActor says whether the database knows in.ActorID as the grant's technician or an admin.
func (a *Activities) VerifyActor(ctx context.Context, in workflows.VerifyActorInput) (workflows.Actor, error) {
	kind, ok, err := a.Store.GrantActor(ctx, in.GrantID, in.ActorID)
	if err != nil {
		return workflows.Actor{}, fmt.Errorf("verify %s on grant %s: %w", in.ActorID, in.GrantID, err)
	}
	return workflows.Actor{ID: in.ActorID, Kind: kind, Verified: ok}, nil
}

// CheckExtend verifies the actor and re-checks membership and entitlement, with the current
// bounds of an extension (the application's duration per step, the global maximum in all).
func (a *Activities) CheckExtend(ctx context.Context, in workflows.CheckExtendInput) (workflows.ExtendCheck, error) {
	actor, err := a.VerifyActor(ctx, workflows.VerifyActorInput(in))
	if err != nil {
		return workflows.ExtendCheck{}, err
	}
	g, err := a.Store.Grant(ctx, in.GrantID)
	if err != nil {
		return workflows.ExtendCheck{}, fmt.Errorf("load grant %s: %w", in.GrantID, err)
	}
	ent, err := a.Store.CheckEntitlement(ctx, g.TenantID, g.ApplicationID, g.TechnicianID)
	if err != nil {
		return workflows.ExtendCheck{}, fmt.Errorf("check entitlement of grant %s: %w", g.ID, err)
	}
	p := a.planOf(g, ent)
	chk := workflows.ExtendCheck{Actor: actor, Entitled: ent.Allowed, Reason: ent.Reason, MaxStep: p.MaxStep, MaxTotal: p.MaxTotal}
	pol, _, err := a.Store.ApplicationPolicy(ctx, g.ApplicationID)
	if err != nil {
		return workflows.ExtendCheck{}, fmt.Errorf("read policy of grant %s: %w", g.ID, err)
	}
	if m := time.Duration(pol.MaxTotalDuration); m > 0 && m < chk.MaxTotal {
		chk.MaxTotal = m
	}
	// Where the policy requires approval, the approvers agreed to the requested duration
	// (as BeginGrant bounded it); going past it needs a new approved request.
	if pol.Approval.Required {
		chk.ApprovedTotal = p.Duration
		if m := time.Duration(pol.MaxDuration); m > 0 && m < chk.ApprovedTotal {
			chk.ApprovedTotal = m
		}
		chk.ApprovalsNeeded, chk.ApprovalTimeout = max(pol.Approval.ApprovalsNeeded, 1), time.Duration(pol.Approval.Timeout)
		if chk.ApprovalTimeout <= 0 {
			chk.ApprovalTimeout = policy.DefaultApprovalTimeout
		}
	}
	return chk, nil
}

// updateOf maps a record to the projection's columns.
func updateOf(r workflows.Record) store.GrantUpdate {
	return store.GrantUpdate{GrantID: r.GrantID, RunID: r.RunID, Status: string(r.Status),
		ActivatedAt: r.ActivatedAt, ExpiresAt: r.ExpiresAt, EndedAt: r.EndedAt, AccountUPN: r.AccountUPN, AccountID: r.AccountID,
		Roles: r.Roles, Failure: r.Failure, RevokedBy: r.RevokedBy, ReleaseAccount: r.ReleaseAccount,
		PendingExtension: pendingOf(r.PendingExtension)}
}

// pendingOf maps the workflow's pending extension to the projection's.
func pendingOf(p *workflows.PendingExtension) *store.PendingExtension {
	if p == nil {
		return nil
	}
	return &store.PendingExtension{Duration: p.Duration, By: p.By, RequestedAt: p.RequestedAt, Request: p.Request()}
}

// auditEventID is the same for every attempt of one transition of one run, so a write that
// committed but whose answer was lost is not logged twice.
func auditEventID(r workflows.Record) string {
	return store.DerivedID("aud", strings.Join([]string{r.GrantID, r.RunID, r.Action, r.Key}, "\x00"))
}

// auditEvent describes a record for auditors: ids and times, never a credential. An actor
// the database did not verify is logged as "unverified" with the name it claimed.
func auditEvent(r workflows.Record) store.AuditEvent {
	actorID, kind := r.Actor.ID, r.Actor.Kind
	switch {
	case actorID == "" || actorID == store.ActorSystem:
		actorID, kind = store.ActorSystem, store.ActorSystem
	case !r.Actor.Verified:
		kind = "unverified"
	}
	details := map[string]any{
		"application_id": r.ApplicationID,
		"technician_id":  r.TechnicianID,
		"workflow_id":    r.WorkflowID,
		"run_id":         r.RunID,
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
	setIf("status", string(r.Status))
	setIf("reason", r.Reason)
	setIf("failure", r.Failure)
	setIf("rule_id", r.RuleID)
	setIf("rule_name", r.RuleName)
	setIf("account_upn", r.AccountUPN)
	setIf("account_id", r.AccountID)
	setIf("revoked_by", r.RevokedBy)
	setTime("activated_at", r.ActivatedAt)
	setTime("expires_at", r.ExpiresAt)
	setTime("ended_at", r.EndedAt)
	if !r.Actor.Verified && r.Actor.ID != "" && actorID != store.ActorSystem {
		details["actor_verified"] = false
		setIf("claimed_kind", r.Actor.Kind)
	}
	if len(r.Roles) > 0 {
		details["roles"] = r.Roles
	}
	if r.Extension > 0 {
		details["extension"] = r.Extension.String()
	}
	return store.AuditEvent{ID: auditEventID(r), TenantID: r.TenantID, ActorID: actorID, ActorKind: kind,
		Action: r.Action, Target: r.GrantID, Details: details, WorkflowID: r.WorkflowID, RunID: r.RunID}
}
