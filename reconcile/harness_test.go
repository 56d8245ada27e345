package reconcile_test

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

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/workflows"
)

var temporalAddr string

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	sas := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sas[d.Name] = d.Type
	}
	ts, err := temporaldev.Start(context.Background(), temporaldev.Options{SearchAttributes: sas})
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconcile: "+err.Error())
		os.Exit(1)
	}
	temporalAddr = ts.Address
	code := m.Run()
	ts.Stop()
	os.Exit(code)
}

// stack is the product as `jitaccess dev` wires it (API and worker in one App) on the real
// dev server, PostgreSQL and the emulator.
type stack struct {
	t     *testing.T
	sim   *entrasim.Server
	app   *app.App
	cfg   config.Config
	api   string
	admin string
	logs  *syncBuffer
	demo  demo.Demo
}

func newStack(t *testing.T, reconcileInterval string) *stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	port, err := temporaldev.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	admin := "jit_" + randomString(t)
	env := map[string]string{
		"JIT_HTTP_ADDR":             fmt.Sprintf("127.0.0.1:%d", port),
		"JIT_PUBLIC_URL":            fmt.Sprintf("http://127.0.0.1:%d", port),
		"JIT_DATABASE_URL":          testenv.Postgres(t),
		"JIT_TEMPORAL_ADDRESS":      temporalAddr,
		"JIT_TASK_QUEUE":            "jit-reconcile-" + strings.ToLower(randomString(t)[:10]),
		"JIT_ENCRYPTION_KEY":        base64.StdEncoding.EncodeToString(randomBytes(t, 32)),
		"JIT_BOOTSTRAP_ADMIN_TOKEN": admin,
		"JIT_ENTRA_AUTHORITY":       simSrv.URL,
		"JIT_GRAPH_URL":             simSrv.URL + "/v1.0",
		"JIT_OAUTH_CLIENT_ID":       entrasim.ClientID,
		"JIT_OAUTH_CLIENT_SECRET":   entrasim.ClientSecret,
		"JIT_MIN_ACCESS_DURATION":   "1s",
		"JIT_MAX_ACCESS_DURATION":   "1h",
		"JIT_RECONCILE_INTERVAL":    reconcileInterval,
		"JIT_LOG_LEVEL":             "debug",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	a, err := app.Open(ctx, cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, sim: sim, app: a, cfg: cfg, api: cfg.PublicURL, admin: admin, logs: logs}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = a.ServeAPI(ctx) }()
	go func() { defer wg.Done(); _ = a.RunWorker(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		a.Close()
		simSrv.Close()
		if t.Failed() {
			t.Logf("product logs (tail):\n%s", tailString(logs.String(), 6000))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.api + "/readyz")
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
	s.demo, err = demo.Seed(ctx, demo.Options{API: s.api, AdminToken: admin, AccessDuration: "30m",
		Roles: []string{demo.RoleUserAdministrator, demo.RoleHelpdeskAdministrator}})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return s
}

// call performs an API request and decodes the JSON answer into out (when non-nil).
func (s *stack) call(token, method, path string, in, out any) int {
	s.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.api+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// technician creates a member of the demo tenant (entitled through All admins); its token.
func (s *stack) technician(name string) string {
	s.t.Helper()
	var tc struct{ ID, Token string }
	if code := s.call(s.admin, http.MethodPost, "/v1/technicians", map[string]any{"email": name + "@msp.example", "display_name": name}, &tc); code != http.StatusCreated {
		s.t.Fatalf("create technician %s: %d", name, code)
	}
	if code := s.call(s.admin, http.MethodPut, "/v1/tenants/"+s.demo.TenantID+"/members/"+tc.ID, nil, nil); code != http.StatusNoContent {
		s.t.Fatalf("add member %s: %d", name, code)
	}
	return tc.Token
}

type grantView struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	ActivatedAt time.Time `json:"activated_at"`
	Failure     *string   `json:"failure"`
	Account     struct {
		UPN      string `json:"user_principal_name"`
		ObjectID string `json:"object_id"`
	} `json:"account"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// activeGrant requests the demo application for token and waits until the grant is active.
func (s *stack) activeGrant(token string) grantView {
	s.t.Helper()
	var g grantView
	if code := s.call(token, http.MethodPost, "/v1/access-requests", map[string]any{"application_id": s.demo.ApplicationID, "justification": "reconcile test"}, &g); code != http.StatusAccepted {
		s.t.Fatalf("request: %d", code)
	}
	return s.waitStatus(g.ID, "active")
}

func (s *stack) grant(id string) grantView {
	s.t.Helper()
	var g grantView
	if code := s.call(s.admin, http.MethodGet, "/v1/access-requests/"+id, nil, &g); code != http.StatusOK {
		s.t.Fatalf("read grant %s: %d", id, code)
	}
	return g
}

func (s *stack) waitStatus(id, status string) grantView {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		g := s.grant(id)
		if g.Status == status {
			return g
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("grant %s is %q, not %q", id, g.Status, status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *stack) user(upn string) entrasim.UserView {
	s.t.Helper()
	u, ok := s.sim.User("contoso", upn)
	if !ok {
		s.t.Fatalf("no directory user %s", upn)
	}
	return u
}

// auditActions lists the audit log's (action, target) pairs.
func (s *stack) auditActions() map[string][]string {
	s.t.Helper()
	var page struct {
		Items []struct {
			Action string `json:"action"`
			Target string `json:"target"`
		} `json:"items"`
	}
	if code := s.call(s.admin, http.MethodGet, "/v1/audit-events?limit=200", nil, &page); code != http.StatusOK {
		s.t.Fatalf("audit events: %d", code)
	}
	out := map[string][]string{}
	for _, e := range page.Items {
		out[e.Action] = append(out[e.Action], e.Target)
	}
	return out
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

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

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
