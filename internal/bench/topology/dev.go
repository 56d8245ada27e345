package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the throwaway database
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/worker"
	"github.com/jitaccess/jitaccess/workflows"
)

// DefaultPostgresURL is the local server the benchmark creates its throwaway database on
// when JIT_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Stack is the whole product running in this process, plus the floor's worker: the pinned
// Temporal dev server (child process, DevServerDynamicConfig), the Entra emulator over real
// HTTP on loopback, a throwaway PostgreSQL database, the API and the worker (package app).
type Stack struct {
	Temporal *temporaldev.Server
	Sim      *entrasim.Server
	SimURL   string
	App      *app.App
	API      string
	Admin    string
	// Env is the product's configuration, for a worker started as a separate process.
	Env map[string]string

	http         *http.Client
	simSrv       *httptest.Server
	dropDB       func()
	apiCancel    context.CancelFunc
	workerCancel context.CancelFunc
	wg           sync.WaitGroup
	workerWG     sync.WaitGroup
	floor        sdkworker.Worker
	tuning       Tuning
}

// StackOptions configures StartStack.
type StackOptions struct {
	// DatabaseURL is the server to create the throwaway database on (JIT_DATABASE_URL).
	DatabaseURL string
	// Log receives the product's logs (warnings and errors); nil discards them.
	Log io.Writer
	// Tuning, when set, changes the product's Temporal client or worker for an experiment;
	// the floor gets the same change so the comparison stays like with like.
	Tuning Tuning
}

// Tuning is an experiment with settings the product does not (yet) use.
type Tuning struct {
	// Gzip sets JIT_TEMPORAL_COMPRESSION=gzip, the SDK's default that jitaccess turned off.
	Gzip bool
	// Pollers sets MaxConcurrentWorkflowTaskPollers and MaxConcurrentActivityTaskPollers
	// (SDK default 2 each).
	Pollers int
	// DBIdle, when positive, caps the product's idle PostgreSQL connections (database/sql's
	// default is 2; jitaccess keeps its whole pool warm).
	DBIdle int
}

func (t Tuning) String() string {
	var parts []string
	if t.Gzip {
		parts = append(parts, "gzip")
	}
	if t.Pollers > 0 {
		parts = append(parts, fmt.Sprintf("pollers=%d", t.Pollers))
	}
	if t.DBIdle > 0 {
		parts = append(parts, fmt.Sprintf("db-idle=%d", t.DBIdle))
	}
	return strings.Join(parts, ",")
}

// StartStack starts everything and waits until the API is ready. Close stops it and drops
// the database.
func StartStack(ctx context.Context, o StackOptions) (_ *Stack, err error) {
	s := &Stack{tuning: o.Tuning, http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}}
	defer func() {
		// Never leave a dev server or a database behind, even on a panic.
		if p := recover(); p != nil {
			s.Close()
			panic(p)
		}
		if err != nil {
			s.Close()
		}
	}()
	sas := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sas[d.Name] = d.Type
	}
	if s.Temporal, err = temporaldev.Start(ctx, temporaldev.Options{SearchAttributes: sas}); err != nil {
		return nil, err
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	logger := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if s.Sim, err = entrasim.New(entrasim.Options{AutoConsent: true}); err != nil {
		return nil, err
	}
	s.simSrv = httptest.NewServer(s.Sim)
	s.SimURL = s.simSrv.URL

	dbURL, drop, err := throwawayDatabase(ctx, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	s.dropDB = drop
	port, err := temporaldev.FreePort()
	if err != nil {
		return nil, err
	}
	s.Admin = "jit_" + randomHex(24)
	s.Env = map[string]string{
		"JIT_HTTP_ADDR":             fmt.Sprintf("127.0.0.1:%d", port),
		"JIT_PUBLIC_URL":            fmt.Sprintf("http://127.0.0.1:%d", port),
		"JIT_DATABASE_URL":          dbURL,
		"JIT_TEMPORAL_ADDRESS":      s.Temporal.Address,
		"JIT_TASK_QUEUE":            workflows.TaskQueue,
		"JIT_ENCRYPTION_KEY":        base64.StdEncoding.EncodeToString(randomBytes(32)),
		"JIT_BOOTSTRAP_ADMIN_TOKEN": s.Admin,
		"JIT_ENTRA_AUTHORITY":       s.SimURL,
		"JIT_GRAPH_URL":             s.SimURL + "/v1.0",
		"JIT_OAUTH_CLIENT_ID":       entrasim.ClientID,
		"JIT_OAUTH_CLIENT_SECRET":   entrasim.ClientSecret,
		// Short grants make a whole lifecycle measurable; the floor uses the same timer.
		"JIT_MIN_ACCESS_DURATION": "100ms",
		"JIT_MAX_ACCESS_DURATION": "24h",
		"JIT_LOG_LEVEL":           "warn",
	}
	if o.Tuning.Gzip {
		s.Env["JIT_TEMPORAL_COMPRESSION"] = "gzip"
	}
	cfg, err := config.Load(func(k string) string { return s.Env[k] })
	if err != nil {
		return nil, err
	}
	if s.App, err = app.Open(ctx, cfg, logger); err != nil {
		return nil, err
	}
	if o.Tuning.DBIdle > 0 {
		s.App.Store.DB().DB.SetMaxIdleConns(o.Tuning.DBIdle)
	}
	s.API = cfg.PublicURL
	apiCtx, apiCancel := context.WithCancel(context.WithoutCancel(ctx))
	s.apiCancel = apiCancel
	s.wg.Add(1)
	go func() { defer s.wg.Done(); _ = s.App.ServeAPI(apiCtx) }()
	s.StartWorker(ctx)

	s.floor = newFloorWorker(s.App.Temporal, FloorTaskQueue, o.Tuning)
	if err := s.floor.Start(); err != nil {
		return nil, fmt.Errorf("start floor worker: %w", err)
	}
	if err := waitReady(ctx, s.http, s.API+"/readyz", time.Minute); err != nil {
		return nil, err
	}
	return s, nil
}

// StartWorker runs the product's worker in this process: app.RunWorker, or under a Tuning
// experiment the same worker (worker.Register, worker.NewMetrics) with the tuned options.
func (s *Stack) StartWorker(ctx context.Context) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.workerCancel = cancel
	s.workerWG.Add(1)
	if s.tuning.Pollers == 0 {
		go func() { defer s.workerWG.Done(); _ = s.App.RunWorker(wctx) }()
		return
	}
	a := s.App
	acts := &activities.Activities{Store: a.Store, Directory: a.Entra, Now: time.Now, Logger: a.Log.With("component", "activities")}
	w := sdkworker.New(a.Temporal, a.Cfg.TaskQueue, tunedOptions(s.tuning, sdkworker.Options{
		WorkerStopTimeout: worker.DefaultStopTimeout,
		Interceptors:      []interceptor.WorkerInterceptor{worker.NewMetrics(a.Registry, a.Log)},
	}))
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

// tunedOptions applies t to o.
func tunedOptions(t Tuning, o sdkworker.Options) sdkworker.Options {
	if t.Pollers > 0 {
		o.MaxConcurrentWorkflowTaskPollers = t.Pollers
		o.MaxConcurrentActivityTaskPollers = t.Pollers
	}
	return o
}

// StopWorker stops the in-process product worker (the RSS scenario runs it as a process).
func (s *Stack) StopWorker() {
	if s.workerCancel != nil {
		s.workerCancel()
		s.workerWG.Wait()
		s.workerCancel = nil
	}
}

// Close stops everything this stack started, in reverse order, and drops the database.
func (s *Stack) Close() {
	if s.floor != nil {
		s.floor.Stop()
	}
	s.StopWorker()
	if s.apiCancel != nil {
		s.apiCancel()
	}
	s.wg.Wait()
	if s.App != nil {
		s.App.Close()
	}
	if s.simSrv != nil {
		s.simSrv.Close()
	}
	if s.Temporal != nil {
		s.Temporal.Stop()
	}
	if s.dropDB != nil {
		s.dropDB()
	}
}

// throwawayDatabase creates an empty database on the server of adminURL and returns its URL
// and a function dropping it.
func throwawayDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	if adminURL == "" {
		adminURL = DefaultPostgresURL
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
	name := "jit_bench_" + randomHex(8)
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

func waitReady(ctx context.Context, hc *http.Client, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v", url, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed")) // never happens on Linux
	}
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// memTotalMiB reads MemTotal from /proc/meminfo.
func memTotalMiB() int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb int
	_, _ = fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
	return kb / 1024
}
