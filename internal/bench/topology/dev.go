package topology

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the throwaway database
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/stack"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/worker"
	"github.com/jitaccess/jitaccess/workflows"
)

// startDev is the dev topology: the pinned dev server (child process, DevServerDynamicConfig),
// the emulator over real HTTP on loopback, a throwaway PostgreSQL database, and the product's
// API and worker in this process (package app), exactly as `jitaccess dev`.
func (s *Stack) startDev(ctx context.Context, o Options) (err error) {
	sas := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sas[d.Name] = d.Type
	}
	if s.dev, err = temporaldev.Start(ctx, temporaldev.Options{SearchAttributes: sas}); err != nil {
		return err
	}
	s.cleanup = append(s.cleanup, s.dev.Stop)
	s.serverPID = findServerPID(s.dev.Address)
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	logger := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if s.Sim, err = entrasim.New(entrasim.Options{AutoConsent: true}); err != nil {
		return err
	}
	simSrv := httptest.NewServer(s.Sim)
	s.cleanup = append(s.cleanup, simSrv.Close)

	dbURL, drop, err := throwawayDatabase(ctx, o.DatabaseURL)
	if err != nil {
		return err
	}
	s.cleanup = append(s.cleanup, drop)
	port, err := temporaldev.FreePort()
	if err != nil {
		return err
	}
	s.Admin = "jit_" + hex.EncodeToString(randomBytes(24))
	s.Env = map[string]string{
		"JIT_HTTP_ADDR":             fmt.Sprintf("127.0.0.1:%d", port),
		"JIT_PUBLIC_URL":            fmt.Sprintf("http://127.0.0.1:%d", port),
		"JIT_DATABASE_URL":          dbURL,
		"JIT_TEMPORAL_ADDRESS":      s.dev.Address,
		"JIT_TASK_QUEUE":            workflows.TaskQueue,
		"JIT_ENCRYPTION_KEY":        base64.StdEncoding.EncodeToString(randomBytes(32)),
		"JIT_BOOTSTRAP_ADMIN_TOKEN": s.Admin,
		"JIT_ENTRA_AUTHORITY":       simSrv.URL,
		"JIT_GRAPH_URL":             simSrv.URL + "/v1.0",
		"JIT_OAUTH_CLIENT_ID":       entrasim.ClientID,
		"JIT_OAUTH_CLIENT_SECRET":   entrasim.ClientSecret,
	}
	for k, v := range benchEnv(o.Tuning) {
		s.Env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return s.Env[k] })
	if err != nil {
		return err
	}
	if s.app, err = app.Open(ctx, cfg, logger); err != nil {
		return err
	}
	s.Temporal, s.Converter, s.Store = s.app.Temporal, s.app.Converter, s.app.Store
	if o.Tuning.DBIdle > 0 {
		s.app.Store.DB().DB.SetMaxIdleConns(o.Tuning.DBIdle)
	}
	s.API = cfg.PublicURL
	apiCtx, apiCancel := context.WithCancel(context.WithoutCancel(ctx))
	s.apiCancel = apiCancel
	s.wg.Add(1)
	go func() { defer s.wg.Done(); _ = s.app.ServeAPI(apiCtx) }()
	s.StartWorker(ctx)
	return waitReady(ctx, s.HTTP, s.API+"/readyz", time.Minute)
}

// benchEnv is the configuration both topologies give the product for the benchmark.
func benchEnv(t Tuning) map[string]string {
	env := map[string]string{
		// Short grants make a whole lifecycle measurable; the floor uses the same timer.
		"JIT_MIN_ACCESS_DURATION": "100ms",
		"JIT_MAX_ACCESS_DURATION": "24h",
		"JIT_LOG_LEVEL":           "warn",
	}
	if t.Gzip {
		env["JIT_TEMPORAL_COMPRESSION"] = "gzip"
	}
	return env
}

// StartWorker runs the product's worker in this process (dev topology only): app.RunWorker,
// or under a Tuning experiment the same worker (worker.Register, worker.NewMetrics) with the
// tuned options.
func (s *Stack) StartWorker(ctx context.Context) {
	if s.app == nil || s.prod != nil {
		return
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.workerCancel = cancel
	s.workerWG.Add(1)
	if s.tuning.Pollers == 0 {
		go func() { defer s.workerWG.Done(); _ = s.app.RunWorker(wctx) }()
		return
	}
	a := s.app
	acts := &activities.Activities{Store: a.Store, Directory: a.Entra, Now: time.Now, Logger: a.Log.With("component", "activities")}
	w := sdkworker.New(a.Temporal, a.Cfg.TaskQueue, sdkworker.Options{
		WorkerStopTimeout:                worker.DefaultStopTimeout,
		Interceptors:                     []interceptor.WorkerInterceptor{worker.NewMetrics(a.Registry, a.Log)},
		MaxConcurrentWorkflowTaskPollers: s.tuning.Pollers,
		MaxConcurrentActivityTaskPollers: s.tuning.Pollers,
	})
	worker.Register(w, acts)
	go func() {
		defer s.workerWG.Done()
		if err := w.Start(); err != nil {
			a.Log.Error("start tuned worker", "err", err)
			return
		}
		<-wctx.Done()
		w.Stop()
	}()
}

// StopWorker stops the in-process product worker (dev: the RSS scenario runs it as a process).
func (s *Stack) StopWorker() {
	if s.workerCancel != nil {
		s.workerCancel()
		s.workerWG.Wait()
		s.workerCancel = nil
	}
}

// throwawayDatabase creates an empty database on the server of adminURL and returns its URL
// and a function dropping it.
func throwawayDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	if adminURL == "" {
		adminURL = stack.DefaultPostgresURL
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("JIT_DATABASE_URL is not a URL: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", adminURL)
	if err == nil {
		err = admin.PingContext(cctx)
	}
	if err != nil {
		return "", nil, fmt.Errorf("PostgreSQL is not reachable at %s (%v): start the local server on 127.0.0.1:5432 or set JIT_DATABASE_URL", u.Redacted(), err)
	}
	defer admin.Close()
	name := "jit_bench_" + hex.EncodeToString(randomBytes(8))
	if _, err := admin.ExecContext(cctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return "", nil, fmt.Errorf("create the benchmark database on %s: %w (the user needs CREATEDB)", u.Redacted(), err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", adminURL)
		if err != nil {
			return
		}
		defer db.Close()
		// FORCE ends connections still open (PostgreSQL 13+).
		_, _ = db.ExecContext(dctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`)
	}
	dbURL := *u
	dbURL.Path = "/" + name
	return dbURL.String(), drop, nil
}
