package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/directory"
)

// RestrictedUnitStore is the part of *store.Store for the restricted_admin_unit setting.
type RestrictedUnitStore interface {
	RestrictedAdminUnit(ctx context.Context, applicationID string) (on bool, unitID string, err error)
	SaveAdminUnitID(ctx context.Context, applicationID, unitID string) error
}

// RestrictedUnitDirectory is the part of *entra.Client placing JIT accounts in the unit.
type RestrictedUnitDirectory interface {
	EnsureRestrictedUnit(ctx context.Context, applicationID, recordedID string) (string, error)
	AddToRestrictedUnit(ctx context.Context, applicationID, unitID, objectID string) error
}

// placeInRestrictedUnit puts the account in the application's restricted-management
// administrative unit when its restricted_admin_unit setting is on (read from the database,
// never from workflow input): the unit is ensured (and the connector's AU-scoped roles with
// it), then the account added; both are idempotent. Stores or directories without the
// capability (test doubles) leave the account where it is when the setting cannot be read.
func (a *Activities) placeInRestrictedUnit(ctx context.Context, applicationID, objectID string) error {
	st, ok := a.Store.(RestrictedUnitStore)
	if !ok {
		return nil
	}
	on, recorded, err := st.RestrictedAdminUnit(ctx, applicationID)
	if err != nil {
		return fmt.Errorf("read restricted_admin_unit of %s: %w", applicationID, err)
	}
	if !on {
		return nil
	}
	dir, ok := a.Directory.(RestrictedUnitDirectory)
	if !ok {
		return temporal.NewNonRetryableApplicationError("restricted_admin_unit is on but the directory cannot manage administrative units",
			ErrTypeGraphRejected, nil)
	}
	unit, err := dir.EnsureRestrictedUnit(ctx, applicationID, recorded)
	if err != nil {
		return directoryError("ensure the restricted administrative unit", err, false)
	}
	if unit != recorded {
		if err := st.SaveAdminUnitID(ctx, applicationID, unit); err != nil {
			return err
		}
	}
	err = dir.AddToRestrictedUnit(ctx, applicationID, unit, objectID)
	if errors.Is(err, directory.ErrNotFound) {
		// A just-created account may not be replicated yet: retry.
		return temporal.NewApplicationError(fmt.Sprintf("add %s to the restricted administrative unit: %v", objectID, err), ErrTypeReplicationLag)
	}
	return directoryError("add "+objectID+" to the restricted administrative unit", err, false)
}
