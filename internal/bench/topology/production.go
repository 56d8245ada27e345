package topology

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/stack"
)

// startProduction is the production topology of internal/stack (`make stack`): the Temporal
// server on PostgreSQL with SQL visibility, two `jitaccess worker` and two `jitaccess serve`
// processes behind the stack's proxy, and the emulator in this process (its directory in
// memory), on a PostgreSQL server of its own (DatabaseURL is not used). This process opens its own clients of that Temporal server and database
// (app.Open, without running an API or a worker) to read histories and grant rows.
func (s *Stack) startProduction(ctx context.Context, o Options) error {
	dir, err := os.MkdirTemp("", "jit-bench-stack-")
	if err != nil {
		return err
	}
	s.cleanup = append(s.cleanup, func() { _ = os.RemoveAll(dir) })
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	// PostgreSQL of its own, as the failover test's: 4 product processes keeping their pools
	// warm and the Temporal server need more than the machine's max_connections of 100, which
	// other tests share. Durable like the machine's server (fsync on).
	pg, err := stack.StartPostgres(ctx, filepath.Join(dir, "pg"), "fsync=on")
	if err != nil {
		return fmt.Errorf("production stack's PostgreSQL: %w", err)
	}
	s.cleanup = append(s.cleanup, func() { pg.Stop(30 * time.Second) })
	so := stack.Options{Bin: o.Bin, Dir: filepath.Join(dir, "stack"), PostgresURL: pg.URL,
		DatabasePrefix: stack.RandomPrefix(), Env: benchEnv(o.Tuning), SimInMemory: true, Progress: progress}
	if s.prod, err = stack.Start(ctx, so); err != nil {
		s.prod = nil
		// Start stopped what it started; its databases stay unless dropped.
		_ = stack.Reset(context.WithoutCancel(ctx), so)
		return fmt.Errorf("production stack: %w", err)
	}
	prod := s.prod
	s.cleanup = append(s.cleanup, func() {
		prod.Stop()
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = prod.DropDatabases(dctx)
	})
	s.API, s.Admin, s.Sim = prod.URL, prod.AdminToken, prod.Sim
	s.Env = prod.Env
	cfg, err := config.Load(func(k string) string { return s.Env[k] })
	if err != nil {
		return err
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	if s.app, err = app.Open(ctx, cfg, slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))); err != nil {
		return err
	}
	s.Temporal, s.Converter, s.Store = s.app.Temporal, s.app.Converter, s.app.Store
	return waitReady(ctx, s.HTTP, s.API+"/readyz", time.Minute)
}
