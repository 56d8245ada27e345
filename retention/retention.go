// Package retention keeps the evidence for as long as configured, independent of Temporal: it
// seals the audit chain with signed checkpoints, purges audit events and grants older than the
// retention period (behind a checkpoint, so the chain still verifies), and writes each closed
// grant's workflow history to an archive directory before the namespace retention drops it.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/store"
)

// Store is what the loops read and write (a *store.Store).
type Store interface {
	SealAuditChain(ctx context.Context, keys *auditchain.Keys) (auditchain.Checkpoint, bool, error)
	PurgeBefore(ctx context.Context, keys *auditchain.Keys, cutoff time.Time) (store.Purged, error)
	GrantsEndedSince(ctx context.Context, since time.Time, limit int) ([]store.Grant, error)
}

// Options configure Run.
type Options struct {
	Store              Store
	Keys               *auditchain.Keys
	CheckpointInterval time.Duration // JIT_AUDIT_CHECKPOINT_INTERVAL
	Retention          time.Duration // JIT_AUDIT_RETENTION
	PurgeInterval      time.Duration // default 24h
	Archiver           *Archiver     // nil: histories are not archived
	ArchiveInterval    time.Duration // default 10m
	Logger             *slog.Logger
	Now                func() time.Time
}

// Run seals, purges and archives on their intervals until ctx ends (the worker runs it).
func Run(ctx context.Context, o Options) error {
	if o.PurgeInterval <= 0 {
		o.PurgeInterval = 24 * time.Hour
	}
	if o.ArchiveInterval <= 0 {
		o.ArchiveInterval = 10 * time.Minute
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	seal := time.NewTicker(o.CheckpointInterval)
	purge := time.NewTicker(o.PurgeInterval)
	archive := time.NewTicker(o.ArchiveInterval)
	defer seal.Stop()
	defer purge.Stop()
	defer archive.Stop()
	o.archive(ctx)
	for {
		select {
		case <-ctx.Done():
			// Seal what was written since the last checkpoint before going away.
			o.seal(context.WithoutCancel(ctx))
			return ctx.Err()
		case <-seal.C:
			o.seal(ctx)
		case <-purge.C:
			if o.Retention > 0 {
				p, err := o.Store.PurgeBefore(ctx, o.Keys, o.Now().Add(-o.Retention))
				if err != nil {
					o.Logger.Error("retention: purge", "error", err)
				} else if p.AuditEvents > 0 || p.Grants > 0 {
					o.Logger.Info("retention: purged", "audit_events", p.AuditEvents, "grants", p.Grants, "checkpoint_seq", p.CutSeq)
				}
			}
		case <-archive.C:
			o.archive(ctx)
		}
	}
}

func (o Options) seal(ctx context.Context) {
	c, ok, err := o.Store.SealAuditChain(ctx, o.Keys)
	switch {
	case err != nil:
		o.Logger.Error("retention: seal the audit chain", "error", err)
	case ok:
		o.Logger.Debug("retention: audit chain sealed", "seq", c.Seq, "key_id", c.KeyID)
	}
}

func (o Options) archive(ctx context.Context) {
	if o.Archiver == nil {
		return
	}
	n, err := o.Archiver.ArchiveClosed(ctx)
	if err != nil {
		o.Logger.Error("retention: archive histories", "error", err)
	}
	if n > 0 {
		o.Logger.Info("retention: histories archived", "count", n, "dir", o.Archiver.Dir)
	}
}
