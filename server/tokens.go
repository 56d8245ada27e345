package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

// Token lifetimes: a token without expires_in lives defaultTokenLifetime; none lives longer
// than maxTokenLifetime.
const (
	defaultTokenLifetime = 90 * 24 * time.Hour
	maxTokenLifetime     = 366 * 24 * time.Hour
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
	return tokenView{ID: t.ID, Name: t.Name, TechnicianID: t.TechnicianID, Role: role, Status: status, CreatedAt: t.CreatedAt,
		LastUsedAt: optTime(t.LastUsedAt), ExpiresAt: optTime(t.ExpiresAt), RevokedAt: optTime(t.RevokedAt)}
}

// newTokenInput is POST /v1/tokens.
type newTokenInput struct {
	Name         string `json:"name"`
	Role         string `json:"role"`
	TechnicianID string `json:"technician_id"`
	ExpiresIn    string `json:"expires_in"`
}

// Tokens lists the API tokens the actor may see: an admin everyone's (or one person's with
// technicianID), anyone else their own.
func (s *Server) Tokens(ctx context.Context, a Actor, technicianID string) ([]store.Token, error) {
	if !a.IsAdmin() {
		technicianID = a.ID
	}
	return s.deps.Store.Tokens(ctx, technicianID)
}

// CreateToken issues an API token (shown once) for the actor, or, for an admin, for another
// member of staff. role may narrow the holder's role to technician, never widen it.
func (s *Server) CreateToken(ctx context.Context, a Actor, in newTokenInput) (store.Token, string, error) {
	name, err := checkName("name", in.Name)
	if err != nil {
		return store.Token{}, "", err
	}
	holder := a.Technician
	if in.TechnicianID != "" && in.TechnicianID != a.ID {
		if !a.IsAdmin() {
			return store.Token{}, "", access.Refuse(access.Forbidden, "forbidden", "Only an MSP admin may issue tokens for someone else.")
		}
		if holder, err = s.deps.Store.Technician(ctx, in.TechnicianID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return store.Token{}, "", access.FieldError("technician_id", "no such member of staff.")
			}
			return store.Token{}, "", err
		}
		if !holder.Active {
			return store.Token{}, "", access.Refuse(access.Conflict, "technician_inactive", "The member of staff is deactivated.")
		}
	}
	switch in.Role {
	case "", holder.Role:
		in.Role = ""
	case store.RoleTechnician:
	case store.RoleAdmin:
		return store.Token{}, "", access.FieldError("role", "a token cannot have more rights than its holder.")
	default:
		return store.Token{}, "", access.FieldError("role", `must be "technician" or "admin".`)
	}
	life := defaultTokenLifetime
	if in.ExpiresIn != "" {
		if life, err = checkDuration("expires_in", in.ExpiresIn); err != nil {
			return store.Token{}, "", err
		}
		if life > maxTokenLifetime {
			return store.Token{}, "", access.FieldError("expires_in", fmt.Sprintf("may not exceed %s.", maxTokenLifetime))
		}
	}
	tok, plain, err := s.deps.Store.CreateToken(ctx, store.NewToken{TechnicianID: holder.ID, Name: name, Role: in.Role, ExpiresAt: time.Now().Add(life)})
	if err != nil {
		return store.Token{}, "", err
	}
	s.auditAs(ctx, a, store.AuditEvent{Action: "token.created", Target: tok.ID,
		Details: map[string]any{"technician_id": holder.ID, "name": name, "role": in.Role, "expires_at": tok.ExpiresAt}})
	return tok, plain, nil
}

// RevokeToken ends a token at once: an admin any token, anyone else their own (another's
// token is not found, so its existence is not revealed).
func (s *Server) RevokeToken(ctx context.Context, a Actor, id string) (store.Token, error) {
	tok, err := s.deps.Store.Token(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.IsAdmin() && tok.TechnicianID != a.ID) {
		return store.Token{}, access.NotFoundError("token")
	}
	if err != nil {
		return store.Token{}, err
	}
	if tok, err = s.deps.Store.RevokeToken(ctx, id); err != nil {
		return store.Token{}, err
	}
	s.auditAs(ctx, a, store.AuditEvent{Action: "token.revoked", Target: tok.ID, Details: map[string]any{"technician_id": tok.TechnicianID}})
	return tok, nil
}

// holderRoles maps technician ids to their roles, for the role shown beside tokens.
func (s *Server) holderRoles(ctx context.Context, a Actor, toks []store.Token) map[string]string {
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
	toks, err := s.Tokens(c.Request.Context(), a, c.Query("technician_id"))
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
	var in newTokenInput
	if !decodeJSON(c, &in) {
		return
	}
	a := s.actor(c)
	tok, plain, err := s.CreateToken(c.Request.Context(), a, in)
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
	if _, err := s.RevokeToken(c.Request.Context(), s.actor(c), c.Param("token_id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
