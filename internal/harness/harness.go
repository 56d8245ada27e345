// Package harness runs the product end to end for tests, on its real parts: the pinned Temporal
// dev server, PostgreSQL, the Entra emulator over HTTP and the API and worker exactly as
// `jitaccess dev` wires them (package app). Nothing is mocked. The end-to-end suite
// (internal/e2e) and the reconciler's tests use it.
package harness

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
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/workflows"
)

// Main is a test binary's TestMain: it starts the dev server with the product's search
// attributes, stores its address in *temporalAddress, runs the tests and exits. Every stack of
// the binary shares the server with its own task queue, database and emulator.
func Main(m *testing.M, name string, temporalAddress *string) {
	sas := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sas[d.Name] = d.Type
	}
	ts, err := temporaldev.Start(context.Background(), temporaldev.Options{SearchAttributes: sas})
	if err != nil {
		fmt.Fprintln(os.Stderr, name+": "+err.Error())
		os.Exit(1)
	}
	*temporalAddress = ts.Address
	code := m.Run()
	ts.Stop()
	os.Exit(code)
}

// Options shape one stack.
type Options struct {
	TemporalAddress string
	// TaskQueuePrefix starts the stack's random task queue name (e.g. "jit-access-").
	TaskQueuePrefix string
	// Env adds or overrides JIT_* variables (durations, intervals).
	Env map[string]string
	// Portal signs the portal in against the emulator's msp tenant (JIT_OIDC_*, bootstrap
	// admin admin@msp.example) and turns auto-consent off, so a browser picks the account.
	Portal bool
	// NoWorker runs the API alone: the test runs its worker itself (Config, Logger).
	NoWorker bool
	// LogTail is how many bytes of the product's logs a failed test prints (0: all).
	LogTail int
	// AutoConsent keeps the emulator's auto-consent with Portal (sign-in by login_hint).
	AutoConsent bool
	// Port fixes the API's port (0: a free one).
	Port int
	// Tracer, when set, traces the stack (app.OpenTraced) instead of the OTEL_* variables.
	Tracer trace.TracerProvider
	// Configure adjusts the App before the API and worker start.
	Configure func(*app.App)
}

// Stack is one running product.
type Stack struct {
	t      *testing.T
	Sim    *entrasim.Server
	SimURL string
	App    *app.App
	Config config.Config
	API    string
	Admin  string // admin API token
	Logs   *LogBuffer
}

// Start starts a stack, waits until its API is ready and stops it when the test ends.
func Start(t *testing.T, o Options) *Stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sim, err := entrasim.New(entrasim.Options{AutoConsent: !o.Portal || o.AutoConsent})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	port := o.Port
	if port == 0 {
		if port, err = temporaldev.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	admin := "jit_" + RandomString(t)
	env := map[string]string{
		"JIT_HTTP_ADDR":             fmt.Sprintf("127.0.0.1:%d", port),
		"JIT_PUBLIC_URL":            fmt.Sprintf("http://127.0.0.1:%d", port),
		"JIT_DATABASE_URL":          testenv.Postgres(t),
		"JIT_TEMPORAL_ADDRESS":      o.TemporalAddress,
		"JIT_TASK_QUEUE":            o.TaskQueuePrefix + strings.ToLower(RandomString(t)[:10]),
		"JIT_ENCRYPTION_KEY":        base64.StdEncoding.EncodeToString(RandomBytes(t, 32)),
		"JIT_BOOTSTRAP_ADMIN_TOKEN": admin,
		"JIT_ENTRA_AUTHORITY":       simSrv.URL,
		"JIT_GRAPH_URL":             simSrv.URL + "/v1.0",
		"JIT_OAUTH_CLIENT_ID":       entrasim.ClientID,
		"JIT_OAUTH_CLIENT_SECRET":   entrasim.ClientSecret,
		"JIT_MIN_ACCESS_DURATION":   "1s",
		"JIT_MAX_ACCESS_DURATION":   "1h",
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
	s := &Stack{t: t, Sim: sim, SimURL: simSrv.URL, Config: cfg, API: cfg.PublicURL, Admin: admin, Logs: &LogBuffer{}}
	var a *app.App
	if o.Tracer != nil {
		a, err = app.OpenTraced(ctx, cfg, s.Logger(), o.Tracer)
	} else {
		a, err = app.Open(ctx, cfg, s.Logger())
	}
	if err != nil {
		t.Fatal(err)
	}
	if o.Configure != nil {
		o.Configure(a)
	}
	s.App = a
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.ServeAPI(ctx) }()
	if !o.NoWorker {
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.RunWorker(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		a.Close()
		simSrv.Close()
		if t.Failed() {
			logs := s.Logs.String()
			if o.LogTail > 0 && len(logs) > o.LogTail {
				logs = logs[len(logs)-o.LogTail:]
			}
			t.Logf("product logs:\n%s", logs)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
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

// Logger writes the product's JSON logs, at debug level, into Logs.
func (s *Stack) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(s.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Call performs an API request with token (none when empty) and decodes the JSON answer into
// out (when non-nil); it returns the status.
func (s *Stack) Call(token, method, path string, in, out any) int {
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

// RandomBytes is n random bytes.
func RandomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// RandomString is 32 random URL-safe characters.
func RandomString(t testing.TB) string {
	return base64.RawURLEncoding.EncodeToString(RandomBytes(t, 24))
}

// LogBuffer collects the product's logs for secret scans and failure output.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
