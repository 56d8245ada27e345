package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra/token"
)

// Restricted-management administrative units (RMAU) for JIT accounts
// (graph-facts-auth-methods.md §3). Members of an RMAU can be modified only by principals with
// a role assigned at the unit's scope: tenant-wide roles (Global Administrator included) and
// Graph application permissions do not apply. The connector therefore assigns the principal it
// calls Graph as (the authorizing admin in delegated mode, the application's service principal
// in app-only mode) these roles at the unit's scope:
//   - Privileged Authentication Administrator: authentication methods and TAPs, password, enable/
//     disable and session revocation of any member, admin or not (needed while a grant holds roles);
//   - User Administrator: the non-sensitive properties of members (display name, markers).
const (
	RolePrivilegedAuthAdmin = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	RoleUserAdmin           = "fe930be7-5e62-47db-91af-98c3a49a38b1"

	restrictedUnitName = "jitaccess JIT accounts"
	restrictedUnitDesc = "Just-in-time admin accounts managed by jitaccess. Restricted management: only administrators scoped on this unit can modify its members."
)

// RestrictedUnitRoles are the roles given at the unit's scope to the principal jitaccess calls as.
var RestrictedUnitRoles = []string{RolePrivilegedAuthAdmin, RoleUserAdmin}

// ErrRestrictedUnitRefused is directory.ErrRestrictedUnitRefused (kept here for callers of entra).
var ErrRestrictedUnitRefused = directory.ErrRestrictedUnitRefused

func refused(err error) error {
	var ge *directory.GraphError
	if errors.As(err, &ge) && ge.Status == http.StatusForbidden {
		return fmt.Errorf("%w (%w)", ErrRestrictedUnitRefused, err)
	}
	return err
}

// EnsureRestrictedUnit returns the id of the application's restricted-management administrative
// unit: the recorded one when it still exists (and is restricted), else a new one; then assigns
// RestrictedUnitRoles at its scope to the calling principal (idempotent).
func (c *Client) EnsureRestrictedUnit(ctx context.Context, applicationID, recordedID string) (string, error) {
	var id string
	err := c.do(ctx, applicationID, "ensure the restricted administrative unit", func(ctx context.Context) error {
		if recordedID != "" {
			au, err := c.graph.Directory().AdministrativeUnits().ByAdministrativeUnitId(recordedID).Get(ctx, nil)
			switch {
			case err == nil && derefBool(au.GetIsMemberManagementRestricted()):
				id = deref(au.GetId())
				return nil
			case err == nil:
				return fmt.Errorf("administrative unit %s is not restricted-management (the property is immutable)", recordedID)
			case statusOf(err) != http.StatusNotFound:
				return err
			}
		}
		body := models.NewAdministrativeUnit()
		body.SetDisplayName(ptr(restrictedUnitName))
		body.SetDescription(ptr(restrictedUnitDesc))
		body.SetIsMemberManagementRestricted(ptr(true))
		au, err := c.graph.Directory().AdministrativeUnits().Post(ctx, body, nil)
		if err != nil {
			return err
		}
		id = deref(au.GetId())
		return nil
	})
	if err != nil {
		return "", refused(err)
	}
	if err := c.AssignUnitRoles(ctx, applicationID, id); err != nil {
		return id, err
	}
	return id, nil
}

// AssignUnitRoles assigns RestrictedUnitRoles at the unit's scope to the principal whose token
// the application uses (its oid claim). An existing assignment counts as done.
func (c *Client) AssignUnitRoles(ctx context.Context, applicationID, unitID string) error {
	return refused(c.do(ctx, applicationID, "assign roles at the restricted administrative unit", func(ctx context.Context) error {
		tok, err := c.tokens.AccessToken(ctx, applicationID)
		if err != nil {
			return err
		}
		principal := token.ObjectIDOf(tok)
		if principal == "" {
			return errors.New("entra: the access token names no principal (oid)")
		}
		for _, role := range RestrictedUnitRoles {
			ra := models.NewUnifiedRoleAssignment()
			ra.SetOdataType(ptr("#microsoft.graph.unifiedRoleAssignment"))
			ra.SetRoleDefinitionId(ptr(role))
			ra.SetPrincipalId(ptr(principal))
			ra.SetDirectoryScopeId(ptr("/administrativeUnits/" + unitID))
			_, err := c.graph.RoleManagement().Directory().RoleAssignments().Post(ctx, ra, nil)
			if f := failureOf(err); f != nil && f.IsConflictingObject() {
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	}))
}

// AddToRestrictedUnit makes a user a member of the unit (POST .../members/$ref); already a
// member counts as done. A user not yet replicated answers directory.ErrNotFound (retryable).
func (c *Client) AddToRestrictedUnit(ctx context.Context, applicationID, unitID, objectID string) error {
	return refused(c.do(ctx, applicationID, "add "+objectID+" to the restricted administrative unit", func(ctx context.Context) error {
		ref := models.NewReferenceCreate()
		ref.SetOdataId(ptr(strings.TrimRight(c.cfg.GraphURL, "/") + "/directoryObjects/" + objectID))
		err := c.graph.Directory().AdministrativeUnits().ByAdministrativeUnitId(unitID).Members().Ref().Post(ctx, ref, nil)
		if f := failureOf(err); f != nil && f.Status == http.StatusBadRequest &&
			strings.Contains(strings.ToLower(f.Message), "already exist") {
			return nil
		}
		return err
	}))
}

// ManagementRestricted reads user.isManagementRestricted ($select only).
func (c *Client) ManagementRestricted(ctx context.Context, applicationID, objectID string) (bool, error) {
	var out bool
	err := c.do(ctx, applicationID, "read isManagementRestricted of "+objectID, func(ctx context.Context) error {
		u, err := c.graph.Users().ByUserId(objectID).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "isManagementRestricted"}},
		})
		if err != nil {
			return err
		}
		out = derefBool(u.GetIsManagementRestricted())
		return nil
	})
	return out, err
}
