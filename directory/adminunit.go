package directory

import "errors"

// ErrRestrictedUnitRefused is the tenant refusing to create or manage the restricted-management
// administrative unit for JIT accounts; its message names what to grant.
var ErrRestrictedUnitRefused = errors.New("the tenant refused the restricted-management administrative unit: " +
	"the authorizing admin must hold Privileged Role Administrator (or Global Administrator) and authorize the " +
	"application again so it holds AdministrativeUnit.ReadWrite.All; app-only mode needs the application permissions " +
	"AdministrativeUnit.ReadWrite.All and RoleManagement.ReadWrite.Directory")
