package admin

import (
	"context"
	"errors"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/store"
)

// CreateGroup adds a custom group to a customer tenant.
func (s *Service) CreateGroup(ctx context.Context, a domain.Actor, tenantID, name string) (store.Group, error) {
	name, err := domain.CheckName("name", name)
	if err != nil {
		return store.Group{}, err
	}
	g, err := s.deps.Store.CreateGroup(ctx, tenantID, name)
	if errors.Is(err, store.ErrConflict) {
		return g, domain.Refuse(domain.Conflict, "already_exists", "The tenant already has a group with this name.")
	}
	if err != nil {
		return g, domain.RefError(err)
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: g.TenantID, Action: "group.created", Target: g.ID, Details: map[string]any{"name": g.Name}})
	return g, nil
}

// SetGroupMember adds (add) or removes a technician to or from a custom group.
func (s *Service) SetGroupMember(ctx context.Context, a domain.Actor, tenantID, groupID, techID string, add bool) error {
	var err error
	action := "group.member_added"
	if add {
		err = s.deps.Store.AddGroupMember(ctx, tenantID, groupID, techID)
	} else {
		action = "group.member_removed"
		err = s.deps.Store.RemoveGroupMember(ctx, tenantID, groupID, techID)
	}
	if err != nil {
		return domain.RefError(err)
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: tenantID, Action: action, Target: groupID, Details: map[string]any{"technician_id": techID}})
	if add {
		return nil
	}
	return s.endUnentitled(ctx, a, store.GrantFilter{TenantID: tenantID, TechnicianID: techID}, "technician removed from group "+groupID)
}
