package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
)

// Actor kinds of audit events.
const (
	ActorAdmin      = "admin"
	ActorTechnician = "technician"
	ActorSystem     = "system"
)

// AuditFilter narrows an audit listing; zero fields do not filter.
type AuditFilter struct {
	TenantID string
	Since    time.Time // events at or after
}

// RecordAudit appends an event to the audit log. Details must never hold a secret.
func (s *Store) RecordAudit(ctx context.Context, e AuditEvent) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error { return s.insertAudit(ctx, tx, e) })
}

// insertAudit appends e to the chain inside tx; an event whose id exists already was written
// by an earlier attempt and is kept as it is. It locks the chain head until tx ends, so that
// appends are serialised: callers insert the event before locking anything else.
func (s *Store) insertAudit(ctx context.Context, tx bun.Tx, e AuditEvent) error {
	if e.ID == "" {
		e.ID = NewID("aud")
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.clock()
	}
	if e.ActorID == "" {
		e.ActorID, e.ActorKind = ActorSystem, ActorSystem
	}
	details := "{}"
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("audit details: %w", err)
		}
		details = string(b)
	}
	m := schema.AuditEvent{ID: e.ID, CreatedAt: dbTime(e.CreatedAt), TenantID: e.TenantID, ActorID: e.ActorID, ActorKind: e.ActorKind,
		Action: e.Action, Target: e.Target, Details: details, WorkflowID: e.WorkflowID, RunID: e.RunID}
	return appendAudit(ctx, tx, m)
}

// AuditEvents lists audit events matching f, newest first.
func (s *Store) AuditEvents(ctx context.Context, f AuditFilter, p Page) ([]AuditEvent, string, error) {
	var rows []schema.AuditEvent
	q := s.db.NewSelect().Model(&rows)
	if f.TenantID != "" {
		q = q.Where("tenant_id = ?", f.TenantID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", dbTime(f.Since))
	}
	q, err := paginate(q, p, "created_at", "id")
	if err != nil {
		return nil, "", errCursor(err)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	rows, next := trim(rows, p, func(m schema.AuditEvent) (time.Time, string) { return m.CreatedAt, m.ID })
	out := make([]AuditEvent, len(rows))
	for i, m := range rows {
		e, err := auditFromRow(m)
		if err != nil {
			return nil, "", err
		}
		out[i] = e
	}
	return out, next, nil
}

func auditFromRow(m schema.AuditEvent) (AuditEvent, error) {
	e := AuditEvent{ID: m.ID, CreatedAt: utc(m.CreatedAt), TenantID: m.TenantID, ActorID: m.ActorID, ActorKind: m.ActorKind,
		Action: m.Action, Target: m.Target, Details: map[string]any{}, WorkflowID: m.WorkflowID, RunID: m.RunID, Seq: m.Seq, Hash: m.Hash}
	if err := json.Unmarshal([]byte(m.Details), &e.Details); err != nil {
		return AuditEvent{}, fmt.Errorf("audit event %s details: %w", m.ID, err)
	}
	return e, nil
}

// auditsFromRows maps audit rows to events.
func auditsFromRows(rows []schema.AuditEvent) ([]AuditEvent, error) {
	out := make([]AuditEvent, len(rows))
	for i, m := range rows {
		e, err := auditFromRow(m)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}
