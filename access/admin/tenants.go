package access

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/jitaccess/jitaccess/store"
)

// checkName checks a required display name; the refusal names the field.
func checkName(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", FieldError(field, "is required.")
	case utf8.RuneCountInString(v) > maxNameLength:
		return "", FieldError(field, "is longer than 200 characters.")
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", FieldError(field, "must not contain control characters.")
	}
	return v, nil
}

// CreateTenant connects a new customer tenant.
func (s *Service) CreateTenant(ctx context.Context, a Actor, name string) (store.Tenant, error) {
	name, err := checkName("name", name)
	if err != nil {
		return store.Tenant{}, err
	}
	t, err := s.deps.Store.CreateTenant(ctx, name)
	if errors.Is(err, store.ErrConflict) {
		return t, Refuse(Conflict, "already_exists", "A tenant with this name already exists.")
	}
	if err != nil {
		return t, err
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: t.ID, Action: "tenant.created", Target: t.ID, Details: map[string]any{"name": t.Name}})
	return t, nil
}

// Tenant reads one customer tenant (NotFound when missing).
func (s *Service) Tenant(ctx context.Context, tenantID string) (store.Tenant, error) {
	t, err := s.deps.Store.Tenant(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return t, NotFoundError("tenant")
	}
	return t, err
}
