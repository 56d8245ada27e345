package tenancy

import (
	"context"
	"fmt"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/identity"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// AddMember gives a technician access to a tenant (idempotent).
func (s *Store) AddMember(ctx context.Context, tenantID, technicianID string) error {
	if err := s.checkTenantAndTechnician(ctx, tenantID, technicianID); err != nil {
		return err
	}
	m := schema.TenantMember{TenantID: tenantID, TechnicianID: technicianID, CreatedAt: s.Clock()}
	if _, err := s.DB.NewInsert().Model(&m).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		if sqlstore.IsForeignKeyViolation(err) {
			return sqlstore.NotFound("tenant or technician", tenantID+"/"+technicianID)
		}
		return fmt.Errorf("add member: %w", err)
	}
	return nil
}

// RemoveMember takes a technician's access to a tenant away (idempotent). Live grants are
// not touched here; revoking them is the caller's decision.
func (s *Store) RemoveMember(ctx context.Context, tenantID, technicianID string) error {
	if err := s.checkTenantAndTechnician(ctx, tenantID, technicianID); err != nil {
		return err
	}
	if _, err := s.DB.NewDelete().Model((*schema.TenantMember)(nil)).
		Where("tenant_id = ? AND technician_id = ?", tenantID, technicianID).Exec(ctx); err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	return nil
}

// IsMember reports whether a technician has access to a tenant.
func (s *Store) IsMember(ctx context.Context, tenantID, technicianID string) (bool, error) {
	ok, err := s.DB.NewSelect().Model((*schema.TenantMember)(nil)).
		Where("tenant_id = ? AND technician_id = ?", tenantID, technicianID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("is member: %w", err)
	}
	return ok, nil
}

// Members lists the technicians with access to a tenant, by e-mail.
func (s *Store) Members(ctx context.Context, tenantID string) ([]identity.Technician, error) {
	var rows []schema.Technician
	err := s.DB.NewSelect().Model(&rows).
		Where("id IN (?)", s.DB.NewSelect().Model((*schema.TenantMember)(nil)).Column("technician_id").Where("tenant_id = ?", tenantID)).
		Order("email").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	out := make([]identity.Technician, len(rows))
	for i, m := range rows {
		out[i] = identity.TechnicianOf(m)
	}
	return out, nil
}

func (s *Store) checkTenantAndTechnician(ctx context.Context, tenantID, technicianID string) error {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return err
	}
	if _, err := s.identity.Technician(ctx, technicianID); err != nil {
		return err
	}
	return nil
}
