// Package app assembles a jitaccess process from its configuration: database (migrated),
// store, Entra connector, Temporal client (search attributes ensured), metrics registry, and
// from those the API handler and the worker. cmd/jitaccess, the end-to-end tests and the
// benchmark all build the product through it, so they run the same wiring.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/temporalclient"
)

// App holds the dependencies serve, worker and dev share, built once from the configuration.
type App struct {
	Cfg      config.Config
	Log      *slog.Logger
	DB       *bun.DB
	Store    *store.Store
	Entra    *entra.Client
	Temporal client.Client
	// Converter reads payloads: encrypted ones and those recorded before the codec.
	Converter converter.DataConverter
	Registry  *prometheus.Registry
	// Tracer traces the API, the workflows, activities and Graph calls; nil: tracing off.
	Tracer trace.TracerProvider
	// TemporalUIUpstream and Codec put the Temporal UI and the codec server on the API's
	// origin (server.Deps; `jitaccess dev`).
	TemporalUIUpstream string
	Codec              http.Handler
	stopTracing        func(context.Context) error
}

// NewLogger is the JSON logger at the configured level.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Open connects to the database (migrating it), Temporal (ensuring the search attributes)
// and builds the store and the Entra connector. Tracing follows the OTEL_* variables
// (TracerFromEnv: off unless configured).
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	tp, stop, err := TracerFromEnv(ctx)
	if err != nil {
		return nil, err
	}
	a, err := OpenTraced(ctx, cfg, logger, tp)
	if err != nil {
		_ = stop(context.Background())
		return nil, err
	}
	a.stopTracing = stop
	return a, nil
}

// OpenTraced is Open with the given tracer provider (nil: no tracing).
func OpenTraced(ctx context.Context, cfg config.Config, logger *slog.Logger, tp trace.TracerProvider) (*App, error) {
	a := &App{Cfg: cfg, Log: logger, Registry: prometheus.NewRegistry(), Tracer: tp}
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var err error
	if a.DB, a.Store, err = OpenStore(ctx, cfg); err != nil {
		return nil, err
	}
	a.Entra = entra.New(entra.Config{
		Authority:    cfg.EntraAuthority,
		GraphURL:     cfg.GraphURL,
		ClientID:     cfg.OAuthClientID,
		ClientSecret: cfg.OAuthClientSecret,
		RedirectURL:  cfg.RedirectURL(),
		// Graph calls join the activity's trace.
		TracerProvider: tp,
	}, a.Store)
	if a.Converter, err = temporalclient.ReaderConverter(cfg); err != nil {
		a.Close()
		return nil, err
	}
	a.Temporal, err = temporalclient.Dial(ctx, cfg, temporalclient.Deps{Logger: logger, Metrics: temporalclient.NewMetricsHandler(a.Registry), TracerProvider: tp})
	if err != nil {
		a.Close()
		return nil, err
	}
	if err := temporalclient.EnsureSearchAttributes(ctx, a.Temporal, cfg.TemporalNamespace, logger); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// OpenStore opens the database (migrated) and the store over it, without Temporal.
func OpenStore(ctx context.Context, cfg config.Config) (*bun.DB, *store.Store, error) {
	sealer, err := seal.New(cfg.EncryptionKey, cfg.PreviousKeys...)
	if err != nil {
		return nil, nil, fmt.Errorf("JIT_ENCRYPTION_KEY: %w", err)
	}
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("JIT_DATA_DIR: %w", err)
		}
	}
	db, err := schema.Open(ctx, cfg.DatabaseURL, SQLitePath(cfg), cfg.DBMaxConns)
	if err != nil {
		return nil, nil, fmt.Errorf("open database (JIT_DATABASE_URL): %w", err)
	}
	if err := schema.Migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("migrate database: %w", err)
	}
	return db, store.New(db, sealer), nil
}

// Close releases the Temporal client and the database.
func (a *App) Close() {
	if a.Temporal != nil {
		a.Temporal.Close()
	}
	if a.DB != nil {
		_ = a.DB.Close()
	}
	if a.stopTracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.stopTracing(ctx)
	}
}

// ServeMetrics serves /metrics on JIT_METRICS_ADDR when it is set; stop shuts it down.
func (a *App) ServeMetrics(ctx context.Context) (stop func(), err error) {
	if a.Cfg.MetricsAddr == "" {
		return func() {}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", server.MetricsHandler(a.Registry))
	stop, addr, err := Listen(ctx, a.Cfg.MetricsAddr, mux)
	if err != nil {
		return nil, fmt.Errorf("JIT_METRICS_ADDR: %w", err)
	}
	a.Log.Info("metrics listening", "addr", addr)
	return stop, nil
}

// Listen serves h on addr in the background; stop shuts it down, letting requests in flight
// finish for up to 5 s. addr is the address actually bound (useful with port 0).
func Listen(ctx context.Context, addr string, h http.Handler) (stop func(), bound string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, ln.Addr().String(), nil
}

// SQLitePath is the embedded store used when JIT_DATABASE_URL is empty.
func SQLitePath(cfg config.Config) string { return filepath.Join(cfg.DataDir, "jitaccess.db") }
