// Package e2e runs the product end to end on its real parts: the pinned Temporal dev server,
// PostgreSQL, the Entra emulator over HTTP and the API and worker exactly as `jitaccess dev`
// wires them (package app). Nothing is mocked.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/workflows"
)

// temporalAddr is the dev server shared by every test of this binary; each stack uses its own
// task queue, database and emulator, so tests never see each other's grants.
var temporalAddr string

func TestMain(m *testing.M) {
	sas := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sas[d.Name] = d.Type
	}
	ts, err := temporaldev.Start(context.Background(), temporaldev.Options{SearchAttributes: sas})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: "+err.Error())
		os.Exit(1)
	}
	temporalAddr = ts.Address
	code := m.Run()
	ts.Stop()
	os.Exit(code)
}

// stack is one running product.
type stack struct {
	t      *testing.T
	Sim    *entrasim.Server
	SimURL string
	App    *app.App
	API    string
	Admin  string // admin API token
	Logs   *syncBuffer
	// Worker is the separately restartable worker of a stack made with SplitWorker.
	Worker *splitWorker
}

type stackOptions struct {
	MinAccessDuration string
	MaxAccessDuration string
	// Portal signs the portal in against the emulator's msp tenant (JIT_OIDC_*, bootstrap
	// admin admin@msp.example) and turns auto-consent off, so a browser picks the account.
	Portal bool
	// SplitWorker runs the worker in its own App, as `jitaccess serve` and `jitaccess worker`
	// run in production, so that a test can restart it alone (stack.Worker).
	SplitWorker bool
	// Env adds or overrides JIT_* variables of the API and worker.
	Env map[string]string
	// Tracer, when set, traces the stack (app.OpenTraced) instead of the OTEL_* variables.
	Tracer trace.TracerProvider
	// AutoConsent keeps the emulator's auto-consent with Portal (sign-in by login_hint).
	AutoConsent bool
	// TemporalAddress replaces the shared dev server; Port fixes the API's port (0: free).
	TemporalAddress string
	Port            int
	// Configure adjusts the App before the API and worker start.
	Configure func(*app.App)
}

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sim, err := entrasim.New(entrasim.Options{AutoConsent: !o.Portal || o.AutoConsent})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	port, err := temporaldev.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if o.Port != 0 {
		port = o.Port
	}
	if o.TemporalAddress == "" {
		o.TemporalAddress = temporalAddr
	}
	admin := "jit_" + randomString(t)
	if o.MinAccessDuration == "" {
		o.MinAccessDuration = "1s"
	}
	if o.MaxAccessDuration == "" {
		o.MaxAccessDuration = "1h"
	}
	env := map[string]string{
		"JIT_HTTP_ADDR":             fmt.Sprintf("127.0.0.1:%d", port),
		"JIT_PUBLIC_URL":            fmt.Sprintf("http://127.0.0.1:%d", port),
		"JIT_DATABASE_URL":          testenv.Postgres(t),
		"JIT_TEMPORAL_ADDRESS":      o.TemporalAddress,
		"JIT_TASK_QUEUE":            "jit-access-" + strings.ToLower(randomString(t)[:10]),
		"JIT_ENCRYPTION_KEY":        base64.StdEncoding.EncodeToString(randomBytes(t, 32)),
		"JIT_BOOTSTRAP_ADMIN_TOKEN": admin,
		"JIT_ENTRA_AUTHORITY":       simSrv.URL,
		"JIT_GRAPH_URL":             simSrv.URL + "/v1.0",
		"JIT_OAUTH_CLIENT_ID":       entrasim.ClientID,
		"JIT_OAUTH_CLIENT_SECRET":   entrasim.ClientSecret,
		"JIT_MIN_ACCESS_DURATION":   o.MinAccessDuration,
		"JIT_MAX_ACCESS_DURATION":   o.MaxAccessDuration,
		"JIT_LOG_LEVEL":             "debug",
	}
	if o.Portal {
		env["JIT_OIDC_ISSUER"] = simSrv.URL + "/" + entrasim.MSPTenantID + "/v2.0"
		env["JIT_OIDC_CLIENT_ID"] = entrasim.ClientID
		env["JIT_OIDC_CLIENT_SECRET"] = entrasim.ClientSecret
		env["JIT_BOOTSTRAP_ADMIN_EMAIL"] = "admin@msp.example"
	}
	for k, v := range o.Env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	var a *app.App
	if o.Tracer != nil {
		a, err = app.OpenTraced(ctx, cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), o.Tracer)
	} else {
		a, err = app.Open(ctx, cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	if err != nil {
		t.Fatal(err)
	}
	if o.Configure != nil {
		o.Configure(a)
	}
	s := &stack{t: t, Sim: sim, SimURL: simSrv.URL, App: a, API: cfg.PublicURL, Admin: admin, Logs: logs}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.ServeAPI(ctx) }()
	if o.SplitWorker {
		s.Worker = &splitWorker{t: t, cfg: cfg, logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("process", "worker")}
		s.Worker.start()
	} else {
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.RunWorker(ctx) }()
	}
	t.Cleanup(func() {
		if s.Worker != nil {
			s.Worker.stop()
		}
		cancel()
		wg.Wait()
		a.Close()
		simSrv.Close()
		if t.Failed() {
			t.Logf("product logs:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.API + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("API not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// seed configures the vendor guide's demo (tenant, technician, authorized application, rule).
func (s *stack) seed(duration string, roles ...string) demo.Demo {
	s.t.Helper()
	d, err := demo.Seed(context.Background(), demo.Options{API: s.API, AdminToken: s.Admin, AccessDuration: duration, Roles: roles})
	if err != nil {
		s.t.Fatalf("seed: %v", err)
	}
	return d
}

// call performs an API request and decodes the JSON answer into out (when non-nil).
func (s *stack) call(token, method, path string, in, out any) int {
	s.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.API+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func randomString(t testing.TB) string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(t, 24))
}

// syncBuffer collects the product's logs for the secret scan and for failure output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
