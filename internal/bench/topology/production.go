package topology

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/stack"
)

// startProduction is the production topology of internal/stack (`make stack`): the Temporal
// server on PostgreSQL with SQL visibility, two `jitaccess worker` and two `jitaccess serve`
// processes behind the stack's proxy, and the emulator in this process (its directory in
// memory). This process opens its own clients of that Temporal server and database
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
	so := stack.Options{Bin: o.Bin, Dir: dir, PostgresURL: o.DatabaseURL,
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
