package evidence

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// AuditFilter narrows an audit listing; zero fields do not filter.
type AuditFilter struct {
	TenantID string
	Since    time.Time // events at or after
}

// RecordAudit appends an event to the audit log. Details must never hold a secret.
func (s *Store) RecordAudit(ctx context.Context, e sqlstore.AuditEvent) error {
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error { return s.InsertAudit(ctx, tx, e) })
}

// AuditEvents lists audit events matching f, newest first.
func (s *Store) AuditEvents(ctx context.Context, f AuditFilter, p sqlstore.Page) ([]sqlstore.AuditEvent, string, error) {
	var rows []schema.AuditEvent
	q := s.DB.NewSelect().Model(&rows)
	if f.TenantID != "" {
		q = q.Where("tenant_id = ?", f.TenantID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", sqlstore.DBTime(f.Since))
	}
	q, err := sqlstore.Paginate(q, p, "created_at", "id")
	if err != nil {
		return nil, "", sqlstore.ErrCursor(err)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	rows, next := sqlstore.Trim(rows, p, func(m schema.AuditEvent) (time.Time, string) { return m.CreatedAt, m.ID })
	out := make([]sqlstore.AuditEvent, len(rows))
	for i, m := range rows {
		e, err := auditFromRow(m)
		if err != nil {
			return nil, "", err
		}
		out[i] = e
	}
	return out, next, nil
}

func auditFromRow(m schema.AuditEvent) (sqlstore.AuditEvent, error) {
	e := sqlstore.AuditEvent{ID: m.ID, CreatedAt: sqlstore.UTC(m.CreatedAt), TenantID: m.TenantID, ActorID: m.ActorID, ActorKind: m.ActorKind,
		Action: m.Action, Target: m.Target, Details: map[string]any{}, WorkflowID: m.WorkflowID, RunID: m.RunID, Seq: m.Seq, Hash: m.Hash}
	if err := json.Unmarshal([]byte(m.Details), &e.Details); err != nil {
		return sqlstore.AuditEvent{}, fmt.Errorf("audit event %s details: %w", m.ID, err)
	}
	return e, nil
}

// auditsFromRows maps audit rows to events.
func auditsFromRows(rows []schema.AuditEvent) ([]sqlstore.AuditEvent, error) {
	out := make([]sqlstore.AuditEvent, len(rows))
	for i, m := range rows {
		e, err := auditFromRow(m)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}
