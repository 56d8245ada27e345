package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

// tokenRoutes are open to every member of staff: admins manage everyone's tokens, others
// their own.
func (s *Server) tokenRoutes(g *gin.RouterGroup) {
	g.GET("/tokens", s.listTokens)
	g.POST("/tokens", s.createToken)
	g.DELETE("/tokens/:token_id", s.deleteToken)
}

type tokenView struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	TechnicianID string     `json:"technician_id"`
	Role         string     `json:"role"`
	Kind         string     `json:"kind"`   // "" or "extension"
	Status       string     `json:"status"` // active | expired | revoked
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	Token        string     `json:"token,omitempty"`
}

func viewToken(t store.Token, holderRole string, now time.Time) tokenView {
	status := "active"
	switch {
	case !t.RevokedAt.IsZero():
		status = "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		status = "expired"
	}
	role := t.Role
	if role == "" {
		role = holderRole
	}
	return tokenView{ID: t.ID, Name: t.Name, TechnicianID: t.TechnicianID, Role: role, Kind: t.Kind, Status: status, CreatedAt: t.CreatedAt,
		LastUsedAt: optTime(t.LastUsedAt), ExpiresAt: optTime(t.ExpiresAt), RevokedAt: optTime(t.RevokedAt)}
}

// holderRoles maps technician ids to their roles, for the role shown beside tokens.
func (s *Server) holderRoles(ctx context.Context, a access.Actor, toks []store.Token) map[string]string {
	roles := map[string]string{a.ID: a.Role}
	for _, t := range toks {
		if _, ok := roles[t.TechnicianID]; !ok {
			if h, err := s.deps.Store.Technician(ctx, t.TechnicianID); err == nil {
				roles[t.TechnicianID] = h.Role
			}
		}
	}
	return roles
}

func (s *Server) listTokens(c *gin.Context) {
	a := s.actor(c)
	toks, err := s.svc.Tokens(c.Request.Context(), a, c.Query("technician_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	roles, now := s.holderRoles(c.Request.Context(), a, toks), time.Now()
	out := make([]tokenView, len(toks))
	for i, t := range toks {
		out[i] = viewToken(t, roles[t.TechnicianID], now)
	}
	c.JSON(http.StatusOK, list(out, ""))
}

func (s *Server) createToken(c *gin.Context) {
	var in access.TokenInput
	if !decodeJSON(c, &in) {
		return
	}
	a := s.actor(c)
	tok, plain, err := s.svc.CreateToken(c.Request.Context(), a, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := viewToken(tok, s.holderRoles(c.Request.Context(), a, []store.Token{tok})[tok.TechnicianID], time.Now())
	v.Token = plain // shown once; only its hash is stored
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, v)
}

func (s *Server) deleteToken(c *gin.Context) {
	if _, err := s.svc.RevokeToken(c.Request.Context(), s.actor(c), c.Param("token_id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
