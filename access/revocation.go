package access

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// endGrants revokes, through their workflows, the live grants in gs that lost their reason:
// all of them when recheck is false (the person was deactivated), else those the entitlement
// check now refuses (a membership or a rule was removed). Each revocation is an audit event
// saying why. It returns the number revoked and the first failure (after trying them all).
func (s *Service) endGrants(ctx context.Context, a Actor, gs []store.Grant, why string, recheck bool) (int, error) {
	if len(gs) == 0 {
		return 0, nil
	}
	if s.deps.Workflows == nil {
		return 0, Refuse(Unavailable, "workflow_engine_unavailable",
			"Live grants must be revoked but no workflow engine is configured.")
	}
	var (
		n     int
		first error
	)
	for _, g := range gs {
		if recheck {
			ent, err := s.deps.Store.CheckEntitlement(ctx, g.TenantID, g.ApplicationID, g.TechnicianID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				first = cmp.Or(first, err)
				continue
			}
			if err == nil && ent.Allowed {
				continue
			}
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), steerTimeout)
		err := s.deps.Workflows.Revoke(sctx, g.WorkflowID, g.RunID, workflows.RevokeSignal{By: a.ID, ByKind: a.Role, Reason: why})
		cancel()
		if p := AsError(err); p != nil && p.Code == "grant_ended" {
			continue
		}
		if err != nil {
			first = cmp.Or(first, fmt.Errorf("revoke grant %s: %w", g.ID, err))
			continue
		}
		n++
		s.Audit(ctx, a, store.AuditEvent{TenantID: g.TenantID, Action: "grant.revoked_by_change", Target: g.ID,
			Details: map[string]any{"reason": why, "technician_id": g.TechnicianID, "application_id": g.ApplicationID}})
	}
	if first != nil {
		return n, s.workflowError(ctx, a, "revoke", first)
	}
	return n, nil
}
