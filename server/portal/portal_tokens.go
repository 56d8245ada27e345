package portal

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// The portal's API token page (/my/tokens: everyone manages their own; admins see all) and
// the staff page's deactivate button, over the same methods as /v1/tokens and
// PATCH /v1/technicians/{id}.

func (s *Portal) portalTokens(c *gin.Context) { s.renderTokens(c, http.StatusOK, "", nil) }

func (s *Portal) renderTokens(c *gin.Context, status int, created string, p *access.Error) {
	ctx := c.Request.Context()
	a := s.Actor(c)
	toks, err := s.Svc.Tokens(ctx, a, "")
	if err != nil {
		s.Fail(c, err)
		return
	}
	type row struct {
		store.Token
		Role, Status string
	}
	roles, now := s.HolderRoles(ctx, a, toks), time.Now()
	views := make([]row, len(toks))
	for i, t := range toks {
		v := web.ViewToken(t, roles[t.TechnicianID], now)
		views[i] = row{Token: t, Role: v.Role, Status: v.Status}
	}
	s.Render(c, status, "tokens.html", PageData{Title: "API tokens", Nav: "tokens", Problem: p,
		Data: map[string]any{"Tokens": views, "Created": created, "Name": c.PostForm("name"), "ExpiresIn": c.PostForm("expires_in")}})
}

// portalCreateToken shows the new token once, on the page that answers the form (never in
// a URL, never again).
func (s *Portal) portalCreateToken(c *gin.Context) {
	_, plain, err := s.Svc.CreateToken(c.Request.Context(), s.Actor(c), access.TokenInput{Name: c.PostForm("name"), ExpiresIn: c.PostForm("expires_in")})
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderTokens(c, status, "", p) })
		return
	}
	s.renderTokens(c, http.StatusCreated, plain, nil)
}

func (s *Portal) portalRevokeToken(c *gin.Context) {
	if _, err := s.Svc.RevokeToken(c.Request.Context(), s.Actor(c), c.Param("token_id")); err != nil {
		s.Fail(c, err)
		return
	}
	Redirect(c, "/my/tokens?done=token_revoked")
}
