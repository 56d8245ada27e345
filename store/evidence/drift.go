package evidence

import (
	"context"
	"fmt"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// ReconcilerFindings lists the reconciler's drift.* audit events about any of targets (a
// grant id, an account's object id), oldest first.
func (s *Store) ReconcilerFindings(ctx context.Context, targets []string) ([]sqlstore.AuditEvent, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	var rows []schema.AuditEvent
	if err := s.DB.NewSelect().Model(&rows).
		Where("action LIKE 'drift.%'").
		Where("target IN (?)", sqlstore.In(targets)).
		OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("reconciler findings: %w", err)
	}
	return auditsFromRows(rows)
}
