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
	v := grantView{ID: g.ID, TenantID: g.TenantID, ApplicationID: g.ApplicationID, TechnicianID: g.TechnicianID, Status: g.Status,
		Justification: optString(g.Justification), RequestedAt: g.RequestedAt.UTC(), ActivatedAt: optTime(g.ActivatedAt),
		ExpiresAt: optTime(g.ExpiresAt), EndedAt: optTime(g.EndedAt),
		Account: grantAccountView{UserPrincipalName: optString(g.AccountUPN), ObjectID: optString(g.AccountID)},
		Roles:   g.Roles, WorkflowID: g.WorkflowID, RunID: g.RunID, Failure: optString(g.Failure)}
	if v.Roles == nil {
		v.Roles = []string{}
	}
	if currentUser(c).Role == store.RoleAdmin {
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

// validText checks an optional free-text field: trimmed, bounded, no control characters
// other than line breaks and tabs.
func validText(c *gin.Context, field, v string, maxLen int) (string, bool) {
	v = strings.TrimSpace(v)
	switch {
	case utf8.RuneCountInString(v) > maxLen:
		badField(c, field, fmt.Sprintf("is longer than %d characters.", maxLen))
		return "", false
	case strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f }):
		badField(c, field, "must not contain control characters.")
		return "", false
	}
	return v, true
}

// parseDuration reads a requested duration (Go syntax such as "2h" or "90m"), positive.
func parseDuration(c *gin.Context, field, v string) (time.Duration, bool) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		abort(c, http.StatusBadRequest, "invalid_duration", fmt.Sprintf("%s: %q is not a positive duration such as \"2h\" or \"90m\".", field, v))
		return 0, false
	}
	return d, true
}

func (s *Server) createAccessRequest(c *gin.Context) {
	var in struct {
		ApplicationID string  `json:"application_id"`
		Justification string  `json:"justification"`
		Duration      *string `json:"duration"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	appID := strings.TrimSpace(in.ApplicationID)
	if appID == "" {
		badField(c, "application_id", "is required.")
		return
	}
	justification, ok := validText(c, "justification", in.Justification, maxJustificationLength)
	if !ok {
		return
	}
	var duration time.Duration
	if in.Duration != nil {
		if duration, ok = parseDuration(c, "duration", *in.Duration); !ok {
			return
		}
	}

	ctx := c.Request.Context()
	u := currentUser(c)
	app, err := s.deps.Store.ApplicationByID(ctx, appID)
	if errors.Is(err, store.ErrNotFound) {
		notFoundAnswer(c, "application")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	// A technician outside the application's tenant must not learn that it exists; admins
	// see every application anyway and get the ordinary refusal below.
	if u.Role != store.RoleAdmin {
		member, err := s.deps.Store.IsMember(ctx, app.TenantID, u.ID)
		if err != nil {
			s.internal(c, err)
			return
		}
		if !member {
			s.auditDenial(c, app, "not a member of the application's tenant")
			notFoundAnswer(c, "application")
			return
		}
	}
	// The workflow checks again, authoritatively; this answers refusals at once.
	ent, err := s.deps.Store.CheckEntitlement(ctx, app.TenantID, app.ID, u.ID)
	if err != nil {
		s.internal(c, err)
		return
	}
	if !ent.Allowed {
		if ent.RuleID != "" && app.Status != store.AppReady {
			abort(c, http.StatusConflict, "application_not_ready",
				fmt.Sprintf("The application %s is not ready yet (status %s); ask an MSP admin to finish its configuration.", app.Name, app.Status))
			return
		}
		s.auditDenial(c, app, ent.Reason)
		abort(c, http.StatusForbidden, "not_entitled", ent.Reason)
		return
	}

	// The application's access duration is the default and the ceiling, within JIT_MAX.
	ceiling := min(app.AccessDuration, s.deps.MaxAccessDuration)
	if duration == 0 {
		duration = ceiling
	}
	if duration > ceiling {
		abort(c, http.StatusBadRequest, "duration_exceeds_maximum",
			fmt.Sprintf("duration: %s is more than the %s this application allows.", duration, ceiling))
		return
	}
	if duration < s.deps.MinAccessDuration {
		abort(c, http.StatusBadRequest, "invalid_duration",
			fmt.Sprintf("duration: %s is less than the minimum %s.", duration, s.deps.MinAccessDuration))
		return
	}

	// Once started, a workflow must get its row even if the client went away.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), startTimeout)
	defer cancel()
	wf := workflows.AccessRequestInput{
		GrantID: store.NewID("grt"), TenantID: app.TenantID, ApplicationID: app.ID, TechnicianID: u.ID,
		TechnicianEmail: u.Email, Justification: justification, Duration: duration,
		MaxDuration: s.deps.MaxAccessDuration, RequestedAt: time.Now().UTC(),
	}
	workflowID, runID, err := s.deps.Workflows.Start(sctx, wf)
	if err != nil {
		s.workflowError(c, err)
		return
	}
	// A live run of the same (tenant, application, technician) carries an earlier grant id:
	// its row is returned instead of a new one.
	g, created, err := s.deps.Store.StartGrant(sctx, store.GrantUpdate{
		GrantID: wf.GrantID, WorkflowID: workflowID, RunID: runID, TenantID: wf.TenantID, ApplicationID: wf.ApplicationID,
		TechnicianID: wf.TechnicianID, Status: store.StatusPending, Justification: wf.Justification, RequestedAt: wf.RequestedAt,
	})
	if err != nil {
		s.internal(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusAccepted
	}
	c.JSON(status, s.viewGrant(c, g))
}

// auditDenial records a request refused before any workflow started (the workflow records
// its own denials as grant.denied).
func (s *Server) auditDenial(c *gin.Context, app store.Application, reason string) {
	s.audit(c, store.AuditEvent{TenantID: app.TenantID, Action: actionDenied, Target: app.ID,
		Details: map[string]any{"application_id": app.ID, "reason": reason}})
}

func (s *Server) listAccessRequests(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f := store.GrantFilter{Status: c.Query("status"), TenantID: c.Query("tenant_id"),
		TechnicianID: c.Query("technician_id"), ApplicationID: c.Query("application_id")}
	if f.Status != "" && !store.IsValidStatus(f.Status) {
		badField(c, "status", "must be one of pending, provisioning, active, revoking, expired, revoked, denied, failed.")
		return
	}
	u := currentUser(c)
	if u.Role != store.RoleAdmin {
		// A technician's list is their own; asking for someone else's finds nothing.
		if f.TechnicianID != "" && f.TechnicianID != u.ID {
			c.JSON(http.StatusOK, list([]grantView{}, ""))
			return
		}
		f.TechnicianID = u.ID
	}
	gs, next, err := s.deps.Store.Grants(c.Request.Context(), f, p)
	if err != nil {
		s.listError(c, err)
		return
	}
	out := make([]grantView, len(gs))
	for i, g := range gs {
		out[i] = s.viewGrant(c, g)
	}
	c.JSON(http.StatusOK, list(out, next))
}

// grant loads the path's grant if the caller may see it (its holder or an admin); anyone
// else is told it does not exist.
func (s *Server) grant(c *gin.Context) (store.Grant, bool) {
	g, err := s.deps.Store.Grant(c.Request.Context(), c.Param("grant_id"))
	if errors.Is(err, store.ErrNotFound) {
		notFoundAnswer(c, "access request")
		return g, false
	}
	if err != nil {
		s.internal(c, err)
		return g, false
	}
	u := currentUser(c)
	if g.TechnicianID != u.ID && u.Role != store.RoleAdmin {
		notFoundAnswer(c, "access request")
		return g, false
	}
	return g, true
}

// ownGrant is grant for actions only the holder may take: an admin who is not the holder
// is refused with 403 (they may see the grant, so its existence is no secret).
func (s *Server) ownGrant(c *gin.Context, action string) (store.Grant, bool) {
	g, ok := s.grant(c)
	if !ok {
		return g, false
	}
	if g.TechnicianID != currentUser(c).ID {
		abort(c, http.StatusForbidden, "forbidden", "Only the technician who holds the grant may "+action+".")
		return g, false
	}
	return g, true
}

func (s *Server) getAccessRequest(c *gin.Context) {
	g, ok := s.grant(c)
	if !ok {
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
	g, ok := s.ownGrant(c, "read its credentials")
	if !ok {
		return
	}
	notActive := func() {
		abort(c, http.StatusConflict, "grant_not_active",
			fmt.Sprintf("The grant is %s; its credentials are available only while it is active.", g.Status))
	}
	if g.Status != store.StatusActive {
		notActive()
		return
	}
	ctx := c.Request.Context()
	upn, password, err := s.deps.Store.Credential(ctx, g.ID)
	if errors.Is(err, store.ErrNotFound) {
		// The account is being disabled; the projection has not caught up yet.
		notActive()
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	// No password leaves without its audit event: a failed write refuses the read.
	u := currentUser(c)
	if err := s.deps.Store.RecordAudit(context.WithoutCancel(ctx), store.AuditEvent{
		TenantID: g.TenantID, ActorID: u.ID, ActorKind: u.Role, Action: actionCredRead, Target: g.ID,
		Details: map[string]any{"application_id": g.ApplicationID, "account_upn": upn, "workflow_id": g.WorkflowID,
			"run_id": g.RunID, "client_ip": c.ClientIP(), "request_id": c.GetString(requestIDKey)},
	}); err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusOK, credentialsView{UserPrincipalName: upn, Password: password, ExpiresAt: g.ExpiresAt.UTC()})
}

func (s *Server) revokeAccessRequest(c *gin.Context) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !decodeOptionalJSON(c, &in) {
		return
	}
	reason, ok := validText(c, "reason", in.Reason, maxReasonLength)
	if !ok {
		return
	}
	g, ok := s.grant(c)
	if !ok {
		return
	}
	if store.IsTerminal(g.Status) {
		abort(c, http.StatusConflict, "grant_ended", fmt.Sprintf("The grant has already ended (%s).", g.Status))
		return
	}
	u := currentUser(c)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), steerTimeout)
	defer cancel()
	// The workflow records grant.revoke_requested with the actor; no event of our own.
	if err := s.deps.Workflows.Revoke(ctx, g.WorkflowID, g.RunID, workflows.RevokeSignal{By: u.ID, ByKind: u.Role, Reason: reason}); err != nil {
		s.workflowError(c, err)
		return
	}
	if fresh, err := s.deps.Store.Grant(ctx, g.ID); err == nil {
		g = fresh
	}
	c.JSON(http.StatusAccepted, s.viewGrant(c, g))
}

func (s *Server) extendAccessRequest(c *gin.Context) {
	var in struct {
		Duration string `json:"duration"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	if strings.TrimSpace(in.Duration) == "" {
		abort(c, http.StatusBadRequest, "invalid_duration", `duration: is required, a duration such as "1h".`)
		return
	}
	d, ok := parseDuration(c, "duration", in.Duration)
	if !ok {
		return
	}
	g, ok := s.ownGrant(c, "extend it")
	if !ok {
		return
	}
	if g.Status != store.StatusActive {
		abort(c, http.StatusConflict, "grant_not_active", fmt.Sprintf("The grant is %s; only an active grant can be extended.", g.Status))
		return
	}
	u := currentUser(c)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), steerTimeout)
	defer cancel()
	// The workflow's validator has the last word (active, total within JIT_MAX_ACCESS_DURATION)
	// and records grant.extended.
	res, err := s.deps.Workflows.Extend(ctx, g.WorkflowID, g.RunID, workflows.ExtendRequest{Duration: d, By: u.ID, ByKind: u.Role})
	if err != nil {
		s.workflowError(c, err)
		return
	}
	if fresh, err := s.deps.Store.Grant(ctx, g.ID); err == nil {
		g = fresh
	}
	// The update completes after its projection write; should that write have been lost,
	// the workflow's answer is still the truth (at the database's microsecond precision).
	if exp := res.ExpiresAt.UTC().Truncate(time.Microsecond); exp.After(g.ExpiresAt) {
		g.ExpiresAt = exp
	}
	c.JSON(http.StatusOK, s.viewGrant(c, g))
}

// workflowError answers a failure of the workflow engine: a refusal as such, an outage as
// 503, anything else as 500.
func (s *Server) workflowError(c *gin.Context, err error) {
	var refusal *RefusalError
	switch {
	case errors.As(err, &refusal):
		abort(c, refusal.Status, refusal.Code, refusal.Message)
	case errors.Is(err, ErrWorkflowsUnavailable), errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(c.Request.Context(), "workflow engine unavailable",
			"request_id", c.GetString(requestIDKey), "route", c.FullPath(), "error", err)
		c.Header("Retry-After", "5")
		abort(c, http.StatusServiceUnavailable, "workflow_engine_unavailable", "The workflow engine is not reachable right now; try again shortly.")
	default:
		s.internal(c, err)
	}
}
