package leader

import (
	"context"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun/dialect"
)

// Names of the jobs that run once per deployment however many workers run (WhileLeader).
const (
	LeaderSIEM      = "jitaccess.siem"
	LeaderRetention = "jitaccess.retention"
)

// leaderCheck is how often a leader checks that its lock's connection is alive; a new leader
// waits two checks before it starts, so a leader that lost its lock has stopped by then.
const leaderCheck = time.Second

// localLeaders are the jobs held through one database handle: on SQLite (one process owns the
// file) they are the only lock; on PostgreSQL they stop one handle from asking twice.
var localLeaders sync.Map // leaderKey → *sync.Mutex

type leaderKey struct {
	db   any
	name string
}

// WhileLeader runs fn while this process holds the job's lock and returns when ctx ends.
// On PostgreSQL the lock is a session advisory lock on a connection of its own, so exactly one
// worker of the deployment runs fn; the others try again every retry. If that connection
// dies (its worker lost the database, or the database restarted) the lock is gone: fn's
// context is cancelled and another worker takes over. fn should return when its ctx ends.
func (s *Store) WhileLeader(ctx context.Context, name string, retry time.Duration, log *slog.Logger, fn func(ctx context.Context)) error {
	if retry <= 0 {
		retry = 10 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mu, _ := localLeaders.LoadOrStore(leaderKey{s.DB, name}, &sync.Mutex{})
	for ctx.Err() == nil {
		if mu.(*sync.Mutex).TryLock() {
			err := s.leadOnce(ctx, name, min(retry, leaderCheck), log, fn)
			mu.(*sync.Mutex).Unlock()
			if err != nil && ctx.Err() == nil {
				log.Warn("leader lock", "job", name, "error", err)
			}
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return ctx.Err()
}

// leadOnce takes the database lock if it is free and runs fn until ctx ends or the lock is lost.
func (s *Store) leadOnce(ctx context.Context, name string, check time.Duration, log *slog.Logger, fn func(ctx context.Context)) error {
	if s.DB.Dialect().Name() != dialect.PG {
		fn(ctx)
		return nil
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("leader %s: %w", name, err)
	}
	defer func() { _ = conn.Close() }()
	key := lockKey(name)
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", key).Scan(&got); err != nil {
		return fmt.Errorf("leader %s: %w", name, err)
	}
	if !got {
		return nil
	}
	// The connection goes back to the pool: release the session lock first.
	release := func() error {
		uctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		if _, err := conn.ExecContext(uctx, "SELECT pg_advisory_unlock(?)", key); err != nil {
			// Never pool a connection that may still hold the lock: discard it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			return fmt.Errorf("leader %s: unlock: %w", name, err)
		}
		return nil
	}
	// A leader whose lock connection died holds no lock but runs until its next check fails;
	// wait two checks before starting, so the jobs never overlap.
	grace := time.NewTimer(2 * check)
	select {
	case <-ctx.Done():
		grace.Stop()
		return release()
	case <-grace.C:
	}
	log.Info("leader: running job on this worker", "job", name)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(runCtx)
	}()
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		select {
		case <-done:
			cancel()
			return release()
		case <-t.C:
			// Still holding it? A dead connection means the server already released it.
			if err := conn.PingContext(ctx); err != nil && ctx.Err() == nil {
				cancel()
				<-done
				return fmt.Errorf("leader %s: lost the lock's connection: %w", name, err)
			}
		}
	}
}

// lockKey is the advisory lock id of a job name (64-bit FNV-1a).
func lockKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return int64(h.Sum64())
}
