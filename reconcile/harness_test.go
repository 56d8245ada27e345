package reconcile_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/harness"
)

var temporalAddr string

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	harness.Main(m, "reconcile", &temporalAddr)
}

// stack is the product as `jitaccess dev` wires it (API and worker in one App) on the real
// dev server, PostgreSQL and the emulator (internal/harness), seeded with the demo.
type stack struct {
	t     *testing.T
	h     *harness.Stack
	sim   *entrasim.Server
	app   *app.App
	cfg   config.Config
	api   string
	admin string
	demo  demo.Demo
}

func newStack(t *testing.T, reconcileInterval string) *stack {
	t.Helper()
	h := harness.Start(t, harness.Options{TemporalAddress: temporalAddr, TaskQueuePrefix: "jit-reconcile-",
		Env: map[string]string{"JIT_RECONCILE_INTERVAL": reconcileInterval}, LogTail: 6000})
	s := &stack{t: t, h: h, sim: h.Sim, app: h.App, cfg: h.Config, api: h.API, admin: h.Admin}
	var err error
	s.demo, err = demo.Seed(t.Context(), demo.Options{API: s.api, AdminToken: s.admin, AccessDuration: "30m",
		Roles: []string{demo.RoleUserAdministrator, demo.RoleHelpdeskAdministrator}})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return s
}

// call performs an API request and decodes the JSON answer into out (when non-nil).
func (s *stack) call(token, method, path string, in, out any) int {
	s.t.Helper()
	return s.h.Call(token, method, path, in, out)
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

func randomString(t testing.TB) string { return harness.RandomString(t) }
