package tenancy

import (
	"context"
	"fmt"

	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// RestrictedUnitEnsurer creates or finds an application's restricted-management administrative
// unit live and gives the connector's principal its roles there (*entra.Client).
type RestrictedUnitEnsurer interface {
	EnsureRestrictedUnit(ctx context.Context, applicationID, recordedID string) (string, error)
}

// RestrictedAdminUnit returns the application's restricted_admin_unit setting and the recorded
// unit id ("" before the unit exists).
func (s *Store) RestrictedAdminUnit(ctx context.Context, applicationID string) (on bool, unitID string, err error) {
	var row struct {
		On     bool   `bun:"restricted_admin_unit"`
		UnitID string `bun:"admin_unit_id"`
	}
	err = s.DB.NewSelect().Table("applications").Column("restricted_admin_unit", "admin_unit_id").
		Where("id = ?", applicationID).Scan(ctx, &row)
	if err != nil {
		return false, "", sqlstore.NoRows(err, "application", applicationID)
	}
	return row.On, row.UnitID, nil
}

// SetRestrictedAdminUnit saves the setting. Turning it on is validated live: the unit is
// ensured in the tenant first (a refusal is directory.ErrRestrictedUnitRefused naming what to
// grant) and its id recorded. Turning it off keeps the id, so the same unit is reused later.
func (s *Store) SetRestrictedAdminUnit(ctx context.Context, applicationID string, on bool, units RestrictedUnitEnsurer) error {
	_, recorded, err := s.RestrictedAdminUnit(ctx, applicationID)
	if err != nil {
		return err
	}
	if on {
		id, err := units.EnsureRestrictedUnit(ctx, applicationID, recorded)
		if err != nil {
			return fmt.Errorf("ensure the restricted administrative unit: %w", err)
		}
		recorded = id
	}
	_, err = s.DB.NewUpdate().Table("applications").
		Set("restricted_admin_unit = ?", on).Set("admin_unit_id = ?", recorded).Set("updated_at = ?", s.Clock()).
		Where("id = ?", applicationID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save restricted_admin_unit: %w", err)
	}
	return nil
}

// SaveAdminUnitID records the unit an activity had to create again (the recorded one was deleted).
func (s *Store) SaveAdminUnitID(ctx context.Context, applicationID, unitID string) error {
	_, err := s.DB.NewUpdate().Table("applications").Set("admin_unit_id = ?", unitID).
		Where("id = ?", applicationID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save admin_unit_id: %w", err)
	}
	return nil
}
