package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/permission"
	"github.com/jitaccess/jitaccess/schema"
)

// AllTenants in an auditor's tenant list gives them every tenant.
const AllTenants = "*"

// SetAuditorTenants replaces the tenants an auditor may see (AllTenants for every one).
func (s *Store) SetAuditorTenants(ctx context.Context, technicianID string, tenantIDs []string) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var t schema.Technician
		if err := tx.NewSelect().Model(&t).Where("id = ?", technicianID).Scan(ctx); err != nil {
			return noRows(err, "technician", technicianID)
		}
		if t.Role != RoleAuditor {
			return fmt.Errorf("technician %s is a %s, not an auditor: %w", technicianID, t.Role, ErrConflict)
		}
		if _, err := tx.NewDelete().Model((*schema.AuditorTenant)(nil)).Where("technician_id = ?", technicianID).Exec(ctx); err != nil {
			return fmt.Errorf("auditor tenants: %w", err)
		}
		for _, id := range tenantIDs {
			m := schema.AuditorTenant{TechnicianID: technicianID, TenantID: id, CreatedAt: s.clock()}
			if _, err := tx.NewInsert().Model(&m).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("auditor tenants: %w", err)
			}
		}
		return nil
	})
}

// Principal is what package permission needs to decide for a member of staff: the role and,
// for an auditor, the tenants given to them (none until an admin gives some).
func (s *Store) Principal(ctx context.Context, t Technician) (permission.Principal, error) {
	p := permission.Principal{Role: t.Role}
	if t.Role != RoleAuditor {
		return p, nil
	}
	var ids []string
	if err := s.db.NewSelect().Model((*schema.AuditorTenant)(nil)).Column("tenant_id").Where("technician_id = ?", t.ID).
		Order("tenant_id").Scan(ctx, &ids); err != nil {
		return p, fmt.Errorf("auditor tenants: %w", err)
	}
	for _, id := range ids {
		if id == AllTenants {
			p.Scope.All = true
		} else {
			p.Scope.Tenants = append(p.Scope.Tenants, id)
		}
	}
	return p, nil
}
