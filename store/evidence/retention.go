package evidence

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Purged says what PurgeBefore removed.
type Purged struct {
	AuditEvents int64
	Grants      int64
	CutSeq      int64 // the retention checkpoint's sequence number (0: none written)
}

// PurgeBefore deletes the audit events logged before cutoff and the grants that ended before
// it, keeping the chain verifiable: the last purged event's hash is sealed first in a signed
// retention checkpoint, from which verification then starts. Only a prefix of the chain is
// ever removed (everything up to the first event logged at or after cutoff).
func (s *Store) PurgeBefore(ctx context.Context, keys *auditchain.Keys, cutoff time.Time) (Purged, error) {
	var out Purged
	err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var head schema.AuditChainHead
		if err := tx.NewRaw("UPDATE audit_chain_heads SET seq = seq WHERE chain_id = ? RETURNING seq, hash",
			auditchain.ChainID).Scan(ctx, &head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("purge: lock chain head: %w", err)
		}
		var keep sql.NullInt64
		if err := tx.NewSelect().Model((*schema.AuditEvent)(nil)).ColumnExpr("min(seq)").
			Where("created_at >= ?", sqlstore.DBTime(cutoff)).Scan(ctx, &keep); err != nil {
			return fmt.Errorf("purge: %w", err)
		}
		cut := head.Seq
		if keep.Valid {
			cut = keep.Int64 - 1
		}
		var last schema.AuditEvent
		err := tx.NewSelect().Model(&last).Where("seq = ?", cut).Scan(ctx)
		switch {
		case cut <= 0 || err == sql.ErrNoRows:
			// Nothing to purge, or purged up to here already.
		case err != nil:
			return fmt.Errorf("purge: %w", err)
		default:
			// A periodic checkpoint at the cut gives way to the retention one, which verify
			// accepts as the start of what is kept.
			if _, err := tx.NewDelete().Model((*schema.AuditCheckpoint)(nil)).Where("chain_id = ? AND seq = ?", auditchain.ChainID, cut).Exec(ctx); err != nil {
				return fmt.Errorf("purge checkpoints: %w", err)
			}
			if _, _, err := s.writeCheckpoint(ctx, tx, keys, auditchain.Head{Seq: cut, Hash: last.Hash}, auditchain.ReasonRetention); err != nil {
				return err
			}
			res, err := tx.NewDelete().Model((*schema.AuditEvent)(nil)).Where("seq <= ?", cut).Exec(ctx)
			if err != nil {
				return fmt.Errorf("purge audit events: %w", err)
			}
			out.AuditEvents, _ = res.RowsAffected()
			if _, err := tx.NewDelete().Model((*schema.AuditCheckpoint)(nil)).Where("chain_id = ? AND seq < ?", auditchain.ChainID, cut).Exec(ctx); err != nil {
				return fmt.Errorf("purge checkpoints: %w", err)
			}
			out.CutSeq = cut
		}
		res, err := tx.NewDelete().Model((*schema.Grant)(nil)).Where("ended_at IS NOT NULL AND ended_at < ?", sqlstore.DBTime(cutoff)).
			Where("status IN (?)", sqlstore.In(sqlstore.TerminalStatuses())).Exec(ctx)
		if err != nil {
			return fmt.Errorf("purge grants: %w", err)
		}
		out.Grants, _ = res.RowsAffected()
		return nil
	})
	return out, err
}

// SIEMCursor is the last sequence number destination acknowledged (0 when it never did).
func (s *Store) SIEMCursor(ctx context.Context, destination string) (int64, error) {
	var m schema.SIEMCursor
	err := s.DB.NewSelect().Model(&m).Where("destination = ?", destination).Scan(ctx)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("siem cursor %s: %w", destination, err)
	}
	return m.Seq, nil
}

// AckSIEM moves destination's cursor forward to seq (never back).
func (s *Store) AckSIEM(ctx context.Context, destination string, seq int64) error {
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO siem_cursors (destination, seq, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (destination) DO UPDATE SET seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
		WHERE siem_cursors.seq < EXCLUDED.seq`, destination, seq, s.Clock()); err != nil {
		return fmt.Errorf("siem cursor %s: %w", destination, err)
	}
	return nil
}
