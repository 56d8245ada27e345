package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/store"
)

// TokenInput is POST /v1/tokens.
type TokenInput struct {
	Name         string `json:"name"`
	Role         string `json:"role"`
	TechnicianID string `json:"technician_id"`
	ExpiresIn    string `json:"expires_in"`
}

// Tokens lists the API tokens the actor may see: an admin everyone's (or one person's with
// technicianID), anyone else their own.
func (s *Service) Tokens(ctx context.Context, a Actor, technicianID string) ([]store.Token, error) {
	if !a.IsAdmin() {
		technicianID = a.ID
	}
	return s.deps.Store.Tokens(ctx, technicianID)
}

// CreateToken issues an API token (shown once) for the actor, or, for an admin, for another
// member of staff. role may narrow the holder's role to technician, never widen it.
func (s *Service) CreateToken(ctx context.Context, a Actor, in TokenInput) (store.Token, string, error) {
	name, err := domain.CheckName("name", in.Name)
	if err != nil {
		return store.Token{}, "", err
	}
	holder := a.Technician
	if in.TechnicianID != "" && in.TechnicianID != a.ID {
		if !a.IsAdmin() {
			return store.Token{}, "", Refuse(Forbidden, "forbidden", "Only an MSP admin may issue tokens for someone else.")
		}
		if holder, err = s.deps.Store.Technician(ctx, in.TechnicianID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return store.Token{}, "", FieldError("technician_id", "no such member of staff.")
			}
			return store.Token{}, "", err
		}
		if !holder.Active {
			return store.Token{}, "", Refuse(Conflict, "technician_inactive", "The member of staff is deactivated.")
		}
	}
	switch in.Role {
	case "", holder.Role:
		in.Role = ""
	case store.RoleTechnician:
		// Narrower only for an admin: an auditor with a technician token could request access.
		if holder.Role != store.RoleAdmin {
			return store.Token{}, "", FieldError("role", "a token cannot have other rights than its holder.")
		}
	case store.RoleAdmin:
		return store.Token{}, "", FieldError("role", "a token cannot have more rights than its holder.")
	default:
		return store.Token{}, "", FieldError("role", `must be "technician" or "admin".`)
	}
	life := defaultTokenLifetime
	if in.ExpiresIn != "" {
		if life, err = checkDuration("expires_in", in.ExpiresIn); err != nil {
			return store.Token{}, "", err
		}
		if life > maxTokenLifetime {
			return store.Token{}, "", FieldError("expires_in", fmt.Sprintf("may not exceed %s.", maxTokenLifetime))
		}
	}
	tok, plain, err := s.deps.Store.CreateToken(ctx, store.NewToken{TechnicianID: holder.ID, Name: name, Role: in.Role, ExpiresAt: time.Now().Add(life)})
	if err != nil {
		return store.Token{}, "", err
	}
	s.Audit(ctx, a, store.AuditEvent{Action: "token.created", Target: tok.ID,
		Details: map[string]any{"technician_id": holder.ID, "name": name, "role": in.Role, "expires_at": tok.ExpiresAt}})
	return tok, plain, nil
}

// RevokeToken ends a token at once: an admin any token, anyone else their own (another's
// token is not found, so its existence is not revealed).
func (s *Service) RevokeToken(ctx context.Context, a Actor, id string) (store.Token, error) {
	tok, err := s.deps.Store.Token(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.IsAdmin() && tok.TechnicianID != a.ID) {
		return store.Token{}, NotFoundError("token")
	}
	if err != nil {
		return store.Token{}, err
	}
	if tok, err = s.deps.Store.RevokeToken(ctx, id); err != nil {
		return store.Token{}, err
	}
	s.Audit(ctx, a, store.AuditEvent{Action: "token.revoked", Target: tok.ID, Details: map[string]any{"technician_id": tok.TechnicianID}})
	return tok, nil
}

// Token lifetimes: a token without expires_in lives defaultTokenLifetime; none lives longer
// than maxTokenLifetime.
const (
	defaultTokenLifetime = 90 * 24 * time.Hour
	maxTokenLifetime     = 366 * 24 * time.Hour
)
