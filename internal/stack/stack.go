// Package stack runs jitaccess in its production topology on one machine: the Temporal server
// built from source (scripts/temporal-server.sh) persisting to PostgreSQL with the SQL
// visibility store, two `jitaccess worker` and two `jitaccess serve` processes, a round-robin
// proxy giving the APIs one address, and the Entra emulator. `make stack` (cmd/jitaccess-stack)
// and the production-topology tests start it through Start. docker-compose.yml describes the
// same topology (Topology; deploy's test compares them).
package stack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/proc"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/workflows"
)

// DefaultPostgresURL is the server the stack keeps its databases on unless told otherwise.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Options configure Start. Zero values pick the defaults documented on each field.
type Options struct {
	// Bin holds jitaccess, temporal-server and temporal-sql-tool (default <module root>/bin).
	Bin string
	// Dir keeps the stack's state: secrets, Temporal configuration, logs, emulator state.
	Dir string
	// PostgresURL is a server URL whose user may create databases (default DefaultPostgresURL).
	PostgresURL string
	// DatabasePrefix names the databases <prefix>_temporal, <prefix>_temporal_visibility and
	// <prefix>_app (default "jit_stack").
	DatabasePrefix string
	// Addr is the proxy's listen address, the one address of the APIs (default a free port).
	Addr string
	// SimAddr is the Entra emulator's listen address (default a free port).
	SimAddr string
	// TemporalPort is the frontend's gRPC port (default a free port).
	TemporalPort int
	// Workers and APIs are the process counts (default 2 each).
	Workers, APIs int
	// Env adds or overrides JIT_* variables of every product process.
	Env map[string]string
	// SimInMemory keeps the emulator's directory in memory only (no state file, which is
	// rewritten on every change: too slow with the benchmark's thousands of accounts).
	SimInMemory bool
	// Progress receives one line per step (nil discards them).
	Progress io.Writer
}

// Stack is a running production-shaped topology.
type Stack struct {
	URL             string // the proxy: the one address of the APIs
	TemporalAddress string
	Namespace       string
	SimURL          string
	Sim             *entrasim.Server
	AdminToken      string
	Dir             string
	// Env is the configuration every product process shares (Options.Env applied).
	Env map[string]string
	// Databases are the stack's PostgreSQL databases: Temporal, its visibility, jitaccess.
	Databases []string

	Temporal *proc.Process
	Workers  []*proc.Process
	APIs     []*proc.Process

	pg        postgresTarget
	progress  io.Writer
	stopSim   func()
	stopProxy func()
	stopOnce  sync.Once
	// temporalDied: start failed after the Temporal server had stopped by itself.
	temporalDied bool
}

// Start brings the whole topology up and returns once the proxy answers /readyz. On error
// everything already started is stopped. Ports are picked free, and another process may take
// one before its server binds it (the server then stops itself): when a process died during
// start-up, the stack is started again on new ports, up to three times.
func Start(ctx context.Context, o Options) (*Stack, error) {
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, o)
		retry := s != nil && s.temporalDied && o.TemporalPort == 0 || errors.Is(err, proc.ErrExited) && o.Addr == ""
		if err == nil || attempt == 3 || !retry {
			return s, err
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "stack: a process stopped during start-up (%v); starting again on new ports\n", err)
		}
	}
}

func start(ctx context.Context, o Options) (_ *Stack, err error) {
	o, err = withDefaults(o)
	if err != nil {
		return nil, err
	}
	s := &Stack{Dir: o.Dir, Namespace: "default", progress: o.Progress}
	defer func() {
		if err != nil {
			s.temporalDied = s.Temporal != nil && !s.Temporal.Running()
			s.Stop()
		}
	}()
	if s.pg, err = parsePostgres(o.PostgresURL); err != nil {
		return nil, err
	}
	logs := filepath.Join(o.Dir, "logs")
	if err := os.MkdirAll(logs, 0o700); err != nil {
		return nil, err
	}
	key, err := secretFile(filepath.Join(o.Dir, "encryption.key"), func(b []byte) string { return base64.StdEncoding.EncodeToString(b) })
	if err != nil {
		return nil, err
	}
	if s.AdminToken, err = secretFile(filepath.Join(o.Dir, "admin.token"), func(b []byte) string { return "jit_" + base64.RawURLEncoding.EncodeToString(b) }); err != nil {
		return nil, err
	}

	// 1. PostgreSQL: Temporal's two databases with the pinned server's schema, and jitaccess's.
	temporalDB, visibilityDB, appDB := o.DatabasePrefix+"_temporal", o.DatabasePrefix+"_temporal_visibility", o.DatabasePrefix+"_app"
	s.Databases = []string{temporalDB, visibilityDB, appDB}
	s.step("PostgreSQL %s: databases %s", s.pg.addr(), strings.Join(s.Databases, ", "))
	if err := s.pg.ensureDatabases(ctx, s.Databases...); err != nil {
		return nil, err
	}
	tool := filepath.Join(o.Bin, "temporal-sql-tool")
	schemaLog := filepath.Join(logs, "temporal-sql-tool.log")
	if err := s.pg.setupSchema(ctx, tool, schemaLog, temporalDB, "postgresql/v12/temporal"); err != nil {
		return nil, err
	}
	if err := s.pg.setupSchema(ctx, tool, schemaLog, visibilityDB, "postgresql/v12/visibility"); err != nil {
		return nil, err
	}

	// 2. The Temporal server on them, then the namespace and the search attributes.
	ports, err := temporalPorts(o.TemporalPort)
	if err != nil {
		return nil, err
	}
	configDir, err := writeTemporalConfig(o.Dir, temporalConfig{
		LogLevel: "warn", HistoryShards: 4, Database: temporalDB, VisibilityDatabase: visibilityDB,
		PostgresAddr: s.pg.addr(), PostgresUser: s.pg.user, PostgresPassword: s.pg.password, Ports: ports,
	})
	if err != nil {
		return nil, err
	}
	s.TemporalAddress = fmt.Sprintf("127.0.0.1:%d", ports.Frontend)
	s.Temporal = &proc.Process{Name: "temporal-server", Bin: filepath.Join(o.Bin, "temporal-server"),
		Args: []string{"--root", o.Dir, "--config", filepath.Base(configDir), "--env", "stack", "--allow-no-auth", "start"},
		Env:  proc.Env(nil), Log: filepath.Join(logs, "temporal-server.log"), Ready: temporalReady(s.TemporalAddress)}
	s.step("Temporal server %s (frontend %s)", TemporalServerVersion, s.TemporalAddress)
	if err := s.Temporal.Start(ctx, 3*time.Minute); err != nil {
		return nil, err
	}
	if err := prepareNamespace(ctx, s.TemporalAddress, s.Namespace); err != nil {
		return nil, err
	}

	// 3. The Entra emulator, in this process, its directory kept in the stack's directory.
	simAddr, err := resolvePort(o.SimAddr)
	if err != nil {
		return nil, err
	}
	s.SimURL = "http://" + simAddr
	simLog, err := os.OpenFile(filepath.Join(logs, "entra-sim.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	simOpts := entrasim.Options{AutoConsent: true, StateFile: filepath.Join(o.Dir, "entra-sim.json"), BaseURL: s.SimURL,
		Logger: slog.New(slog.NewJSONHandler(simLog, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if o.SimInMemory {
		simOpts.StateFile = ""
	}
	s.Sim, err = entrasim.New(simOpts)
	if err != nil {
		simLog.Close()
		return nil, fmt.Errorf("entra emulator: %w", err)
	}
	stopSim, _, err := app.Listen(ctx, simAddr, s.Sim)
	if err != nil {
		simLog.Close()
		return nil, fmt.Errorf("entra emulator on %s: %w", simAddr, err)
	}
	s.stopSim = func() { stopSim(); simLog.Close() }
	s.step("Entra emulator %s", s.SimURL)

	// 4. The product: APIs and workers as separate processes, the APIs behind the proxy.
	proxyAddr, err := resolvePort(o.Addr)
	if err != nil {
		return nil, err
	}
	s.URL = "http://" + proxyAddr
	common := productEnv(s, key, s.pg.databaseURL(appDB))
	for k, v := range o.Env {
		common[k] = v
	}
	s.Env = common
	jitaccess := filepath.Join(o.Bin, "jitaccess")
	var backends []string
	for i := range o.APIs {
		addr, err := resolvePort("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		metrics, err := resolvePort("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		backends = append(backends, "http://"+addr)
		env := merge(common, map[string]string{"JIT_HTTP_ADDR": addr, "JIT_METRICS_ADDR": metrics,
			"JIT_BOOTSTRAP_ADMIN_TOKEN": s.AdminToken, "JIT_BOOTSTRAP_ADMIN_EMAIL": "admin@msp.example"})
		s.APIs = append(s.APIs, &proc.Process{Name: fmt.Sprintf("api-%d", i+1), Bin: jitaccess, Args: []string{"serve"},
			Env: proc.Env(env), Log: filepath.Join(logs, fmt.Sprintf("api-%d.log", i+1)), Ready: proc.HTTPReady("http://" + addr + "/readyz")})
	}
	for i := range o.Workers {
		addr, err := resolvePort("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		env := merge(common, map[string]string{"JIT_METRICS_ADDR": addr})
		s.Workers = append(s.Workers, &proc.Process{Name: fmt.Sprintf("worker-%d", i+1), Bin: jitaccess, Args: []string{"worker"},
			Env: proc.Env(env), Log: filepath.Join(logs, fmt.Sprintf("worker-%d.log", i+1)), Ready: proc.HTTPReady("http://" + addr + "/metrics")})
	}
	procs := append(append([]*proc.Process{}, s.APIs...), s.Workers...)
	errs := make(chan error, len(procs))
	for _, p := range procs {
		go func() { errs <- p.Start(ctx, 2*time.Minute) }()
	}
	var startErrs []error
	for range procs {
		startErrs = append(startErrs, <-errs)
	}
	if err := errors.Join(startErrs...); err != nil {
		return nil, err
	}
	s.step("%d APIs and %d workers (jitaccess)", len(s.APIs), len(s.Workers))
	proxy, err := NewProxy(backends...)
	if err != nil {
		return nil, err
	}
	if s.stopProxy, _, err = app.Listen(ctx, proxyAddr, proxy); err != nil {
		return nil, fmt.Errorf("proxy on %s: %w", proxyAddr, err)
	}
	if err := waitReady(ctx, s.URL+"/readyz", time.Minute); err != nil {
		return nil, err
	}
	s.step("API %s (round-robin over %s)", s.URL, strings.Join(backends, ", "))
	return s, nil
}

// productEnv is the configuration every jitaccess process of the stack shares.
func productEnv(s *Stack, key, databaseURL string) map[string]string {
	return map[string]string{
		"JIT_PUBLIC_URL":          s.URL,
		"JIT_DATABASE_URL":        databaseURL,
		"JIT_TEMPORAL_ADDRESS":    s.TemporalAddress,
		"JIT_TEMPORAL_NAMESPACE":  s.Namespace,
		"JIT_TASK_QUEUE":          workflows.TaskQueue,
		"JIT_ENCRYPTION_KEY":      key,
		"JIT_ENTRA_AUTHORITY":     s.SimURL,
		"JIT_GRAPH_URL":           s.SimURL + "/v1.0",
		"JIT_OAUTH_CLIENT_ID":     entrasim.ClientID,
		"JIT_OAUTH_CLIENT_SECRET": entrasim.ClientSecret,
		"JIT_OIDC_ISSUER":         s.SimURL + "/" + entrasim.MSPTenantID + "/v2.0",
		"JIT_OIDC_CLIENT_ID":      entrasim.ClientID,
		"JIT_OIDC_CLIENT_SECRET":  entrasim.ClientSecret,
		"JIT_MIN_ACCESS_DURATION": "10s",
		"JIT_LOG_LEVEL":           "info",
	}
}

// Stop stops everything in reverse order: proxy, APIs and workers (gracefully), emulator,
// Temporal server. The databases stay (DropDatabases forgets them).
func (s *Stack) Stop() {
	s.stopOnce.Do(func() {
		if s.stopProxy != nil {
			s.stopProxy()
		}
		var wg sync.WaitGroup
		for _, p := range append(append([]*proc.Process{}, s.APIs...), s.Workers...) {
			wg.Add(1)
			go func() { defer wg.Done(); p.Stop(20 * time.Second) }()
		}
		wg.Wait()
		if s.stopSim != nil {
			s.stopSim()
		}
		if s.Temporal != nil {
			s.Temporal.Stop(20 * time.Second)
		}
	})
}

// DropDatabases drops the stack's databases; call it after Stop.
func (s *Stack) DropDatabases(ctx context.Context) error {
	return s.pg.dropDatabases(ctx, s.Databases...)
}

func (s *Stack) step(format string, args ...any) {
	if s.progress != nil {
		fmt.Fprintf(s.progress, "stack: "+format+"\n", args...)
	}
}

func withDefaults(o Options) (Options, error) {
	if o.Bin == "" {
		root, err := temporaldev.ModuleRoot()
		if err != nil {
			return o, err
		}
		o.Bin = filepath.Join(root, "bin")
	}
	for _, name := range []string{"jitaccess", "temporal-server", "temporal-sql-tool"} {
		if _, err := os.Stat(filepath.Join(o.Bin, name)); err != nil {
			return o, fmt.Errorf("%s is missing in %s: run `make build` and scripts/temporal-server.sh", name, o.Bin)
		}
	}
	if o.Dir == "" {
		return o, errors.New("stack: Options.Dir is required")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return o, err
	}
	o.Dir = dir
	if o.PostgresURL == "" {
		o.PostgresURL = DefaultPostgresURL
	}
	if o.DatabasePrefix == "" {
		o.DatabasePrefix = "jit_stack"
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.SimAddr == "" {
		o.SimAddr = "127.0.0.1:0"
	}
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.APIs == 0 {
		o.APIs = 2
	}
	return o, nil
}

// resolvePort turns a :0 address into one with a free port, so it can be configured before
// anything listens on it.
func resolvePort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	if port != "0" {
		return addr, nil
	}
	n, err := temporaldev.FreePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, itoa(n)), nil
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// secretFile reads a secret kept in path, or creates it from 32 random bytes rendered by enc.
func secretFile(path string, enc func([]byte) string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	s := enc(raw)
	return s, os.WriteFile(path, []byte(s+"\n"), 0o600)
}

// RandomPrefix is a database prefix for a throwaway stack (tests).
func RandomPrefix() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "jit_stack_" + hex.EncodeToString(b)
}

func waitReady(ctx context.Context, url string, limit time.Duration) error {
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	check := proc.HTTPReady(url)
	for {
		err := check(rctx)
		if err == nil {
			return nil
		}
		select {
		case <-rctx.Done():
			return fmt.Errorf("%s not ready after %s: %v", url, limit, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Reset forgets a stack's state: drops its databases and removes its directory.
func Reset(ctx context.Context, o Options) error {
	o, err := withDefaults(o)
	if err != nil {
		return err
	}
	pg, err := parsePostgres(o.PostgresURL)
	if err != nil {
		return err
	}
	if err := pg.dropDatabases(ctx, o.DatabasePrefix+"_temporal", o.DatabasePrefix+"_temporal_visibility", o.DatabasePrefix+"_app"); err != nil {
		return err
	}
	return os.RemoveAll(o.Dir)
}
