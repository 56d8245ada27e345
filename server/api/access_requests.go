package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
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

func (s *API) accessRequestRoutes(g *gin.RouterGroup) {
	g.POST("/access-requests", s.createAccessRequest)
	g.GET("/access-requests", s.listAccessRequests)
	g.GET("/access-requests/:grant_id", s.getAccessRequest)
	g.GET("/access-requests/:grant_id/credentials", s.getCredentials)
	g.POST("/access-requests/:grant_id/revoke", s.revokeAccessRequest)
	g.POST("/access-requests/:grant_id/extend", s.extendAccessRequest)
	s.approvalRoutes(g)
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
	// PendingExtension: an extension past the approved duration awaiting the approvers.
	PendingExtension *pendingExtensionView `json:"pending_extension,omitempty"`
	// ApprovalKind is set in the approver queue: "grant" or "extension".
	ApprovalKind string `json:"approval_kind,omitempty"`
}

type pendingExtensionView struct {
	Duration    string    `json:"duration"`
	RequestedAt time.Time `json:"requested_at"`
	RequestedBy string    `json:"requested_by"`
}

func (s *API) viewGrant(c *gin.Context, g store.Grant) grantView {
	return s.grantViewFor(web.CurrentUser(c), g)
}

// grantViewFor is the grant as the given member of staff sees it.
func (s *API) grantViewFor(u store.Technician, g store.Grant) grantView {
	v := grantView{ID: g.ID, TenantID: g.TenantID, ApplicationID: g.ApplicationID, TechnicianID: g.TechnicianID, Status: g.Status,
		Justification: web.OptString(g.Justification), RequestedAt: g.RequestedAt.UTC(), ActivatedAt: web.OptTime(g.ActivatedAt),
		ExpiresAt: web.OptTime(g.ExpiresAt), EndedAt: web.OptTime(g.EndedAt),
		Account: grantAccountView{UserPrincipalName: web.OptString(g.AccountUPN), ObjectID: web.OptString(g.AccountID)},
		Roles:   g.Roles, WorkflowID: g.WorkflowID, RunID: g.RunID, Failure: web.OptString(g.Failure)}
	if v.Roles == nil {
		v.Roles = []string{}
	}
	if p := g.PendingExtension; p != nil {
		v.PendingExtension = &pendingExtensionView{Duration: p.Duration.String(), RequestedAt: p.RequestedAt.UTC(), RequestedBy: p.By}
	}
	if u.Role == store.RoleAdmin {
		v.TemporalURL = s.TemporalURL(g.WorkflowID, g.RunID)
	}
	return v
}

func (s *API) createAccessRequest(c *gin.Context) {
	var in access.RequestInput
	if !DecodeJSON(c, &in) {
		return
	}
	g, created, err := s.Svc.RequestAccess(c.Request.Context(), s.Actor(c), in)
	if err != nil {
		s.Fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusAccepted
	}
	c.JSON(status, s.viewGrant(c, g))
}

func (s *API) listAccessRequests(c *gin.Context) {
	p, ok := Page(c)
	if !ok {
		return
	}
	f := store.GrantFilter{Status: c.Query("status"), TenantID: c.Query("tenant_id"),
		TechnicianID: c.Query("technician_id"), ApplicationID: c.Query("application_id")}
	gs, next, err := s.Svc.ListGrants(c.Request.Context(), s.Actor(c), f, p)
	if err != nil {
		if access.AsError(err) != nil {
			s.Fail(c, err)
		} else {
			s.ListError(c, err)
		}
		return
	}
	out := make([]grantView, len(gs))
	for i, g := range gs {
		out[i] = s.viewGrant(c, g)
	}
	c.JSON(http.StatusOK, List(out, next))
}

func (s *API) getAccessRequest(c *gin.Context) {
	g, err := s.Svc.VisibleGrant(c.Request.Context(), s.Actor(c), c.Param("grant_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.viewGrant(c, g))
}

func (s *API) getCredentials(c *gin.Context) {
	// Nothing of this route's answers may be cached, refusals included.
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	creds, err := s.Svc.ReadCredentials(c.Request.Context(), s.Actor(c), c.Param("grant_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, creds)
}

func (s *API) revokeAccessRequest(c *gin.Context) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !DecodeOptionalJSON(c, &in) {
		return
	}
	g, err := s.Svc.RevokeGrant(c.Request.Context(), s.Actor(c), c.Param("grant_id"), in.Reason)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, s.viewGrant(c, g))
}

func (s *API) extendAccessRequest(c *gin.Context) {
	var in struct {
		Duration string `json:"duration"`
	}
	if !DecodeJSON(c, &in) {
		return
	}
	g, err := s.Svc.ExtendGrantOnce(c.Request.Context(), s.Actor(c), c.Param("grant_id"), in.Duration, c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.viewGrant(c, g))
}
