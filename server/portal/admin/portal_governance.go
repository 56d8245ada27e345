package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/store"
)

// The governance pages: an application's policy (admins), the approver's queue and the
// decision page (anyone the policy names as an approver). They call the same service
// methods as the JSON API.

func (s *Pages) governancePortalRoutes(in, admin *gin.RouterGroup) {
	admin.GET("/tenants/:tenant_id/applications/:application_id/policy", s.portalPolicy)
	admin.POST("/tenants/:tenant_id/applications/:application_id/policy", s.portalSavePolicy)
	admin.POST("/tenants/:tenant_id/applications/:application_id/policy/reset", s.portalResetPolicy)
	s.notificationPortalRoutes(admin)
	if s.Deps.Workflows != nil {
		in.GET("/approvals", s.portalApprovals)
		in.GET("/approvals/:grant_id", s.portalApproval)
		in.POST("/approvals/:grant_id/approve", s.portalDecide(true))
		in.POST("/approvals/:grant_id/deny", s.portalDecide(false))
	}
}

// policyForm is the policy as the form shows it.
type policyForm struct {
	JustificationRequired bool
	TicketRequired        bool
	TicketPattern         string
	TicketLabel           string
	MaxDuration           string
	MaxTotalDuration      string
	ApprovalRequired      bool
	ApprovalsNeeded       int
	ApproverGroupIDs      []string
	ApprovalTimeout       string
}

func durText(d policy.Duration) string {
	if d == 0 {
		return ""
	}
	return time.Duration(d).String()
}

func formOfPolicy(p policy.Policy) policyForm {
	return policyForm{JustificationRequired: p.Justification == policy.Required, TicketRequired: p.Ticket.Required,
		TicketPattern: p.Ticket.Pattern, TicketLabel: p.Ticket.Label, ApprovalRequired: p.Approval.Required,
		ApprovalsNeeded: p.Approval.ApprovalsNeeded, ApproverGroupIDs: p.Approval.ApproverGroupIDs,
		MaxDuration: durText(p.MaxDuration), MaxTotalDuration: durText(p.MaxTotalDuration), ApprovalTimeout: durText(p.Approval.Timeout)}
}

// document is the form as a whole policy document for PATCH (SPEC §10 shape).
func (f policyForm) document() ([]byte, error) {
	just := policy.Optional
	if f.JustificationRequired {
		just = policy.Required
	}
	groups := f.ApproverGroupIDs
	if groups == nil {
		groups = []string{}
	}
	return json.Marshal(map[string]any{
		"justification": just,
		"ticket":        map[string]any{"required": f.TicketRequired, "pattern": f.TicketPattern, "label": f.TicketLabel},
		"max_duration":  f.MaxDuration, "max_total_duration": f.MaxTotalDuration,
		"approval": map[string]any{"required": f.ApprovalRequired, "approvals_needed": f.ApprovalsNeeded,
			"approver_group_ids": groups, "timeout": f.ApprovalTimeout},
	})
}

func (s *Pages) portalPolicy(c *gin.Context) { s.renderPolicy(c, http.StatusOK, nil, nil) }

func (s *Pages) renderPolicy(c *gin.Context, status int, form *policyForm, p *access.Error) {
	ctx := c.Request.Context()
	a, t, ok := s.portalApplicationOf(c)
	if !ok {
		return
	}
	pol, saved, err := s.Deps.Store.ApplicationPolicy(ctx, a.ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if form == nil {
		f := formOfPolicy(pol)
		form = &f
	}
	groups, err := s.Deps.Store.Groups(ctx, a.TenantID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	var privileged []string
	for _, r := range a.Roles {
		if policy.HasPrivilegedRole([]string{r}) {
			privileged = append(privileged, policy.RoleName(r))
		}
	}
	s.Render(c, status, "policy.html", portal.PageData{Title: "Policy – " + a.Name, Nav: "tenants", Problem: p, Data: map[string]any{
		"Tenant": t, "App": a, "Form": form, "Saved": saved, "Groups": groups, "Privileged": privileged, "Tab": "applications",
		"MaxAccess": portal.FormatDuration(s.Deps.MaxAccessDuration)}})
}

func (s *Pages) policyPath(c *gin.Context) string {
	return portal.ApplicationPath(c.Param("tenant_id"), c.Param("application_id")) + "/policy"
}

func (s *Pages) portalSavePolicy(c *gin.Context) {
	n, _ := strconv.Atoi(strings.TrimSpace(c.PostForm("approvals_needed")))
	form := &policyForm{JustificationRequired: c.PostForm("justification") == policy.Required,
		TicketRequired: c.PostForm("ticket_required") != "", TicketPattern: c.PostForm("ticket_pattern"), TicketLabel: c.PostForm("ticket_label"),
		MaxDuration: strings.TrimSpace(c.PostForm("max_duration")), MaxTotalDuration: strings.TrimSpace(c.PostForm("max_total_duration")),
		ApprovalRequired: c.PostForm("approval_required") != "", ApprovalsNeeded: n,
		ApproverGroupIDs: c.PostFormArray("approver_group_ids"), ApprovalTimeout: strings.TrimSpace(c.PostForm("approval_timeout"))}
	doc, err := form.document()
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.patchPolicy(c, doc, form)
}

func (s *Pages) portalResetPolicy(c *gin.Context) { s.patchPolicy(c, []byte("null"), nil) }

func (s *Pages) patchPolicy(c *gin.Context, doc []byte, form *policyForm) {
	_, err := s.Svc.UpdateApplication(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("application_id"),
		access.ApplicationPatch{Policy: doc})
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderPolicy(c, status, form, p) })
		return
	}
	portal.Redirect(c, s.policyPath(c)+"?done=policy_saved")
}

// approvalRow is a request in the approver's queue.
type approvalRow struct {
	portal.GrantRow
	Roles           []string // names of the application's roles
	Ticket          string
	ApprovalsNeeded int
	Decisions       []store.Approval
	// Extension: the request is this extension of an active grant, not the grant.
	Extension *store.PendingExtension
}

func (s *Pages) approvalRows(ctx context.Context, gs []store.Grant) []approvalRow {
	rows := s.GrantRows(ctx, gs)
	out := make([]approvalRow, len(rows))
	for i, r := range rows {
		out[i] = approvalRow{GrantRow: r}
		if app, err := s.Deps.Store.ApplicationByID(ctx, r.ApplicationID); err == nil {
			for _, id := range app.Roles {
				out[i].Roles = append(out[i].Roles, policy.RoleName(id))
			}
		}
		out[i].Ticket, _ = s.Deps.Store.TicketReference(ctx, r.ID)
		if p, _, err := s.Deps.Store.ApplicationPolicy(ctx, r.ApplicationID); err == nil {
			out[i].ApprovalsNeeded = p.Approval.ApprovalsNeeded
		}
		if p := r.PendingExtension; p != nil && r.Status == store.StatusActive {
			out[i].Extension = p // the request decided is the extension
			out[i].Decisions, _ = s.Deps.Store.ExtensionApprovals(ctx, r.ID, p.Request)
			continue
		}
		out[i].Decisions, _ = s.Deps.Store.Approvals(ctx, r.ID)
	}
	return out
}

func (s *Pages) portalApprovals(c *gin.Context) {
	ctx := c.Request.Context()
	gs, err := s.Svc.ApprovalQueue(ctx, s.Actor(c))
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.Render(c, http.StatusOK, "approvals.html", portal.PageData{Title: "Approvals", Nav: "approvals",
		Data: map[string]any{"Requests": s.approvalRows(ctx, gs)}})
}

func (s *Pages) portalApproval(c *gin.Context) { s.renderApproval(c, http.StatusOK, nil) }

// renderApproval shows one request to an approver: what is asked, why, the requester's
// recent history and the decisions so far, with Approve and Deny.
func (s *Pages) renderApproval(c *gin.Context, status int, p *access.Error) {
	ctx := c.Request.Context()
	actor := s.Actor(c)
	g, err := s.Deps.Store.Grant(ctx, c.Param("grant_id"))
	if err != nil {
		s.Fail(c, access.RefError(err))
		return
	}
	// Only someone who may decide it sees the request here.
	if err := s.Deps.Store.CheckApprover(ctx, g.ID, actor.ID); err != nil {
		if e := access.PolicyError(err); e != nil {
			s.Fail(c, e)
			return
		}
		s.Fail(c, access.RefError(err))
		return
	}
	row := s.approvalRows(ctx, []store.Grant{g})[0]
	history, _, err := s.Deps.Store.Grants(ctx, store.GrantFilter{TechnicianID: g.TechnicianID}, store.Page{Limit: 6})
	if err != nil {
		s.Fail(c, err)
		return
	}
	var past []store.Grant
	for _, h := range history {
		if h.ID != g.ID {
			past = append(past, h)
		}
	}
	s.Render(c, status, "approval.html", portal.PageData{Title: "Approve access to " + row.Application, Nav: "approvals", Problem: p,
		Data: map[string]any{"Request": row, "History": s.GrantRows(ctx, past),
			"Pending": g.Status == store.StatusPendingApproval || row.Extension != nil}})
}

func (s *Pages) portalDecide(approve bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		_, err := s.Svc.DecideApproval(c.Request.Context(), s.Actor(c), c.Param("grant_id"), approve, c.PostForm("comment"))
		if err != nil {
			s.FormFailed(c, err, func(status int, p *access.Error) { s.renderApproval(c, status, p) })
			return
		}
		done := "approved"
		if !approve {
			done = "denied"
		}
		portal.Redirect(c, "/approvals/"+url.PathEscape(c.Param("grant_id"))+"?done="+done)
	}
}
