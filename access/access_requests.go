package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// checkText checks an optional free-text field: trimmed, bounded, no control characters
// other than line breaks and tabs.
func checkText(field, v string, maxLen int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case utf8.RuneCountInString(v) > maxLen:
		return "", FieldError(field, fmt.Sprintf("is longer than %d characters.", maxLen))
	case strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f }):
		return "", FieldError(field, "must not contain control characters.")
	}
	return v, nil
}

// checkDuration reads a requested duration (Go syntax such as "2h" or "90m"), positive.
func checkDuration(field, v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return 0, &Error{Kind: Invalid, Code: "invalid_duration", Field: field,
			Message: fmt.Sprintf("%s: %q is not a positive duration such as \"2h\" or \"90m\".", field, v)}
	}
	return d, nil
}

// RequestInput is a technician's request: the application, why, and for how long
// (nil: the application's access duration).
type RequestInput struct {
	ApplicationID string  `json:"application_id"`
	Justification string  `json:"justification"`
	Duration      *string `json:"duration"`
	// TicketReference names the MSP's ticket; the application's policy may require it.
	TicketReference string `json:"ticket_reference"`
}

// RequestAccess starts the AccessRequest workflow for the actor, or returns their live grant
// of the application (created false).
func (s *Service) RequestAccess(ctx context.Context, u Actor, in RequestInput) (store.Grant, bool, error) {
	appID := strings.TrimSpace(in.ApplicationID)
	if appID == "" {
		return store.Grant{}, false, FieldError("application_id", "is required.")
	}
	justification, err := checkText("justification", in.Justification, maxJustificationLength)
	if err != nil {
		return store.Grant{}, false, err
	}
	ticket, err := checkText("ticket_reference", in.TicketReference, maxTicketReferenceLength)
	if err != nil {
		return store.Grant{}, false, err
	}
	var duration time.Duration
	if in.Duration != nil {
		if duration, err = checkDuration("duration", *in.Duration); err != nil {
			return store.Grant{}, false, err
		}
	}

	app, err := s.deps.Store.ApplicationByID(ctx, appID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, false, NotFoundError("application")
	}
	if err != nil {
		return store.Grant{}, false, err
	}
	// The workflow checks again, authoritatively; this answers refusals at once.
	ent, err := s.deps.Store.EntitlementOf(ctx, app, u.Technician)
	if err != nil {
		return store.Grant{}, false, err
	}
	// A technician outside the application's tenant must not learn that it exists; admins
	// see every application anyway and get the ordinary refusal below.
	if !u.IsAdmin() && !ent.Member {
		s.auditDenial(ctx, u, app, "not a member of the application's tenant")
		return store.Grant{}, false, NotFoundError("application")
	}
	if !ent.Allowed {
		if ent.RuleID != "" && app.Status != store.AppReady {
			return store.Grant{}, false, Refuse(Conflict, "application_not_ready",
				fmt.Sprintf("The application %s is not ready yet (status %s); ask an MSP admin to finish its configuration.", app.Name, app.Status))
		}
		s.auditDenial(ctx, u, app, ent.Reason)
		return store.Grant{}, false, Refuse(Forbidden, "not_entitled", ent.Reason)
	}

	// The application's access duration is the default and the ceiling, within JIT_MAX.
	ceiling := min(app.AccessDuration, s.deps.MaxAccessDuration)
	defaulted := duration == 0
	if defaulted {
		duration = ceiling
	}
	if duration > ceiling {
		return store.Grant{}, false, &Error{Kind: Invalid, Code: "duration_exceeds_maximum", Field: "duration",
			Message: fmt.Sprintf("duration: %s is more than the %s this application allows.", duration, ceiling)}
	}
	if duration < s.deps.MinAccessDuration {
		return store.Grant{}, false, &Error{Kind: Invalid, Code: "invalid_duration", Field: "duration",
			Message: fmt.Sprintf("duration: %s is less than the minimum %s.", duration, s.deps.MinAccessDuration)}
	}
	// The application's policy: justification, ticket reference, its maximum duration.
	if duration, err = s.checkRequestPolicy(ctx, app.ID, justification, ticket, duration, defaulted); err != nil {
		return store.Grant{}, false, err
	}

	// Once started, a workflow must get its row even if the client went away.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), startTimeout)
	defer cancel()
	// The row comes first: the workflow's input names it and nothing else; the worker reads
	// everything that decides the grant from the database.
	wf := workflows.AccessRequestInput{TenantID: app.TenantID, ApplicationID: app.ID, TechnicianID: u.ID}
	workflowID := workflows.WorkflowID(wf.TenantID, wf.ApplicationID, wf.TechnicianID)
	for attempt := 1; ; attempt++ {
		g, err := s.deps.Store.CreatePendingGrant(sctx, store.PendingGrant{WorkflowID: workflowID, TenantID: app.TenantID,
			ApplicationID: app.ID, TechnicianID: u.ID, Justification: justification, Duration: duration, RequestedAt: time.Now().UTC()})
		if err != nil {
			return store.Grant{}, false, err
		}
		wf.GrantID = g.ID
		if ticket != "" {
			if err := s.deps.Store.SetTicketReference(sctx, g.ID, ticket); err != nil {
				_ = s.deps.Store.DiscardPendingGrant(sctx, g.ID)
				return store.Grant{}, false, err
			}
		}
		_, runID, err := s.deps.Workflows.Start(sctx, wf)
		if err == nil {
			if err := s.deps.Store.AttachRun(sctx, g.ID, runID); err == nil {
				g.RunID = runID
			}
			return g, true, nil
		}
		_ = s.deps.Store.DiscardPendingGrant(sctx, g.ID)
		if !errors.Is(err, ErrGrantRunning) {
			return store.Grant{}, false, s.workflowError(ctx, u, "start", err)
		}
		// A live run of the same (tenant, application, technician): its grant is the answer,
		// unless it has recorded its end but not yet closed; then wait and start anew.
		live, lerr := s.deps.Store.GrantOfRun(sctx, workflowID, runID)
		if errors.Is(lerr, store.ErrNotFound) {
			live, lerr = s.deps.Store.LiveGrant(sctx, app.TenantID, app.ID, u.ID)
		}
		if (lerr == nil && !store.IsTerminal(live.Status)) || attempt == 3 {
			return live, false, lerr
		}
		if err := s.deps.Workflows.WaitClosed(sctx, workflowID, runID); err != nil {
			return store.Grant{}, false, s.workflowError(ctx, u, "start", err)
		}
	}
}

// auditDenial records a request refused before any workflow started (the workflow records
// its own denials as grant.denied).
func (s *Service) auditDenial(ctx context.Context, u Actor, app store.Application, reason string) {
	s.Audit(ctx, u, store.AuditEvent{TenantID: app.TenantID, Action: actionDenied, Target: app.ID,
		Details: map[string]any{"application_id": app.ID, "reason": reason}})
}

// ListGrants lists grants newest first: an admin's all, a technician's their own.
func (s *Service) ListGrants(ctx context.Context, u Actor, f store.GrantFilter, page store.Page) ([]store.Grant, string, error) {
	if f.Status != "" && !store.IsValidStatus(f.Status) {
		return nil, "", FieldError("status", "must be one of pending, provisioning, active, revoking, expired, revoked, denied, failed.")
	}
	if u.Role == store.RoleAuditor {
		// An auditor reads the grants of the tenants given to them, and nothing else.
		p, err := s.deps.Store.Principal(ctx, u.Technician)
		if err != nil {
			return nil, "", err
		}
		switch {
		case f.TenantID != "" && !p.Scope.Contains(f.TenantID):
			return nil, "", nil
		case f.TenantID == "" && !p.Scope.All && len(p.Scope.Tenants) == 1:
			f.TenantID = p.Scope.Tenants[0]
		case f.TenantID == "" && !p.Scope.All && len(p.Scope.Tenants) == 0:
			return nil, "", nil
		case f.TenantID == "" && !p.Scope.All:
			return nil, "", FieldError("tenant_id", "is required: you audit more than one tenant.")
		}
		return s.deps.Store.Grants(ctx, f, page)
	}
	if !u.IsAdmin() {
		// A technician's list is their own; asking for someone else's finds nothing.
		if f.TechnicianID != "" && f.TechnicianID != u.ID {
			return nil, "", nil
		}
		f.TechnicianID = u.ID
	}
	return s.deps.Store.Grants(ctx, f, page)
}

// VisibleGrant loads a grant the actor may see (its holder or an admin); anyone else is
// told it does not exist.
func (s *Service) VisibleGrant(ctx context.Context, u Actor, grantID string) (store.Grant, error) {
	g, err := s.deps.Store.Grant(ctx, grantID)
	if errors.Is(err, store.ErrNotFound) {
		return g, NotFoundError("access request")
	}
	if err != nil {
		return g, err
	}
	if g.TechnicianID == u.ID || u.IsAdmin() {
		return g, nil
	}
	if u.Role == store.RoleAuditor {
		if p, err := s.deps.Store.Principal(ctx, u.Technician); err == nil && p.Scope.Contains(g.TenantID) {
			return g, nil
		}
	}
	return store.Grant{}, NotFoundError("access request")
}

// ownGrant is VisibleGrant for actions only the holder may take: an admin who is not the
// holder is refused with 403 (they may see the grant, so its existence is no secret).
func (s *Service) ownGrant(ctx context.Context, u Actor, grantID, action string) (store.Grant, error) {
	g, err := s.VisibleGrant(ctx, u, grantID)
	if err != nil {
		return g, err
	}
	if g.TechnicianID != u.ID {
		return g, Refuse(Forbidden, "forbidden", "Only the technician who holds the grant may "+action+".")
	}
	return g, nil
}

type Credentials struct {
	UserPrincipalName string    `json:"user_principal_name"`
	Password          string    `json:"password"`
	ExpiresAt         time.Time `json:"expires_at"`
	// The grant's Temporary Access Pass, when its application issues one.
	TemporaryAccessPass string     `json:"temporary_access_pass,omitempty"`
	TAPExpiresAt        *time.Time `json:"tap_expires_at,omitempty"`
	// Why the pass ends before the grant when an extension could not renew it.
	TAPNote string `json:"temporary_access_pass_note,omitempty"`
}

// ReadCredentials returns the account and managed password of the actor's active grant.
// Every read is an audit event, and no password leaves without one.
func (s *Service) ReadCredentials(ctx context.Context, u Actor, grantID string) (Credentials, error) {
	g, err := s.ownGrant(ctx, u, grantID, "read its credentials")
	if err != nil {
		return Credentials{}, err
	}
	notActive := Refuse(Conflict, "grant_not_active",
		fmt.Sprintf("The grant is %s; its credentials are available only while it is active.", g.Status))
	if g.Status != string(workflows.StatusActive) {
		return Credentials{}, notActive
	}
	upn, password, err := s.deps.Store.Credential(ctx, g.ID)
	if errors.Is(err, store.ErrNotFound) {
		// The account is being disabled; the projection has not caught up yet.
		return Credentials{}, notActive
	}
	if err != nil {
		return Credentials{}, err
	}
	creds := Credentials{UserPrincipalName: upn, Password: password, ExpiresAt: g.ExpiresAt.UTC()}
	tap, err := s.deps.Store.TAP(ctx, g.ID)
	switch {
	case err == nil:
		at := tap.ExpiresAt.UTC()
		creds.TemporaryAccessPass, creds.TAPExpiresAt = tap.Pass, &at
		if at.Before(g.ExpiresAt.Add(-time.Minute)) {
			if creds.TAPNote, err = s.tapNote(ctx, g.ID); err != nil {
				return Credentials{}, err
			}
		}
	case !errors.Is(err, store.ErrNotFound):
		return Credentials{}, err
	}
	// A failed audit write refuses the read.
	if err := s.deps.Store.RecordAudit(context.WithoutCancel(ctx), store.AuditEvent{
		TenantID: g.TenantID, ActorID: u.ID, ActorKind: u.Role, Action: actionCredRead, Target: g.ID,
		Details: map[string]any{"application_id": g.ApplicationID, "account_upn": upn, "workflow_id": g.WorkflowID,
			"run_id": g.RunID, "client_ip": u.ClientIP, "request_id": u.RequestID, "temporary_access_pass": creds.TemporaryAccessPass != ""},
	}); err != nil {
		return Credentials{}, err
	}
	return creds, nil
}

// RevokeGrant asks the grant's workflow to end it now (its holder or an admin).
func (s *Service) RevokeGrant(ctx context.Context, u Actor, grantID, reason string) (store.Grant, error) {
	reason, err := checkText("reason", reason, maxReasonLength)
	if err != nil {
		return store.Grant{}, err
	}
	g, err := s.VisibleGrant(ctx, u, grantID)
	if err != nil {
		return g, err
	}
	if store.IsTerminal(g.Status) {
		return g, Refuse(Conflict, "grant_ended", fmt.Sprintf("The grant has already ended (%s).", g.Status))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), steerTimeout)
	defer cancel()
	// The workflow records grant.revoke_requested with the actor; no event of our own.
	if err := s.deps.Workflows.Revoke(sctx, g.WorkflowID, g.RunID, workflows.RevokeSignal{By: u.ID, ByKind: u.Role, Reason: reason}); err != nil {
		return g, s.workflowError(ctx, u, "revoke", err)
	}
	if fresh, err := s.deps.Store.Grant(sctx, g.ID); err == nil {
		g = fresh
	}
	return g, nil
}

// ExtendGrant moves the expiry of the actor's active grant; the workflow's validator has
// the last word (active, total within JIT_MAX_ACCESS_DURATION) and records grant.extended.
func (s *Service) ExtendGrant(ctx context.Context, u Actor, grantID, duration string) (store.Grant, error) {
	return s.ExtendGrantOnce(ctx, u, grantID, duration, "")
}

// ExtendGrantOnce is ExtendGrant with the caller's idempotency key: the same key extends the
// grant once, however often the request is retried ("" for none).
func (s *Service) ExtendGrantOnce(ctx context.Context, u Actor, grantID, duration, key string) (store.Grant, error) {
	if len(key) > 128 || strings.IndexFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return store.Grant{}, FieldError("Idempotency-Key", "must be at most 128 visible ASCII characters.")
	}
	if strings.TrimSpace(duration) == "" {
		return store.Grant{}, &Error{Kind: Invalid, Code: "invalid_duration", Field: "duration",
			Message: `duration: is required, a duration such as "1h".`}
	}
	d, err := checkDuration("duration", duration)
	if err != nil {
		return store.Grant{}, err
	}
	g, err := s.ownGrant(ctx, u, grantID, "extend it")
	if err != nil {
		return g, err
	}
	if g.Status != string(workflows.StatusActive) {
		return g, Refuse(Conflict, "grant_not_active", fmt.Sprintf("The grant is %s; only an active grant can be extended.", g.Status))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), steerTimeout)
	defer cancel()
	res, err := s.deps.Workflows.Extend(sctx, g.WorkflowID, g.RunID, workflows.ExtendRequest{Duration: d, By: u.ID, ByKind: u.Role, Key: key})
	if err != nil {
		return g, s.workflowError(ctx, u, "extend", err)
	}
	if fresh, err := s.deps.Store.Grant(sctx, g.ID); err == nil {
		g = fresh
	}
	// The update completes after its projection write; should that write have been lost,
	// the workflow's answer is still the truth (at the database's microsecond precision).
	if exp := res.ExpiresAt.UTC().Truncate(time.Microsecond); exp.After(g.ExpiresAt) {
		g.ExpiresAt = exp
	}
	return g, nil
}
