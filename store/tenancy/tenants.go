package tenancy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Tenant is a customer company of the MSP.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

func tenantOf(m schema.Tenant) Tenant {
	return Tenant{ID: m.ID, Name: m.Name, CreatedAt: sqlstore.UTC(m.CreatedAt)}
}

// CreateTenant adds a customer tenant. A duplicate name is ErrConflict.
func (s *Store) CreateTenant(ctx context.Context, name string) (Tenant, error) {
	m := schema.Tenant{ID: sqlstore.NewID("tnt"), Name: strings.TrimSpace(name), CreatedAt: s.Clock()}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		if sqlstore.IsUniqueViolation(err) {
			return Tenant{}, fmt.Errorf("tenant %q: %w", m.Name, sqlstore.ErrConflict)
		}
		return Tenant{}, fmt.Errorf("create tenant: %w", err)
	}
	return tenantOf(m), nil
}

// Tenant reads one tenant.
func (s *Store) Tenant(ctx context.Context, id string) (Tenant, error) {
	var m schema.Tenant
	if err := s.DB.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return Tenant{}, sqlstore.NoRows(err, "tenant", id)
	}
	return tenantOf(m), nil
}

// Tenants lists tenants, newest first.
func (s *Store) Tenants(ctx context.Context, p sqlstore.Page) ([]Tenant, string, error) {
	var rows []schema.Tenant
	q, err := sqlstore.Paginate(s.DB.NewSelect().Model(&rows), p, "created_at", "id")
	if err != nil {
		return nil, "", sqlstore.ErrCursor(err)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list tenants: %w", err)
	}
	rows, next := sqlstore.Trim(rows, p, func(m schema.Tenant) (time.Time, string) { return m.CreatedAt, m.ID })
	out := make([]Tenant, len(rows))
	for i, m := range rows {
		out[i] = tenantOf(m)
	}
	return out, next, nil
}

// TenantsOf lists the tenants a technician is a member of, by name.
func (s *Store) TenantsOf(ctx context.Context, technicianID string) ([]Tenant, error) {
	var rows []schema.Tenant
	err := s.DB.NewSelect().Model(&rows).
		Where("id IN (?)", s.DB.NewSelect().Model((*schema.TenantMember)(nil)).Column("tenant_id").Where("technician_id = ?", technicianID)).
		Order("name").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("tenants of technician: %w", err)
	}
	out := make([]Tenant, len(rows))
	for i, m := range rows {
		out[i] = tenantOf(m)
	}
	return out, nil
}
