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
	unit, dir, err := ensureRestrictedUnit(ctx, a.Store, a.Directory, applicationID)
	if err != nil || dir == nil {
		return err
	}
	err = dir.AddToRestrictedUnit(ctx, applicationID, unit, objectID)
	if errors.Is(err, directory.ErrNotFound) {
		// A just-created account may not be replicated yet: retry.
		return temporal.NewApplicationError(fmt.Sprintf("add %s to the restricted administrative unit: %v", objectID, err), ErrTypeReplicationLag)
	}
	return directoryError("add "+objectID+" to the restricted administrative unit", err, false)
}

// ensureRestrictedUnit ensures the unit and the calling principal's roles at its scope when the
// application's setting is on; dir is nil when it is off (or the store cannot tell). PrepareAccount
// calls it too, so that an application authorized again by another admin gets that admin the
// scoped roles before the account is cleaned.
func ensureRestrictedUnit(ctx context.Context, store, directory any, applicationID string) (string, RestrictedUnitDirectory, error) {
	st, ok := store.(RestrictedUnitStore)
	if !ok {
		return "", nil, nil
	}
	on, recorded, err := st.RestrictedAdminUnit(ctx, applicationID)
	if err != nil {
		return "", nil, fmt.Errorf("read restricted_admin_unit of %s: %w", applicationID, err)
	}
	if !on {
		return "", nil, nil
	}
	dir, ok := directory.(RestrictedUnitDirectory)
	if !ok {
		return "", nil, temporal.NewNonRetryableApplicationError("restricted_admin_unit is on but the directory cannot manage administrative units",
			ErrTypeGraphRejected, nil)
	}
	unit, err := dir.EnsureRestrictedUnit(ctx, applicationID, recorded)
	if err != nil {
		return "", nil, directoryError("ensure the restricted administrative unit", err, false)
	}
	if unit != recorded {
		if err := st.SaveAdminUnitID(ctx, applicationID, unit); err != nil {
			return "", nil, err
		}
	}
	return unit, dir, nil
}
