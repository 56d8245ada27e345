package entrasim

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// Restricted management: which writes an RMAU blocks, and who may still make them.

// rmauWrite is the kind of write on a user, for the restricted-management check.
type rmauWrite int

const (
	rmauProps     rmauWrite = iota // non-sensitive properties
	rmauSensitive                  // accountEnabled, UPN, phones, otherMails, immutable id, delete
	rmauPassword                   // passwordProfile or resetPassword
	rmauMethods                    // authentication methods, TAP
	rmauRevoke                     // revokeSignInSessions
)

// rmauDenied enforces restricted management: a user in an RMAU can be modified only by a
// principal (the signed-in user, or the app's service principal: Graph application permissions
// do not apply) holding a suitable role assigned at the scope of an RMAU containing the user.
// Tenant-scoped roles, Global Administrator included, do not count. AU-scoped roles cannot act on
// administrators except Privileged Authentication Administrator, and nobody can reset the
// password of a Global Administrator inside an RMAU. Microsoft does not document the Graph error
// body of such a refusal: the emulator answers 403 Authorization_RequestDenied with Graph's usual
// "Insufficient privileges" message, as for any other missing privilege.
func (gr *graphReq) rmauDenied(t *tenant, target *user, ws ...rmauWrite) *gresp {
	units := t.restrictedUnits(target.ID)
	if len(units) == 0 {
		return nil
	}
	caller := gr.pr.userID
	if gr.pr.app {
		caller = servicePrincipalID(t.ID)
	}
	if strings.EqualFold(caller, target.ID) {
		return nil
	}
	for _, w := range ws {
		if !rmauAllowed(t, caller, target, units, w) {
			return gr.ids.forbidden()
		}
	}
	return nil
}

// rmauKind classifies a PATCH body ("sensitive" properties per Learn /graph/api/resources/users).
func (in *userInput) rmauKind() []rmauWrite {
	var out []rmauWrite
	if in.hasProfile || in.password != nil {
		out = append(out, rmauPassword)
	}
	sensitive := in.enabled != nil || in.upn != nil
	props := in.display != nil || in.nick != nil
	for k := range in.props {
		switch k {
		case "mobilePhone", "businessPhones", "otherMails", "onPremisesImmutableId":
			sensitive = true
		default:
			props = true
		}
	}
	if sensitive {
		out = append(out, rmauSensitive)
	}
	if props {
		out = append(out, rmauProps)
	}
	return out
}

func rmauAllowed(t *tenant, caller string, target *user, units []string, w rmauWrite) bool {
	admin := t.hasRole(target.ID, allRoleIDs()...)
	var ok []string
	switch w {
	case rmauProps:
		ok = []string{roleUserAdmin}
	case rmauSensitive:
		ok = []string{roleUserAdmin, rolePrivilegedAuthAdmin}
	case rmauPassword:
		if t.hasRole(target.ID, roleGlobalAdmin) {
			return false // a Global Administrator in an RMAU: no AU-scoped role can reset the password
		}
		ok = []string{roleUserAdmin, roleHelpdeskAdmin, rolePasswordAdmin, roleAuthAdmin, rolePrivilegedAuthAdmin}
	case rmauMethods:
		ok = []string{roleAuthAdmin, rolePrivilegedAuthAdmin}
	case rmauRevoke:
		ok = []string{roleUserAdmin, roleHelpdeskAdmin, rolePasswordAdmin, roleAuthAdmin, rolePrivilegedAuthAdmin}
	}
	if admin && w != rmauProps {
		ok = []string{rolePrivilegedAuthAdmin}
	}
	for _, a := range t.Assignments {
		if !strings.EqualFold(a.PrincipalID, caller) || !containsFold(ok, a.RoleDefinitionID) {
			continue
		}
		for _, u := range units {
			if strings.EqualFold(a.DirectoryScopeID, auScope(u)) {
				return true
			}
		}
	}
	return false
}

func allRoleIDs() []string {
	out := make([]string, len(builtinRoles))
	for i := range builtinRoles {
		out[i] = builtinRoles[i].ID
	}
	return out
}

// scopedAssignmentCheck validates a role assignment at "/administrativeUnits/{id}": the unit must
// exist and the role must be one of those assignable at an administrative unit's scope; any other
// built-in role gets the (legacy-shaped) 400 Microsoft documents.
func scopedAssignmentCheck(gr *graphReq, t *tenant, roleID, scope string) *gresp {
	auID := strings.TrimPrefix(scope, "/administrativeUnits/")
	if !isGUID(auID) || t.adminUnit(auID) == nil {
		return gr.ids.badRequest("Invalid value specified for property 'directoryScopeId' of resource 'UnifiedRoleAssignment'.")
	}
	if roleByID(roleID) != nil && !containsFold(auAssignableRoles, roleID) {
		return &gresp{status: http.StatusBadRequest, body: map[string]any{"odata.error": map[string]any{
			"code": "Request_BadRequest", "message": map[string]any{
				"message": "The given built-in role is not supported to be assigned to a single resource scope."}}}}
	}
	return nil
}

// scopedAssignmentID: Graph's id format for AU-scoped assignments is not documented; this one
// is stable per (role, principal, scope) and distinct from the tenant-wide assignment's id.
func scopedAssignmentID(roleID, principalID, scope string) string {
	auID := strings.TrimPrefix(scope, "/administrativeUnits/")
	b := append(guidBytes(strings.ToLower(roleID)), guidBytes(strings.ToLower(principalID))...)
	b = append(b, guidBytes(strings.ToLower(auID))...)
	return base64.RawURLEncoding.EncodeToString(b) + "-1"
}

// managementRestrictedLocked is user.isManagementRestricted: a member of any RMAU ($select only).
func (s *Server) managementRestrictedLocked(u *user) bool {
	for _, t := range s.st.Tenants {
		if t.Users[u.ID] == u {
			return len(t.restrictedUnits(u.ID)) > 0
		}
	}
	return false
}
