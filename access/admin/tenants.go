package admin

import (
	"context"
	"errors"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/store"
)

// CreateTenant connects a new customer tenant.
func (s *Service) CreateTenant(ctx context.Context, a domain.Actor, name string) (store.Tenant, error) {
	name, err := domain.CheckName("name", name)
	if err != nil {
		return store.Tenant{}, err
	}
	t, err := s.deps.Store.CreateTenant(ctx, name)
	if errors.Is(err, store.ErrConflict) {
		return t, domain.Refuse(domain.Conflict, "already_exists", "A tenant with this name already exists.")
	}
	if err != nil {
		return t, err
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: t.ID, Action: "tenant.created", Target: t.ID, Details: map[string]any{"name": t.Name}})
	return t, nil
}

// Tenant reads one customer tenant (domain.NotFound when missing).
func (s *Service) Tenant(ctx context.Context, tenantID string) (store.Tenant, error) {
	t, err := s.deps.Store.Tenant(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return t, domain.NotFoundError("tenant")
	}
	return t, err
}
