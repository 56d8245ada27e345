package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/permission"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// AllTenants in an auditor's tenant list gives them every tenant.
const AllTenants = "*"

// SetAuditorTenants replaces the tenants an auditor may see (AllTenants for every one).
func (s *Store) SetAuditorTenants(ctx context.Context, technicianID string, tenantIDs []string) error {
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var t schema.Technician
		if err := tx.NewSelect().Model(&t).Where("id = ?", technicianID).Scan(ctx); err != nil {
			return sqlstore.NoRows(err, "technician", technicianID)
		}
		if t.Role != RoleAuditor {
			return fmt.Errorf("technician %s is a %s, not an auditor: %w", technicianID, t.Role, sqlstore.ErrConflict)
		}
		if _, err := tx.NewDelete().Model((*schema.AuditorTenant)(nil)).Where("technician_id = ?", technicianID).Exec(ctx); err != nil {
			return fmt.Errorf("auditor tenants: %w", err)
		}
		for _, id := range tenantIDs {
			m := schema.AuditorTenant{TechnicianID: technicianID, TenantID: id, CreatedAt: s.Clock()}
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
	if err := s.DB.NewSelect().Model((*schema.AuditorTenant)(nil)).Column("tenant_id").Where("technician_id = ?", t.ID).
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

// MakeAuditor gives a member of staff the auditor role with the tenants they may see
// (AllTenants for every one), in one transaction. A technician who becomes an auditor loses
// their portal sessions and API tokens (a token may carry the old role); an admin is refused
// (ErrConflict). roleChanged says whether the role changed.
func (s *Store) MakeAuditor(ctx context.Context, technicianID string, tenantIDs []string) (t Technician, roleChanged bool, err error) {
	now := s.Clock()
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var m schema.Technician
		q := tx.NewSelect().Model(&m).Where("id = ?", technicianID)
		if schema.IsPostgres(tx) {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return sqlstore.NoRows(err, "technician", technicianID)
		}
		switch m.Role {
		case RoleAuditor:
		case RoleTechnician:
			roleChanged = true
			if _, err := tx.NewUpdate().Model((*schema.Technician)(nil)).Set("role = ?", RoleAuditor).Where("id = ?", technicianID).Exec(ctx); err != nil {
				return err
			}
			if _, err := tx.NewDelete().Model((*schema.PortalSession)(nil)).Where("technician_id = ?", technicianID).Exec(ctx); err != nil {
				return err
			}
			if _, err := tx.NewUpdate().Model((*schema.APIToken)(nil)).Set("revoked_at = ?", now).
				Where("technician_id = ? AND revoked_at IS NULL", technicianID).Exec(ctx); err != nil {
				return err
			}
		default:
			return fmt.Errorf("technician %s is a %s: %w", technicianID, m.Role, sqlstore.ErrConflict)
		}
		if _, err := tx.NewDelete().Model((*schema.AuditorTenant)(nil)).Where("technician_id = ?", technicianID).Exec(ctx); err != nil {
			return err
		}
		for _, id := range tenantIDs {
			row := schema.AuditorTenant{TechnicianID: technicianID, TenantID: id, CreatedAt: now}
			if _, err := tx.NewInsert().Model(&row).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, sqlstore.ErrNotFound) || errors.Is(err, sqlstore.ErrConflict) {
			return Technician{}, false, err
		}
		return Technician{}, false, fmt.Errorf("make auditor: %w", err)
	}
	t, err = s.Technician(ctx, technicianID)
	return t, roleChanged, err
}
