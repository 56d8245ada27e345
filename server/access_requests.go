package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/permission"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// Access requests (grants) of SPEC §4. The AccessRequest workflow is the source of truth and
// writes the grants row and the grant.* audit events; these handlers start and steer it, read
// its projection, and audit only what the workflow cannot see: refused requests and
// credential reads.
//
// Who may do what: any member of staff (technician or admin) may request an application a
// rule entitles them to (admins are MSP staff too, and the rule decides). A technician sees
// only their own grants; an admin sees all and may revoke any. Credentials and extensions
// belong to the grant's holder alone, admins included.

const (
	maxJustificationLength = 1000
	maxReasonLength        = 500

	// Bounds on the Temporal calls of a request; the client going away does not cut them
	// short (a started workflow must get its projection row).
	startTimeout = 15 * time.Second
	steerTimeout = 30 * time.Second

	// Audit actions of the API itself (the workflow records the grant.* transitions).
	actionDenied   = "grant.request_denied"
	actionCredRead = "credentials.read"
)

func (s *Server) accessRequestRoutes(g *gin.RouterGroup) {
	g.POST("/access-requests", s.createAccessRequest)
	g.GET("/access-requests", s.listAccessRequests)
	g.GET("/access-requests/:grant_id", s.getAccessRequest)
	g.GET("/access-requests/:grant_id/credentials", s.getCredentials)
	g.POST("/access-requests/:grant_id/revoke", s.revokeAccessRequest)
	g.POST("/access-requests/:grant_id/extend", s.extendAccessRequest)
}

type grantAccountView struct {
	UserPrincipalName *string `json:"user_principal_name"`
	ObjectID          *string `json:"object_id"`
}

// grantView is the grant of SPEC §4; temporal_url is added for admins when the Temporal UI
// is configured.
type grantView struct {
	ID            string           `json:"id"`
	TenantID      string           `json:"tenant_id"`
	ApplicationID string           `json:"application_id"`
	TechnicianID  string           `json:"technician_id"`
	Status        string           `json:"status"`
	Justification *string          `json:"justification"`
	RequestedAt   time.Time        `json:"requested_at"`
	ActivatedAt   *time.Time       `json:"activated_at"`
	ExpiresAt     *time.Time       `json:"expires_at"`
	EndedAt       *time.Time       `json:"ended_at"`
	Account       grantAccountView `json:"account"`
	Roles         []string         `json:"roles"`
	WorkflowID    string           `json:"workflow_id"`
	RunID         string           `json:"run_id"`
	Failure       *string          `json:"failure"`
	TemporalURL   string           `json:"temporal_url,omitempty"`
}

func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (s *Server) viewGrant(c *gin.Context, g store.Grant) grantView {
	return s.grantViewFor(currentUser(c), g)
}

// grantViewFor is the grant as the given member of staff sees it.
func (s *Server) grantViewFor(u store.Technician, g store.Grant) grantView {
	v := grantView{ID: g.ID, TenantID: g.TenantID, ApplicationID: g.ApplicationID, TechnicianID: g.TechnicianID, Status: g.Status,
		Justification: optString(g.Justification), RequestedAt: g.RequestedAt.UTC(), ActivatedAt: optTime(g.ActivatedAt),
		ExpiresAt: optTime(g.ExpiresAt), EndedAt: optTime(g.EndedAt),
		Account: grantAccountView{UserPrincipalName: optString(g.AccountUPN), ObjectID: optString(g.AccountID)},
		Roles:   g.Roles, WorkflowID: g.WorkflowID, RunID: g.RunID, Failure: optString(g.Failure)}
	if v.Roles == nil {
		v.Roles = []string{}
	}
	if u.Role == store.RoleAdmin {
		v.TemporalURL = s.temporalURL(g.WorkflowID, g.RunID)
	}
	return v
}

// temporalURL links to the run in the Temporal UI ("" when no UI is configured).
func (s *Server) temporalURL(workflowID, runID string) string {
	ui := strings.TrimRight(s.deps.TemporalUIURL, "/")
	if ui == "" || workflowID == "" {
		return ""
	}
	ns := s.deps.TemporalNamespace
	if ns == "" {
		ns = "default"
	}
	u := ui + "/namespaces/" + url.PathEscape(ns) + "/workflows/" + url.PathEscape(workflowID)
	if runID != "" {
		u += "/" + url.PathEscape(runID)
	}
	return u
}

// checkText checks an optional free-text field: trimmed, bounded, no control characters
// other than line breaks and tabs.
func checkText(field, v string, maxLen int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case utf8.RuneCountInString(v) > maxLen:
		return "", fieldProblem(field, fmt.Sprintf("is longer than %d characters.", maxLen))
	case strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f }):
		return "", fieldProblem(field, "must not contain control characters.")
	}
	return v, nil
}

// checkDuration reads a requested duration (Go syntax such as "2h" or "90m"), positive.
func checkDuration(field, v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return 0, &Problem{Status: http.StatusBadRequest, Code: "invalid_duration", Field: field,
			Message: fmt.Sprintf("%s: %q is not a positive duration such as \"2h\" or \"90m\".", field, v)}
	}
	return d, nil
}

// accessRequestInput is a technician's request: the application, why, and for how long
// (nil: the application's access duration).
type accessRequestInput struct {
	ApplicationID string  `json:"application_id"`
	Justification string  `json:"justification"`
	Duration      *string `json:"duration"`
}

func (s *Server) createAccessRequest(c *gin.Context) {
	var in accessRequestInput
	if !decodeJSON(c, &in) {
		return
	}
	g, created, err := s.RequestAccess(c.Request.Context(), s.actor(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusAccepted
	}
	c.JSON(status, s.viewGrant(c, g))
}

// RequestAccess starts the AccessRequest workflow for the actor, or returns their live grant
// of the application (created false).
func (s *Server) RequestAccess(ctx context.Context, u Actor, in accessRequestInput) (store.Grant, bool, error) {
	appID := strings.TrimSpace(in.ApplicationID)
	if appID == "" {
		return store.Grant{}, false, fieldProblem("application_id", "is required.")
	}
	justification, err := checkText("justification", in.Justification, maxJustificationLength)
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
		return store.Grant{}, false, notFoundProblem("application")
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
		return store.Grant{}, false, notFoundProblem("application")
	}
	if !ent.Allowed {
		if ent.RuleID != "" && app.Status != store.AppReady {
			return store.Grant{}, false, problem(http.StatusConflict, "application_not_ready",
				fmt.Sprintf("The application %s is not ready yet (status %s); ask an MSP admin to finish its configuration.", app.Name, app.Status))
		}
		s.auditDenial(ctx, u, app, ent.Reason)
		return store.Grant{}, false, problem(http.StatusForbidden, "not_entitled", ent.Reason)
	}

	// The application's access duration is the default and the ceiling, within JIT_MAX.
	ceiling := min(app.AccessDuration, s.deps.MaxAccessDuration)
	if duration == 0 {
		duration = ceiling
	}
	if duration > ceiling {
		return store.Grant{}, false, &Problem{Status: http.StatusBadRequest, Code: "duration_exceeds_maximum", Field: "duration",
			Message: fmt.Sprintf("duration: %s is more than the %s this application allows.", duration, ceiling)}
	}
	if duration < s.deps.MinAccessDuration {
		return store.Grant{}, false, &Problem{Status: http.StatusBadRequest, Code: "invalid_duration", Field: "duration",
			Message: fmt.Sprintf("duration: %s is less than the minimum %s.", duration, s.deps.MinAccessDuration)}
	}

	// Once started, a workflow must get its row even if the client went away.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), startTimeout)
	defer cancel()
	wf := workflows.AccessRequestInput{
		GrantID: store.NewID("grt"), TenantID: app.TenantID, ApplicationID: app.ID, TechnicianID: u.ID,
		TechnicianEmail: u.Email, Justification: justification, Duration: duration,
		MaxDuration: s.deps.MaxAccessDuration, RequestedAt: time.Now().UTC(),
	}
	for attempt := 1; ; attempt++ {
		workflowID, runID, err := s.deps.Workflows.Start(sctx, wf)
		if err != nil {
			return store.Grant{}, false, s.workflowProblem(ctx, u, "start", err)
		}
		// A live run of the same (tenant, application, technician) carries an earlier grant id:
		// its row is returned instead of a new one.
		// The run's grant id is derived from its run id (the workflow does the same), so a
		// retried request that finds the run its failed predecessor started still agrees
		// with the workflow on the id.
		g, created, err := s.deps.Store.StartGrant(sctx, store.GrantUpdate{
			GrantID: workflows.GrantIDForRun(runID), WorkflowID: workflowID, RunID: runID, TenantID: wf.TenantID, ApplicationID: wf.ApplicationID,
			TechnicianID: wf.TechnicianID, Status: store.StatusPending, Justification: wf.Justification, RequestedAt: wf.RequestedAt,
		})
		// A run that has recorded its end (revoked, expired…) but not yet closed is still
		// "live" to Temporal; wait for it to close and start a new grant instead of
		// answering with the ended one.
		if err != nil || created || !store.IsTerminal(g.Status) || attempt == 3 {
			return g, created, err
		}
		if err := s.deps.Workflows.WaitClosed(sctx, workflowID, runID); err != nil {
			return store.Grant{}, false, s.workflowProblem(ctx, u, "start", err)
		}
	}
}

// auditDenial records a request refused before any workflow started (the workflow records
// its own denials as grant.denied).
func (s *Server) auditDenial(ctx context.Context, u Actor, app store.Application, reason string) {
	s.auditAs(ctx, u, store.AuditEvent{TenantID: app.TenantID, Action: actionDenied, Target: app.ID,
		Details: map[string]any{"application_id": app.ID, "reason": reason}})
}

func (s *Server) listAccessRequests(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f := store.GrantFilter{Status: c.Query("status"), TenantID: c.Query("tenant_id"),
		TechnicianID: c.Query("technician_id"), ApplicationID: c.Query("application_id")}
	gs, next, err := s.ListGrants(c.Request.Context(), s.actor(c), f, p)
	if err != nil {
		if asProblem(err) != nil {
			s.fail(c, err)
		} else {
			s.listError(c, err)
		}
		return
	}
	out := make([]grantView, len(gs))
	for i, g := range gs {
		out[i] = s.viewGrant(c, g)
	}
	c.JSON(http.StatusOK, list(out, next))
}

// ListGrants lists grants newest first: an admin's all, a technician's their own.
func (s *Server) ListGrants(ctx context.Context, u Actor, f store.GrantFilter, p store.Page) ([]store.Grant, string, error) {
	if f.Status != "" && !store.IsValidStatus(f.Status) {
		return nil, "", fieldProblem("status", "must be one of pending, provisioning, active, revoking, expired, revoked, denied, failed.")
	}
	if u.Role == store.RoleAuditor {
		pr, err := s.principal(ctx, u)
		if err != nil {
			return nil, "", err
		}
		tenant, prob, ok := auditorTenant(pr, f.TenantID)
		if prob != nil {
			return nil, "", prob
		}
		if !ok {
			return nil, "", nil
		}
		f.TenantID = tenant
		return s.deps.Store.Grants(ctx, f, p)
	}
	if !u.IsAdmin() {
		// A technician's list is their own; asking for someone else's finds nothing.
		if f.TechnicianID != "" && f.TechnicianID != u.ID {
			return nil, "", nil
		}
		f.TechnicianID = u.ID
	}
	return s.deps.Store.Grants(ctx, f, p)
}

// VisibleGrant loads a grant the actor may see (its holder or an admin); anyone else is
// told it does not exist.
func (s *Server) VisibleGrant(ctx context.Context, u Actor, grantID string) (store.Grant, error) {
	g, err := s.deps.Store.Grant(ctx, grantID)
	if errors.Is(err, store.ErrNotFound) {
		return g, notFoundProblem("access request")
	}
	if err != nil {
		return g, err
	}
	if g.TechnicianID != u.ID && !u.IsAdmin() {
		if u.Role == store.RoleAuditor {
			p, err := s.principal(ctx, u)
			if err != nil {
				return store.Grant{}, err
			}
			if permission.Allowed(p, permission.ReadGrants, g.TenantID) {
				return g, nil
			}
		}
		return store.Grant{}, notFoundProblem("access request")
	}
	return g, nil
}

// ownGrant is VisibleGrant for actions only the holder may take: an admin who is not the
// holder is refused with 403 (they may see the grant, so its existence is no secret).
func (s *Server) ownGrant(ctx context.Context, u Actor, grantID, action string) (store.Grant, error) {
	g, err := s.VisibleGrant(ctx, u, grantID)
	if err != nil {
		return g, err
	}
	if g.TechnicianID != u.ID {
		return g, problem(http.StatusForbidden, "forbidden", "Only the technician who holds the grant may "+action+".")
	}
	return g, nil
}

func (s *Server) getAccessRequest(c *gin.Context) {
	g, err := s.VisibleGrant(c.Request.Context(), s.actor(c), c.Param("grant_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.viewGrant(c, g))
}

type credentialsView struct {
	UserPrincipalName string    `json:"user_principal_name"`
	Password          string    `json:"password"`
	ExpiresAt         time.Time `json:"expires_at"`
}

func (s *Server) getCredentials(c *gin.Context) {
	// Nothing of this route's answers may be cached, refusals included.
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	creds, err := s.ReadCredentials(c.Request.Context(), s.actor(c), c.Param("grant_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, creds)
}

// ReadCredentials returns the account and managed password of the actor's active grant.
// Every read is an audit event, and no password leaves without one.
func (s *Server) ReadCredentials(ctx context.Context, u Actor, grantID string) (credentialsView, error) {
	g, err := s.ownGrant(ctx, u, grantID, "read its credentials")
	if err != nil {
		return credentialsView{}, err
	}
	notActive := problem(http.StatusConflict, "grant_not_active",
		fmt.Sprintf("The grant is %s; its credentials are available only while it is active.", g.Status))
	if g.Status != store.StatusActive {
		return credentialsView{}, notActive
	}
	upn, password, err := s.deps.Store.Credential(ctx, g.ID)
	if errors.Is(err, store.ErrNotFound) {
		// The account is being disabled; the projection has not caught up yet.
		return credentialsView{}, notActive
	}
	if err != nil {
		return credentialsView{}, err
	}
	// A failed audit write refuses the read.
	if err := s.deps.Store.RecordAudit(context.WithoutCancel(ctx), store.AuditEvent{
		TenantID: g.TenantID, ActorID: u.ID, ActorKind: u.Role, Action: actionCredRead, Target: g.ID,
		Details: map[string]any{"application_id": g.ApplicationID, "account_upn": upn, "workflow_id": g.WorkflowID,
			"run_id": g.RunID, "client_ip": u.ClientIP, "request_id": u.RequestID},
	}); err != nil {
		return credentialsView{}, err
	}
	return credentialsView{UserPrincipalName: upn, Password: password, ExpiresAt: g.ExpiresAt.UTC()}, nil
}

func (s *Server) revokeAccessRequest(c *gin.Context) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !decodeOptionalJSON(c, &in) {
		return
	}
	g, err := s.RevokeGrant(c.Request.Context(), s.actor(c), c.Param("grant_id"), in.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, s.viewGrant(c, g))
}

// RevokeGrant asks the grant's workflow to end it now (its holder or an admin).
func (s *Server) RevokeGrant(ctx context.Context, u Actor, grantID, reason string) (store.Grant, error) {
	reason, err := checkText("reason", reason, maxReasonLength)
	if err != nil {
		return store.Grant{}, err
	}
	g, err := s.VisibleGrant(ctx, u, grantID)
	if err != nil {
		return g, err
	}
	if store.IsTerminal(g.Status) {
		return g, problem(http.StatusConflict, "grant_ended", fmt.Sprintf("The grant has already ended (%s).", g.Status))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), steerTimeout)
	defer cancel()
	// The workflow records grant.revoke_requested with the actor; no event of our own.
	if err := s.deps.Workflows.Revoke(sctx, g.WorkflowID, g.RunID, workflows.RevokeSignal{By: u.ID, ByKind: u.Role, Reason: reason}); err != nil {
		return g, s.workflowProblem(ctx, u, "revoke", err)
	}
	if fresh, err := s.deps.Store.Grant(sctx, g.ID); err == nil {
		g = fresh
	}
	return g, nil
}

func (s *Server) extendAccessRequest(c *gin.Context) {
	var in struct {
		Duration string `json:"duration"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	g, err := s.ExtendGrant(c.Request.Context(), s.actor(c), c.Param("grant_id"), in.Duration)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.viewGrant(c, g))
}

// ExtendGrant moves the expiry of the actor's active grant; the workflow's validator has
// the last word (active, total within JIT_MAX_ACCESS_DURATION) and records grant.extended.
func (s *Server) ExtendGrant(ctx context.Context, u Actor, grantID, duration string) (store.Grant, error) {
	if strings.TrimSpace(duration) == "" {
		return store.Grant{}, &Problem{Status: http.StatusBadRequest, Code: "invalid_duration", Field: "duration",
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
	if g.Status != store.StatusActive {
		return g, problem(http.StatusConflict, "grant_not_active", fmt.Sprintf("The grant is %s; only an active grant can be extended.", g.Status))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), steerTimeout)
	defer cancel()
	res, err := s.deps.Workflows.Extend(sctx, g.WorkflowID, g.RunID, workflows.ExtendRequest{Duration: d, By: u.ID, ByKind: u.Role})
	if err != nil {
		return g, s.workflowProblem(ctx, u, "extend", err)
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
