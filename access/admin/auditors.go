package admin

import (
	"context"
	"errors"
	"slices"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/permission"
	"github.com/jitaccess/jitaccess/store"
)

// maxAuditedTenants bounds one assignment.
const maxAuditedTenants = 500

// AuditorScope is the tenants an auditor may see.
type AuditorScope struct {
	TechnicianID string
	All          bool
	TenantIDs    []string
}

// AuditorTenants reads the scope of an auditor (admins only).
func (s *Service) AuditorTenants(ctx context.Context, a domain.Actor, technicianID string) (AuditorScope, error) {
	if _, ok, err := s.allowedOn(ctx, a, permission.AssignAuditors, ""); err != nil {
		return AuditorScope{}, err
	} else if !ok {
		return AuditorScope{}, domain.Refuse(domain.Forbidden, "forbidden", "Only admins give auditors their tenants.")
	}
	t, err := s.deps.Store.Technician(ctx, technicianID)
	if err != nil {
		return AuditorScope{}, domain.RefError(err)
	}
	p, err := s.deps.Store.Principal(ctx, t)
	if err != nil {
		return AuditorScope{}, err
	}
	return scopeOf(t.ID, p), nil
}

func scopeOf(id string, p permission.Principal) AuditorScope {
	out := AuditorScope{TechnicianID: id, All: p.Scope.All, TenantIDs: p.Scope.Tenants}
	if out.TenantIDs == nil {
		out.TenantIDs = []string{}
	}
	return out
}

// SetAuditorTenants makes a member of staff an auditor of the given tenants (or of every
// tenant with all), replacing what they audited before. A technician becomes an auditor
// (their sessions and tokens end; refused while they hold a live grant); an admin, and the
// actor themselves, are refused. Recorded as technician.auditor_tenants_set.
func (s *Service) SetAuditorTenants(ctx context.Context, a domain.Actor, in AuditorScope) (AuditorScope, error) {
	if _, ok, err := s.allowedOn(ctx, a, permission.AssignAuditors, ""); err != nil {
		return AuditorScope{}, err
	} else if !ok {
		return AuditorScope{}, domain.Refuse(domain.Forbidden, "forbidden", "Only admins give auditors their tenants.")
	}
	if in.TechnicianID == a.ID {
		return AuditorScope{}, domain.Refuse(domain.Conflict, "cannot_change_self", "You cannot change your own role; ask another MSP admin.")
	}
	if len(in.TenantIDs) > maxAuditedTenants {
		return AuditorScope{}, domain.FieldError("tenant_ids", "may name at most 500 tenants; use all_tenants instead.")
	}
	if in.All && len(in.TenantIDs) > 0 {
		return AuditorScope{}, domain.FieldError("tenant_ids", "must be empty with all_tenants.")
	}
	ids := []string{}
	for _, id := range in.TenantIDs {
		if id == "" || id == store.AllTenants {
			return AuditorScope{}, domain.FieldError("tenant_ids", "must hold tenant ids; use all_tenants for every tenant.")
		}
		if _, err := s.deps.Store.Tenant(ctx, id); errors.Is(err, store.ErrNotFound) {
			return AuditorScope{}, domain.FieldError("tenant_ids", "names a tenant that does not exist: "+id+".")
		} else if err != nil {
			return AuditorScope{}, err
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if in.All {
		ids = []string{store.AllTenants}
	}
	t, err := s.deps.Store.Technician(ctx, in.TechnicianID)
	if err != nil {
		return AuditorScope{}, domain.RefError(err)
	}
	switch t.Role {
	case store.RoleAdmin:
		return AuditorScope{}, domain.Refuse(domain.Conflict, "is_admin", "An admin already sees every tenant; an admin cannot be made an auditor.")
	case store.RoleTechnician:
		live, err := s.deps.Store.LiveGrants(ctx, store.GrantFilter{TechnicianID: t.ID})
		if err != nil {
			return AuditorScope{}, err
		}
		if len(live) > 0 {
			return AuditorScope{}, domain.Refuse(domain.Conflict, "live_grants", "This technician holds access now; revoke their live grants before making them an auditor.")
		}
	}
	t, changed, err := s.deps.Store.MakeAuditor(ctx, t.ID, ids)
	if errors.Is(err, store.ErrConflict) {
		return AuditorScope{}, domain.Refuse(domain.Conflict, "is_admin", "An admin already sees every tenant; an admin cannot be made an auditor.")
	}
	if err != nil {
		return AuditorScope{}, domain.RefError(err)
	}
	details := map[string]any{"email": t.Email, "all_tenants": in.All, "tenant_ids": ids}
	if changed {
		details["previous_role"] = store.RoleTechnician
	}
	s.Audit(ctx, a, store.AuditEvent{Action: "technician.auditor_tenants_set", Target: t.ID, Details: details})
	return s.AuditorTenants(ctx, a, t.ID)
}
