package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/store"
)

// ConditionInput is the IF of a rule: a group (all-admins for the built-in one) or one
// technician.
type ConditionInput struct {
	Type         string `json:"type"`
	GroupID      string `json:"group_id"`
	TechnicianID string `json:"technician_id"`
}

// EntitlementInput is a new rule: IF condition THEN application.
type EntitlementInput struct {
	Name          string          `json:"name"`
	Condition     *ConditionInput `json:"condition"`
	ApplicationID string          `json:"application_id"`
}

// CreateEntitlement writes the rule IF <group or technician> THEN <application>.
func (s *Service) CreateEntitlement(ctx context.Context, a domain.Actor, tenantID string, in EntitlementInput) (store.Rule, error) {
	name, err := domain.CheckName("name", in.Name)
	if err != nil {
		return store.Rule{}, err
	}
	if in.Condition == nil {
		return store.Rule{}, domain.FieldError("condition", `is required: {"type":"group","group_id":…} or {"type":"technician","technician_id":…}.`)
	}
	cond := *in.Condition
	switch cond.Type {
	case store.ConditionGroup:
		if cond.GroupID == "" {
			return store.Rule{}, domain.FieldError("condition.group_id", "is required for a group condition (all-admins for the built-in group).")
		}
		if cond.TechnicianID != "" {
			return store.Rule{}, domain.FieldError("condition.technician_id", "is not allowed in a group condition.")
		}
	case store.ConditionTechnician:
		if cond.TechnicianID == "" {
			return store.Rule{}, domain.FieldError("condition.technician_id", "is required for a technician condition.")
		}
		if cond.GroupID != "" {
			return store.Rule{}, domain.FieldError("condition.group_id", "is not allowed in a technician condition.")
		}
	default:
		return store.Rule{}, domain.FieldError("condition.type", `must be "group" or "technician".`)
	}
	if in.ApplicationID == "" {
		return store.Rule{}, domain.FieldError("application_id", "is required.")
	}
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return store.Rule{}, err
	}
	r, err := s.deps.Store.CreateRule(ctx, store.Rule{TenantID: tenantID, Name: name, ConditionType: cond.Type,
		GroupID: cond.GroupID, TechnicianID: cond.TechnicianID, ApplicationID: in.ApplicationID})
	var ref *store.ErrInvalidReference
	switch {
	case errors.As(err, &ref):
		return r, &domain.Error{Kind: domain.Invalid, Code: "invalid_reference", Field: ref.Field, Message: ref.Field + ": " + ref.Error() + "."}
	case errors.Is(err, store.ErrConflict):
		return r, domain.Refuse(domain.Conflict, "already_exists", "The tenant already has an entitlement rule with this name.")
	case err != nil:
		return r, domain.RefError(err)
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: r.TenantID, Action: "entitlement.created", Target: r.ID, Details: map[string]any{
		"name": r.Name, "condition_type": r.ConditionType, "group_id": r.GroupID, "technician_id": r.TechnicianID, "application_id": r.ApplicationID}})
	return r, nil
}

// DeleteEntitlement removes a rule.
func (s *Service) DeleteEntitlement(ctx context.Context, a domain.Actor, tenantID, id string) error {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return err
	}
	rule, err := s.deps.Store.Rule(ctx, tenantID, id)
	if err != nil {
		return domain.RefError(err)
	}
	if err := s.deps.Store.DeleteRule(ctx, tenantID, id); err != nil {
		return domain.RefError(err)
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: tenantID, Action: "entitlement.deleted", Target: id})
	return s.endUnentitled(ctx, a, store.GrantFilter{TenantID: tenantID, ApplicationID: rule.ApplicationID},
		fmt.Sprintf("entitlement rule %q removed", rule.Name))
}
