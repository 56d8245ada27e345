// Package siem streams the audit log to SIEMs as it is written: syslog (RFC 5424 over TLS with
// octet-counting framing, RFC 5425) and JSON lines over HTTPS. Delivery is at least once: each
// destination's cursor (the last sequence number it took) lives in the database and moves only
// after a batch is delivered, so the stream resumes where it stopped after either side was down.
// Every message carries the event id and chain sequence number, for the SIEM to de-duplicate.
package siem

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// Source is where events and cursors live (a *store.Store).
type Source interface {
	AuditEventsAfter(ctx context.Context, seq int64, limit int) ([]store.AuditEvent, error)
	SIEMCursor(ctx context.Context, destination string) (int64, error)
	AckSIEM(ctx context.Context, destination string, seq int64) error
}

// Destination delivers batches of events in order.
type Destination interface {
	// Name keys the destination's cursor; keep it stable across restarts.
	Name() string
	// Send delivers events; nil means delivered as far as the transport can tell.
	Send(ctx context.Context, events []store.AuditEvent) error
	// ReplayAfterError says whether to send the batch before the cursor again after a failure,
	// for transports that may report success for data the peer never read (TCP).
	ReplayAfterError() bool
	Close() error
}

// Options tune Run; zero values take the defaults.
type Options struct {
	Batch      int           // events per send (default 100)
	Poll       time.Duration // wait when there is nothing new (default 1s)
	MaxBackoff time.Duration // longest wait between failed sends (default 30s)
	Logger     *slog.Logger
}

// Run streams to every destination until ctx ends; each destination runs on its own.
func Run(ctx context.Context, src Source, dests []Destination, opts Options) error {
	if opts.Batch <= 0 {
		opts.Batch = 100
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	done := make(chan struct{}, len(dests))
	for _, d := range dests {
		go func() {
			defer func() { done <- struct{}{} }()
			stream(ctx, src, d, opts)
		}()
	}
	for range dests {
		<-done
	}
	for _, d := range dests {
		_ = d.Close()
	}
	return ctx.Err()
}

func stream(ctx context.Context, src Source, d Destination, opts Options) {
	log := opts.Logger.With("siem", d.Name())
	backoff := time.Duration(0)
	replay := 0
	for ctx.Err() == nil {
		if backoff > 0 {
			sleep(ctx, backoff)
		}
		cursor, err := src.SIEMCursor(ctx, d.Name())
		if err != nil {
			log.Warn("siem: read cursor", "error", err)
			backoff = next(backoff, opts.MaxBackoff)
			continue
		}
		from := max(0, cursor-int64(replay))
		events, err := src.AuditEventsAfter(ctx, from, opts.Batch+replay)
		if err != nil {
			log.Warn("siem: read events", "error", err)
			backoff = next(backoff, opts.MaxBackoff)
			continue
		}
		if len(events) == 0 {
			backoff, replay = 0, 0
			sleep(ctx, opts.Poll)
			continue
		}
		if err := d.Send(ctx, events); err != nil {
			if ctx.Err() == nil {
				log.Warn("siem: send failed; will resend from the cursor", "after_seq", cursor, "error", err)
			}
			if d.ReplayAfterError() {
				replay = opts.Batch
			}
			backoff = next(backoff, opts.MaxBackoff)
			continue
		}
		last := events[len(events)-1].Seq
		// Delivered: record it even when ctx ends now, or the batch is sent again on restart.
		if err := src.AckSIEM(context.WithoutCancel(ctx), d.Name(), last); err != nil {
			log.Warn("siem: save cursor", "seq", last, "error", err)
			backoff = next(backoff, opts.MaxBackoff)
			continue
		}
		backoff, replay = 0, 0
	}
}

func next(cur, limit time.Duration) time.Duration {
	if cur <= 0 {
		return 200 * time.Millisecond
	}
	return min(cur*2, limit)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Record is an event as a SIEM receives it (the JSON line, and the syslog message body).
type Record struct {
	ID         string         `json:"id"`
	Seq        int64          `json:"seq"`
	Time       time.Time      `json:"time"`
	TenantID   string         `json:"tenant_id,omitempty"`
	ActorID    string         `json:"actor_id"`
	ActorKind  string         `json:"actor_kind"`
	Action     string         `json:"action"`
	Target     string         `json:"target"`
	Details    map[string]any `json:"details"`
	WorkflowID string         `json:"workflow_id,omitempty"`
	RunID      string         `json:"run_id,omitempty"`
	Hash       string         `json:"hash"`
}

func recordOf(e store.AuditEvent) Record {
	return Record{ID: e.ID, Seq: e.Seq, Time: e.CreatedAt.UTC(), TenantID: e.TenantID, ActorID: e.ActorID, ActorKind: e.ActorKind,
		Action: e.Action, Target: e.Target, Details: e.Details, WorkflowID: e.WorkflowID, RunID: e.RunID, Hash: e.Hash}
}

func marshal(e store.AuditEvent) ([]byte, error) {
	b, err := json.Marshal(recordOf(e))
	if err != nil {
		return nil, fmt.Errorf("siem: encode event %s: %w", e.ID, err)
	}
	return b, nil
}
