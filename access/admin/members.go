package admin

import (
	"context"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/store"
)

// SetMember gives (add) or takes a technician's access to a customer tenant.
func (s *Service) SetMember(ctx context.Context, a domain.Actor, tenantID, techID string, add bool) error {
	var err error
	action := "tenant.member_added"
	if add {
		err = s.deps.Store.AddMember(ctx, tenantID, techID)
	} else {
		action = "tenant.member_removed"
		err = s.deps.Store.RemoveMember(ctx, tenantID, techID)
	}
	if err != nil {
		return domain.RefError(err)
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: tenantID, Action: action, Target: techID})
	if add {
		return nil
	}
	return s.endUnentitled(ctx, a, store.GrantFilter{TenantID: tenantID, TechnicianID: techID}, "technician removed from the tenant")
}

// endUnentitled revokes the live grants matching f that no rule allows any more.
func (s *Service) endUnentitled(ctx context.Context, a domain.Actor, f store.GrantFilter, why string) error {
	gs, err := s.deps.Store.LiveGrants(ctx, f)
	if err != nil {
		return err
	}
	_, err = s.endGrants(ctx, a, gs, why, true)
	return err
}
