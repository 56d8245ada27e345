package admin

import (
	"context"
	"errors"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// setRestrictedAdminUnit saves restricted_admin_unit. Turning it on is checked live: the
// restricted-management administrative unit is created (or found) in the customer's tenant and
// the connector's principal given its roles there; a tenant refusal is 400
// restricted_admin_unit_refused naming what the authorizing admin must hold.
func (s *Service) setRestrictedAdminUnit(ctx context.Context, actor domain.Actor, a store.Application, on bool) error {
	units, ok := s.deps.Directory.(store.RestrictedUnitEnsurer)
	if on && !ok {
		return domain.Refuse(domain.Unavailable, "restricted_admin_unit_unavailable", "This connector cannot manage administrative units.")
	}
	if on && a.Authorization == nil {
		return domain.Refuse(domain.Conflict, "application_not_authorized", "Authorize the application first: the administrative unit is created in the customer's tenant.")
	}
	err := s.deps.Store.SetRestrictedAdminUnit(ctx, a.ID, on, units)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, directory.ErrRestrictedUnitRefused):
		return &domain.Error{Kind: domain.Invalid, Code: "restricted_admin_unit_refused", Field: "restricted_admin_unit", Message: "restricted_admin_unit: " +
			directory.ErrRestrictedUnitRefused.Error()}
	case errors.Is(err, store.ErrNotFound):
		return domain.NotFoundError("application")
	}
	return s.directoryError(ctx, actor, "create the restricted administrative unit", err)
}
