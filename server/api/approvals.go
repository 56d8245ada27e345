package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/workflows"
	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// Approvals (docs/governance.md): the queue of requests the caller may decide, and the
// decisions. The rules are approvals.Service's; the workflow's Update validator and
// recording activity check again.
func (s *API) approvalRoutes(g *gin.RouterGroup) {
	g.GET("/approvals", s.listApprovals)
	g.POST("/access-requests/:grant_id/approve", s.decideApproval(true))
	g.POST("/access-requests/:grant_id/deny", s.decideApproval(false))
}

type decisionInput struct {
	Comment string `json:"comment"`
}

type approvalStateView struct {
	GrantID         string   `json:"grant_id"`
	Decision        string   `json:"decision"`
	Approvers       []string `json:"approvers"`
	ApprovalsNeeded int      `json:"approvals_needed"`
}

func (s *API) listApprovals(c *gin.Context) {
	gs, err := s.Svc.ApprovalQueue(c.Request.Context(), s.Actor(c))
	if err != nil {
		s.Fail(c, err)
		return
	}
	out := make([]grantView, 0, len(gs))
	for _, g := range gs {
		v := s.viewGrant(c, g)
		v.ApprovalKind = "grant"
		if g.PendingExtension != nil && g.Status != string(workflows.StatusPendingApproval) {
			v.ApprovalKind = "extension"
		}
		out = append(out, v)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

func (s *API) decideApproval(approve bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in decisionInput
		if !DecodeOptionalJSON(c, &in) {
			return
		}
		id := c.Param("grant_id")
		st, err := s.Svc.DecideApproval(c.Request.Context(), s.Actor(c), id, approve, in.Comment)
		if err != nil {
			s.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, viewApprovalState(id, st))
	}
}

func viewApprovalState(grantID string, st approvalstage.ApprovalState) approvalStateView {
	v := approvalStateView{GrantID: grantID, Decision: st.Decision, Approvers: st.Approvers, ApprovalsNeeded: st.ApprovalsNeeded}
	if v.Approvers == nil {
		v.Approvers = []string{}
	}
	return v
}
