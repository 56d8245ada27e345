package evidence

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// AuditChainHead returns the chain's last sequence number and hash.
func (s *Store) AuditChainHead(ctx context.Context) (auditchain.Head, error) {
	var h schema.AuditChainHead
	if err := s.DB.NewSelect().Model(&h).Where("chain_id = ?", auditchain.ChainID).Scan(ctx); err != nil {
		return auditchain.Head{}, fmt.Errorf("audit chain head: %w", err)
	}
	return auditchain.Head{Seq: h.Seq, Hash: h.Hash}, nil
}

// SealAuditChain signs a checkpoint over the chain head unless the head is sealed already
// (or empty); it returns the checkpoint written, or false.
func (s *Store) SealAuditChain(ctx context.Context, keys *auditchain.Keys) (auditchain.Checkpoint, bool, error) {
	head, err := s.AuditChainHead(ctx)
	if err != nil {
		return auditchain.Checkpoint{}, false, err
	}
	if head.Seq == 0 {
		return auditchain.Checkpoint{}, false, nil
	}
	return s.writeCheckpoint(ctx, s.DB, keys, head, auditchain.ReasonPeriodic)
}

func (s *Store) writeCheckpoint(ctx context.Context, db bun.IDB, keys *auditchain.Keys, at auditchain.Head, reason string) (auditchain.Checkpoint, bool, error) {
	c := keys.Sign(auditchain.Checkpoint{Seq: at.Seq, Hash: at.Hash, CreatedAt: s.Clock(), Reason: reason})
	m := schema.AuditCheckpoint{ChainID: auditchain.ChainID, Seq: c.Seq, Hash: c.Hash, Reason: c.Reason, KeyID: c.KeyID,
		Signature: c.Signature, CreatedAt: c.CreatedAt}
	res, err := db.NewInsert().Model(&m).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return auditchain.Checkpoint{}, false, fmt.Errorf("audit checkpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return auditchain.Checkpoint{}, false, nil
	}
	return c, true, nil
}

// AuditCheckpoints lists the chain's checkpoints, oldest first.
func (s *Store) AuditCheckpoints(ctx context.Context) ([]auditchain.Checkpoint, error) {
	var rows []schema.AuditCheckpoint
	if err := s.DB.NewSelect().Model(&rows).Where("chain_id = ?", auditchain.ChainID).Order("seq").Scan(ctx); err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	out := make([]auditchain.Checkpoint, len(rows))
	for i, m := range rows {
		out[i] = auditchain.Checkpoint{Seq: m.Seq, Hash: m.Hash, CreatedAt: sqlstore.UTC(m.CreatedAt), Reason: m.Reason, KeyID: m.KeyID, Signature: m.Signature}
	}
	return out, nil
}

// VerifyAuditChain walks the chain and returns the first row edited, deleted or inserted as a
// *auditchain.Finding error. It starts at the oldest row kept (which must follow the genesis
// or a retention checkpoint) or, with since, at the last checkpoint made before since.
func (s *Store) VerifyAuditChain(ctx context.Context, keys *auditchain.Keys, since time.Time) (auditchain.Result, error) {
	head, err := s.AuditChainHead(ctx)
	if err != nil {
		return auditchain.Result{}, err
	}
	cps, err := s.AuditCheckpoints(ctx)
	if err != nil {
		return auditchain.Result{}, err
	}
	anchor := auditchain.Head{Seq: 0, Hash: auditchain.GenesisHash}
	var first sql.NullInt64
	if err := s.DB.NewSelect().Model((*schema.AuditEvent)(nil)).ColumnExpr("min(seq)").Scan(ctx, &first); err != nil {
		return auditchain.Result{}, fmt.Errorf("verify audit chain: %w", err)
	}
	if first.Valid && first.Int64 > 1 {
		// Rows were purged: start at the last retention checkpoint before the oldest row kept;
		// any gap between the two is reported as deleted.
		for _, c := range cps {
			if c.Seq < first.Int64 && c.Reason == auditchain.ReasonRetention {
				anchor = auditchain.Head{Seq: c.Seq, Hash: c.Hash}
			}
		}
	}
	if !since.IsZero() {
		for _, c := range cps {
			if c.Seq >= anchor.Seq && !c.CreatedAt.After(since) {
				anchor = auditchain.Head{Seq: c.Seq, Hash: c.Hash}
			}
		}
	}
	v, err := auditchain.NewVerifier(keys, anchor, head, cps)
	if err != nil {
		return auditchain.Result{}, err
	}
	const batch = 1000
	after := anchor.Seq
	for {
		var rows []schema.AuditEvent
		if err := s.DB.NewSelect().Model(&rows).Where("seq > ?", after).Order("seq").Limit(batch).Scan(ctx); err != nil {
			return auditchain.Result{}, fmt.Errorf("verify audit chain: %w", err)
		}
		for _, m := range rows {
			if f := v.Add(schema.AuditRecord(m)); f != nil {
				return auditchain.Result{}, f
			}
			after = m.Seq
		}
		if len(rows) < batch {
			break
		}
	}
	// Rows without a sequence number were inserted around the chain.
	var stray schema.AuditEvent
	err = s.DB.NewSelect().Model(&stray).Where("seq IS NULL").Limit(1).Scan(ctx)
	if err == nil {
		return auditchain.Result{}, &auditchain.Finding{Kind: auditchain.Inserted, ID: stray.ID, Detail: "has no sequence number"}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return auditchain.Result{}, fmt.Errorf("verify audit chain: %w", err)
	}
	res, f := v.Finish()
	if f != nil {
		return res, f
	}
	return res, nil
}

// AuditEventsAfter lists up to limit events with a sequence number above seq, in chain order
// (the SIEM export's read).
func (s *Store) AuditEventsAfter(ctx context.Context, seq int64, limit int) ([]sqlstore.AuditEvent, error) {
	var rows []schema.AuditEvent
	if err := s.DB.NewSelect().Model(&rows).Where("seq > ?", seq).Order("seq").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("audit events after %d: %w", seq, err)
	}
	return auditsFromRows(rows)
}
