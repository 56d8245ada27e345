package portal

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// The technicians' pages: the applications I may request, a grant with its credentials,
// countdown, Extend and Revoke, and my past grants. An admin is MSP staff too and may use
// them for their own access.

// myApp is an application I may request, with my live grant of it, if any.
type myApp struct {
	web.EntitledApplicationView
	Live      *store.Grant
	Durations []DurationChoice
}

func (s *Portal) portalMy(c *gin.Context) { s.renderMy(c, http.StatusOK, "", nil) }

func (s *Portal) renderMy(c *gin.Context, status int, appID string, p *access.Error) {
	ctx := c.Request.Context()
	actor := s.Actor(c)
	apps, err := s.MyApplications(ctx, actor)
	if err != nil {
		s.Fail(c, err)
		return
	}
	grants, _, err := s.Svc.ListGrants(ctx, actor, store.GrantFilter{TechnicianID: actor.ID}, store.Page{Limit: 100})
	if err != nil {
		s.Fail(c, err)
		return
	}
	var live, past []store.Grant
	liveByApp := map[string]*store.Grant{}
	for i, g := range grants {
		if store.IsTerminal(g.Status) {
			past = append(past, g)
			continue
		}
		live = append(live, g)
		if _, ok := liveByApp[g.ApplicationID]; !ok {
			liveByApp[g.ApplicationID] = &grants[i]
		}
	}
	views := make([]myApp, len(apps))
	for i, a := range apps {
		d, _ := time.ParseDuration(a.AccessDuration)
		ceiling := min(d, s.Deps.MaxAccessDuration)
		views[i] = myApp{EntitledApplicationView: a, Live: liveByApp[a.ID],
			Durations: DurationChoices(s.Deps.MinAccessDuration, ceiling, ceiling)}
	}
	s.Render(c, status, "my.html", PageData{Title: "My access", Nav: "my", Problem: p, Data: map[string]any{
		"Apps": views, "Live": s.GrantRows(ctx, live), "Past": s.GrantRows(ctx, past), "ProblemApp": appID,
		"Justification": c.PostForm("justification"), "Enabled": s.Deps.Workflows != nil}})
}

func (s *Portal) portalRequest(c *gin.Context) {
	in := access.RequestInput{ApplicationID: c.Param("application_id"), Justification: c.PostForm("justification"),
		TicketReference: c.PostForm("ticket_reference")}
	if d := c.PostForm("duration"); d != "" {
		in.Duration = &d
	}
	g, created, err := s.Svc.RequestAccess(c.Request.Context(), s.Actor(c), in)
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderMy(c, status, in.ApplicationID, p) })
		return
	}
	done := "requested"
	if !created {
		done = "already_live"
	}
	Redirect(c, "/my/grants/"+url.PathEscape(g.ID)+"?done="+done)
}

func (s *Portal) portalGrant(c *gin.Context) { s.renderGrant(c, http.StatusOK, nil, nil) }

// renderGrant shows a grant; creds, when given, are shown in clear (the no-script reveal).
func (s *Portal) renderGrant(c *gin.Context, status int, creds *access.Credentials, p *access.Error) {
	ctx := c.Request.Context()
	actor := s.Actor(c)
	g, err := s.Svc.VisibleGrant(ctx, actor, c.Param("grant_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	rows := s.GrantRows(ctx, []store.Grant{g})
	signIn, err := s.Svc.GrantSignIn(ctx, actor, g.ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.Render(c, status, "grant.html", PageData{Title: "Access to " + rows[0].Application, Nav: "my", Problem: p, Data: map[string]any{
		"Grant": rows[0], "Own": g.TechnicianID == actor.ID, "Creds": creds, "Admin": actor.IsAdmin(), "SignIn": signIn,
		// Refresh while the workflow works, including just after a revoke it has not yet picked up.
		"Waiting": g.Status == string(workflows.StatusPending) || g.Status == string(workflows.StatusProvisioning) || g.Status == string(workflows.StatusRevoking) ||
			(c.Query("done") == "revoked" && !store.IsTerminal(g.Status)),
		"Active":     g.Status == string(workflows.StatusActive) && c.Query("done") != "revoked",
		"Ended":      store.IsTerminal(g.Status),
		"Extensions": DurationChoices(s.Deps.MinAccessDuration, s.Deps.MaxAccessDuration, 0),
		"Approval":   s.grantApprovalStatus(ctx, g)}})
}

func (s *Portal) grantPath(c *gin.Context) string {
	return "/my/grants/" + url.PathEscape(c.Param("grant_id"))
}

// portalCredentials reveals the password of my active grant: JSON for the page's script
// (reveal and copy without reloading), else the page with the password shown. Either way
// it goes through ReadCredentials, which audits every read.
func (s *Portal) portalCredentials(c *gin.Context) {
	creds, err := s.Svc.ReadCredentials(c.Request.Context(), s.Actor(c), c.Param("grant_id"))
	wantsJSON := strings.Contains(c.GetHeader("Accept"), "application/json")
	if err != nil {
		if p := access.AsError(err); p != nil && wantsJSON {
			c.JSON(web.StatusOf(p), web.ErrorResponse{Error: web.ErrorBody{Code: p.Code, Message: p.Message}})
			return
		}
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderGrant(c, status, nil, p) })
		return
	}
	if wantsJSON {
		c.JSON(http.StatusOK, creds)
		return
	}
	s.renderGrant(c, http.StatusOK, &creds, nil)
}

func (s *Portal) portalExtend(c *gin.Context) {
	if _, err := s.Svc.ExtendGrant(c.Request.Context(), s.Actor(c), c.Param("grant_id"), c.PostForm("duration")); err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderGrant(c, status, nil, p) })
		return
	}
	Redirect(c, s.grantPath(c)+"?done=extended")
}

func (s *Portal) portalRevoke(c *gin.Context) {
	g, err := s.Svc.RevokeGrant(c.Request.Context(), s.Actor(c), c.Param("grant_id"), c.PostForm("reason"))
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderGrant(c, status, nil, p) })
		return
	}
	// An admin revoking someone else's grant goes back to the grants list.
	if c.PostForm("back") == "grants" {
		Redirect(c, "/admin/grants?done=revoked")
		return
	}
	Redirect(c, "/my/grants/"+url.PathEscape(g.ID)+"?done=revoked")
}
