package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
)

// actionPolicyUpdated is the audit action of a changed application policy.
const actionPolicyUpdated = "application.policy_updated"

// ApplicationPolicy is the effective policy of an application of tenantID: the saved one,
// or the default of its roles (saved false).
func (s *Service) ApplicationPolicy(ctx context.Context, tenantID, applicationID string) (policy.Policy, bool, error) {
	if _, err := s.Application(ctx, tenantID, applicationID); err != nil {
		return policy.Policy{}, false, err
	}
	return s.deps.Store.ApplicationPolicy(ctx, applicationID)
}

// policyLimits are the global bounds every policy lives within.
func (s *Service) policyLimits() policy.Limits {
	return policy.Limits{GlobalMax: s.deps.MaxAccessDuration, GlobalMin: s.deps.MinAccessDuration}
}

// policyChange is a validated policy to save: nil Policy forgets the saved one.
type policyChange struct {
	Before, After policy.Policy
	Forget        bool
}

// checkPolicy validates a PATCH's policy document over the application's effective policy
// (fields left out keep their value; null forgets the saved policy, so the default of the
// roles applies again). Approver groups must be groups of the application's tenant.
func (s *Service) checkPolicy(ctx context.Context, a store.Application, doc json.RawMessage) (policyChange, error) {
	current, _, err := s.deps.Store.ApplicationPolicy(ctx, a.ID)
	if err != nil {
		return policyChange{}, err
	}
	if bytes.Equal(bytes.TrimSpace(doc), []byte("null")) {
		return policyChange{Before: current, Forget: true}, nil
	}
	next, err := policy.Apply(current, doc, s.policyLimits())
	if err != nil {
		if e := domain.PolicyError(err); e != nil {
			return policyChange{}, e
		}
		return policyChange{}, err
	}
	for _, g := range next.Approval.ApproverGroupIDs {
		if g == store.AllAdminsGroupID {
			continue
		}
		if _, err := s.deps.Store.Group(ctx, a.TenantID, g); errors.Is(err, store.ErrNotFound) {
			return policyChange{}, &domain.Error{Kind: domain.Invalid, Code: policy.CodeInvalidPolicy, Field: "policy.approval.approver_group_ids",
				Message: fmt.Sprintf("policy.approval.approver_group_ids: %s is not a group of this tenant.", quoteForMessage(g))}
		} else if err != nil {
			return policyChange{}, err
		}
	}
	return policyChange{Before: current, After: next}, nil
}

// savePolicy stores a checked policy change and records application.policy_updated with
// the policy before and after.
func (s *Service) savePolicy(ctx context.Context, actor domain.Actor, a store.Application, ch policyChange) error {
	var p *policy.Policy
	if !ch.Forget {
		p = &ch.After
	}
	if err := s.deps.Store.SetApplicationPolicy(ctx, a.TenantID, a.ID, p); err != nil {
		return domain.RefError(err)
	}
	after, saved, err := s.deps.Store.ApplicationPolicy(ctx, a.ID)
	if err != nil {
		return err
	}
	s.Audit(ctx, actor, store.AuditEvent{TenantID: a.TenantID, Action: actionPolicyUpdated, Target: a.ID,
		Details: map[string]any{"before": ch.Before, "after": after, "saved": saved}})
	return nil
}
