package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

// The portal's API token page (/my/tokens: everyone manages their own; admins see all) and
// the staff page's deactivate button, over the same methods as /v1/tokens and
// PATCH /v1/technicians/{id}.

func (s *Server) portalTokens(c *gin.Context) { s.renderTokens(c, http.StatusOK, "", nil) }

func (s *Server) renderTokens(c *gin.Context, status int, created string, p *access.Error) {
	ctx := c.Request.Context()
	a := s.actor(c)
	toks, err := s.svc.Tokens(ctx, a, "")
	if err != nil {
		s.portalFail(c, err)
		return
	}
	type row struct {
		store.Token
		Role, Status string
	}
	roles, now := s.holderRoles(ctx, a, toks), time.Now()
	views := make([]row, len(toks))
	for i, t := range toks {
		v := viewToken(t, roles[t.TechnicianID], now)
		views[i] = row{Token: t, Role: v.Role, Status: v.Status}
	}
	s.render(c, status, "tokens.html", pageData{Title: "API tokens", Nav: "tokens", Problem: p,
		Data: map[string]any{"Tokens": views, "Created": created, "Name": c.PostForm("name"), "ExpiresIn": c.PostForm("expires_in")}})
}

// portalCreateToken shows the new token once, on the page that answers the form (never in
// a URL, never again).
func (s *Server) portalCreateToken(c *gin.Context) {
	_, plain, err := s.svc.CreateToken(c.Request.Context(), s.actor(c), access.TokenInput{Name: c.PostForm("name"), ExpiresIn: c.PostForm("expires_in")})
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderTokens(c, status, "", p) })
		return
	}
	s.renderTokens(c, http.StatusCreated, plain, nil)
}

func (s *Server) portalRevokeToken(c *gin.Context) {
	if _, err := s.svc.RevokeToken(c.Request.Context(), s.actor(c), c.Param("token_id")); err != nil {
		s.portalFail(c, err)
		return
	}
	redirect(c, "/my/tokens?done=token_revoked")
}

// portalSetStaffActive deactivates or reactivates a member of staff (admins).
func (s *Server) portalSetStaffActive(c *gin.Context) {
	active := c.PostForm("active") == "true"
	if _, err := s.svc.SetTechnicianActive(c.Request.Context(), s.actor(c), c.Param("technician_id"), active); err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderStaff(c, status, p) })
		return
	}
	done := "staff_reactivated"
	if !active {
		done = "staff_deactivated"
	}
	redirect(c, "/admin/staff?done="+done)
}
