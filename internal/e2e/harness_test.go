// Package e2e runs the product end to end on its real parts: the pinned Temporal dev server,
// PostgreSQL, the Entra emulator over HTTP and the API and worker exactly as `jitaccess dev`
// wires them (package app). Nothing is mocked.
package e2e

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/harness"
)

// temporalAddr is the dev server shared by every test of this binary; each stack uses its own
// task queue, database and emulator, so tests never see each other's grants.
var temporalAddr string

func TestMain(m *testing.M) { harness.Main(m, "e2e", &temporalAddr) }

// stack is one running product (internal/harness).
type stack struct {
	*harness.Stack
	t *testing.T
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
	env := map[string]string{}
	if o.MinAccessDuration != "" {
		env["JIT_MIN_ACCESS_DURATION"] = o.MinAccessDuration
	}
	if o.MaxAccessDuration != "" {
		env["JIT_MAX_ACCESS_DURATION"] = o.MaxAccessDuration
	}
	for k, v := range o.Env {
		env[k] = v
	}
	if o.TemporalAddress == "" {
		o.TemporalAddress = temporalAddr
	}
	h := harness.Start(t, harness.Options{TemporalAddress: o.TemporalAddress, TaskQueuePrefix: "jit-access-",
		Env: env, Portal: o.Portal, NoWorker: o.SplitWorker, AutoConsent: o.AutoConsent, Port: o.Port,
		Tracer: o.Tracer, Configure: o.Configure})
	s := &stack{Stack: h, t: t}
	if o.SplitWorker {
		s.Worker = &splitWorker{t: t, cfg: h.Config, logger: h.Logger().With("process", "worker")}
		s.Worker.start()
		t.Cleanup(s.Worker.stop) // before the API's stack stops
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
	return s.Call(token, method, path, in, out)
}

func randomString(t testing.TB) string { return harness.RandomString(t) }
