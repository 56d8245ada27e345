package admin

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/store"
)

// SetTechnicianActive deactivates (active false) or reactivates a member of staff.
// Deactivating ends their portal sessions and API tokens at once, then revokes their live
// grants through the workflows. An admin cannot deactivate themselves.
func (s *Service) SetTechnicianActive(ctx context.Context, a domain.Actor, id string, active bool) (store.Technician, error) {
	if !active && id == a.ID {
		return store.Technician{}, domain.Refuse(domain.Conflict, "cannot_deactivate_self", "You cannot deactivate yourself; ask another MSP admin.")
	}
	t, err := s.deps.Store.SetTechnicianActive(ctx, id, active)
	if err != nil {
		return t, domain.RefError(err)
	}
	action := "technician.reactivated"
	if !active {
		action = "technician.deactivated"
	}
	s.Audit(ctx, a, store.AuditEvent{Action: action, Target: t.ID, Details: map[string]any{"email": t.Email}})
	if active {
		return t, nil
	}
	gs, err := s.deps.Store.LiveGrants(ctx, store.GrantFilter{TechnicianID: t.ID})
	if err != nil {
		return t, err
	}
	_, err = s.endGrants(ctx, a, gs, "technician deactivated", false)
	return t, err
}

// CreateTechnician adds a member of the MSP's staff and returns their first API token
// (shown once; only its hash is stored).
func (s *Service) CreateTechnician(ctx context.Context, a domain.Actor, email, displayName, role string) (store.Technician, string, error) {
	email = strings.TrimSpace(email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
		return store.Technician{}, "", domain.FieldError("email", "must be an e-mail address such as alice@msp.example.")
	}
	name, err := domain.CheckName("display_name", displayName)
	if err != nil {
		return store.Technician{}, "", err
	}
	switch role {
	case "":
		role = store.RoleTechnician
	case store.RoleTechnician, store.RoleAdmin, store.RoleAuditor:
	default:
		return store.Technician{}, "", domain.FieldError("role", `must be "technician", "admin" or "auditor".`)
	}
	t, token, err := s.deps.Store.CreateTechnician(ctx, email, name, role)
	if errors.Is(err, store.ErrConflict) {
		return t, "", domain.Refuse(domain.Conflict, "already_exists", "A technician with this e-mail already exists.")
	}
	if err != nil {
		return t, "", err
	}
	s.Audit(ctx, a, store.AuditEvent{Action: "technician.created", Target: t.ID, Details: map[string]any{"email": t.Email, "role": t.Role}})
	return t, token, nil
}
