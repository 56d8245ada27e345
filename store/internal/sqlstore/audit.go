package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/schema"
)

// Actor kinds of audit events.
const (
	ActorAdmin      = "admin"
	ActorTechnician = "technician"
	ActorSystem     = "system"
)

// AuditEvent is one entry of the audit log.
// ID and CreatedAt are set by InsertAudit when empty.
type AuditEvent struct {
	ID        string
	CreatedAt time.Time
	TenantID  string
	ActorID   string // technician id, or "system"
	ActorKind string // admin | technician | system
	Action    string // e.g. "grant.requested", "grant.denied", "credentials.read"
	Target    string // id of the object acted on
	Details   map[string]any
	// WorkflowID and RunID tie the event to a replayable Temporal history, when it has one.
	WorkflowID string
	RunID      string
	// Seq and Hash are its place in the chain (set by the store; ignored on insert).
	Seq  int64
	Hash string
}

// InsertAudit appends e to the chain inside tx; an event whose id exists already was written
// by an earlier attempt and is kept as it is. It locks the chain head, which every append in
// the deployment shares, until tx ends: callers lock their own rows first and append last, so
// that the head is held for as little as possible and locks are always taken in that order.
func (h *Handle) InsertAudit(ctx context.Context, tx bun.Tx, e AuditEvent) error {
	if e.ID == "" {
		e.ID = NewID("aud")
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = h.Clock()
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
	m := schema.AuditEvent{ID: e.ID, CreatedAt: DBTime(e.CreatedAt), TenantID: e.TenantID, ActorID: e.ActorID, ActorKind: e.ActorKind,
		Action: e.Action, Target: e.Target, Details: details, WorkflowID: e.WorkflowID, RunID: e.RunID}
	return appendAudit(ctx, tx, m)
}

// appendAudit links m to the chain head and inserts it: three statements under the head's
// lock. The no-op UPDATE … RETURNING takes the head's row lock on PostgreSQL (and the write
// lock on SQLite) before anything is read; an id already logged inserts nothing and leaves the
// head as it was.
func appendAudit(ctx context.Context, tx bun.Tx, m schema.AuditEvent) error {
	var head schema.AuditChainHead
	if err := tx.NewRaw("UPDATE audit_chain_heads SET seq = seq WHERE chain_id = ? RETURNING seq, hash",
		auditchain.ChainID).Scan(ctx, &head.Seq, &head.Hash); err != nil {
		return fmt.Errorf("record audit event: lock chain head: %w", err)
	}
	r := auditchain.Link(schema.AuditRecord(m), head.Seq, head.Hash)
	m.Seq, m.PrevHash, m.Hash = r.Seq, r.PrevHash, r.Hash
	res, err := tx.NewInsert().Model(&m).On("CONFLICT (id) DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("record audit event: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("record audit event: %w", err)
	} else if n == 0 {
		return nil
	}
	if _, err := tx.NewUpdate().Model((*schema.AuditChainHead)(nil)).Set("seq = ?", r.Seq).Set("hash = ?", r.Hash).
		Set("updated_at = ?", m.CreatedAt).Where("chain_id = ?", auditchain.ChainID).Exec(ctx); err != nil {
		return fmt.Errorf("record audit event: advance chain head: %w", err)
	}
	return nil
}
