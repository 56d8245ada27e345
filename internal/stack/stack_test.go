package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/workflows"
)

// binDir is <module root>/bin. The test runs wherever the Temporal server is built; outside CI
// a machine that never ran scripts/temporal-server.sh skips it, in CI (CI set) it must run.
func binDir(t *testing.T) string {
	t.Helper()
	root, err := temporaldev.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "bin")
	for _, name := range []string{"temporal-server", "temporal-sql-tool"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			if os.Getenv("CI") == "" {
				t.Skipf("%s is not built (scripts/temporal-server.sh builds it; in CI this test must run)", name)
			}
			t.Fatalf("%s is not built: .ci/run must run scripts/temporal-server.sh", name)
		}
	}
	if _, err := os.Stat(filepath.Join(bin, "jitaccess")); err != nil {
		t.Fatal("bin/jitaccess is missing: run `make build`")
	}
	return bin
}

// The short lifecycle on the production topology: request → active → credentials → revoke →
// disabled in the emulator's directory, through the proxy in front of two APIs, run by two
// workers on the Temporal server persisting to PostgreSQL, found by its search attributes in
// the SQL visibility store.
func TestStackLifecycle(t *testing.T) {
	bin := binDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	o := Options{Bin: bin, Dir: t.TempDir(), PostgresURL: testenv.PostgresAdminURL(),
		DatabasePrefix: RandomPrefix(), Env: map[string]string{"JIT_MIN_ACCESS_DURATION": "1s"}, Progress: testWriter{t}}
	s, err := Start(ctx, o)
	t.Cleanup(func() {
		if s != nil {
			s.Stop()
		}
		dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
		defer dcancel()
		if err := Reset(dctx, o); err != nil {
			t.Errorf("drop the stack's databases: %v", err)
		}
	})
	if err != nil {
		if log, rerr := os.ReadFile(filepath.Join(o.Dir, "logs", "temporal-server.log")); rerr == nil {
			t.Logf("temporal-server.log (tail):\n%s", tail(log, 3000))
		}
		t.Fatal(err)
	}
	t.Logf("stack up in %s", time.Since(began).Round(100*time.Millisecond))

	tc, err := client.DialContext(ctx, client.Options{HostPort: s.TemporalAddress, Namespace: s.Namespace, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	sas, err := tc.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range workflows.SearchAttributeDefinitions() {
		if got := sas.CustomAttributes[d.Name]; got != d.IndexedValueType() {
			t.Errorf("search attribute %s: %v, want %v", d.Name, got, d.IndexedValueType())
		}
	}
	if info, err := tc.WorkflowService().GetSystemInfo(ctx, &workflowservice.GetSystemInfoRequest{}); err != nil {
		t.Fatal(err)
	} else if info.ServerVersion != TemporalServerVersion {
		t.Errorf("server version %s, want %s", info.ServerVersion, TemporalServerVersion)
	}

	seedBegan := time.Now()
	d, err := demo.Seed(ctx, demo.Options{API: s.URL, AdminToken: s.AdminToken, AccessDuration: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo seeded through the proxy in %s", time.Since(seedBegan).Round(100*time.Millisecond))

	requested := time.Now()
	var g grant
	// A Temporal cluster just started may refuse a first start for a moment ("not enough
	// hosts"); the technician asks again, as the failover test's clients do.
	for attempt := 1; ; attempt++ {
		code := call(t, ctx, http.MethodPost, s.URL+"/v1/access-requests", d.TechnicianToken,
			map[string]string{"application_id": d.ApplicationID, "justification": "stack e2e"}, &g)
		if code == http.StatusAccepted {
			break
		}
		if code < 500 || attempt == 20 {
			t.Fatalf("request: %d (attempt %d)", code, attempt)
		}
		time.Sleep(500 * time.Millisecond)
	}
	g = waitStatus(t, ctx, s.URL, d.TechnicianToken, g.ID, "active")
	t.Logf("request → active in %s", time.Since(requested).Round(10*time.Millisecond))

	var creds struct {
		UPN      string `json:"user_principal_name"`
		Password string `json:"password"`
	}
	if code := call(t, ctx, http.MethodGet, s.URL+"/v1/access-requests/"+g.ID+"/credentials", d.TechnicianToken, nil, &creds); code != http.StatusOK {
		t.Fatalf("credentials: %d", code)
	}
	if creds.UPN == "" || creds.Password == "" || creds.UPN != g.Account.UPN {
		t.Fatalf("credentials %q (password set: %t) for account %q", creds.UPN, creds.Password != "", g.Account.UPN)
	}
	u, ok := s.Sim.User("contoso", creds.UPN)
	if !ok || !u.AccountEnabled || len(u.RoleDefinitionIDs) != 2 {
		t.Fatalf("emulator while active: found %t, enabled %t, roles %v", ok, u.AccountEnabled, u.RoleDefinitionIDs)
	}

	// The SQL visibility store answers the admin's query on the custom search attributes.
	query := fmt.Sprintf(`JitStatus = "active" AND JitTechnicianEmail = %q`, demo.Technician)
	if err := poll(ctx, time.Minute, func() error {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.Namespace, Query: query})
		if err != nil {
			return err
		}
		for _, e := range resp.Executions {
			if e.Execution.WorkflowId == g.WorkflowID {
				return nil
			}
		}
		return fmt.Errorf("%s not listed by %s", g.WorkflowID, query)
	}); err != nil {
		t.Fatal(err)
	}
	// Both workers poll the task queue.
	if err := poll(ctx, time.Minute, func() error {
		resp, err := tc.DescribeTaskQueue(ctx, workflows.TaskQueue, enums.TASK_QUEUE_TYPE_ACTIVITY)
		if err != nil {
			return err
		}
		ids := map[string]bool{}
		for _, p := range resp.Pollers {
			ids[p.Identity] = true
		}
		if len(ids) < 2 {
			return fmt.Errorf("pollers %v, want the two workers", ids)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	revoked := time.Now()
	if code := call(t, ctx, http.MethodPost, s.URL+"/v1/access-requests/"+g.ID+"/revoke", d.TechnicianToken,
		map[string]string{"reason": "done"}, nil); code != http.StatusAccepted {
		t.Fatalf("revoke: %d", code)
	}
	waitStatus(t, ctx, s.URL, d.TechnicianToken, g.ID, "revoked")
	t.Logf("revoke → revoked in %s", time.Since(revoked).Round(10*time.Millisecond))
	u, _ = s.Sim.User("contoso", creds.UPN)
	if u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 {
		t.Fatalf("emulator after revoke: enabled %t, roles %v", u.AccountEnabled, u.RoleDefinitionIDs)
	}
	if code := call(t, ctx, http.MethodGet, s.URL+"/v1/access-requests/"+g.ID+"/credentials", d.TechnicianToken, nil, nil); code != http.StatusConflict {
		t.Errorf("credentials after revoke: %d, want 409", code)
	}
}

type grant struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	WorkflowID string `json:"workflow_id"`
	Account    struct {
		UPN string `json:"user_principal_name"`
	} `json:"account"`
}

func waitStatus(t *testing.T, ctx context.Context, api, token, id, want string) grant {
	t.Helper()
	var g grant
	err := poll(ctx, 3*time.Minute, func() error {
		if code := call(t, ctx, http.MethodGet, api+"/v1/access-requests/"+id, token, nil, &g); code != http.StatusOK {
			return fmt.Errorf("GET grant: %d", code)
		}
		if g.Status != want {
			return fmt.Errorf("grant %s is %s, want %s", id, g.Status, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func poll(ctx context.Context, limit time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func call(t *testing.T, ctx context.Context, method, url, token string, in, out any) int {
	t.Helper()
	code, err := do(ctx, method, url, token, in, out)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// do sends a JSON request with a bearer token and decodes a 2xx answer into out.
func do(ctx context.Context, method, url, token string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %s", method, url, err, raw)
		}
	}
	return resp.StatusCode, nil
}

// testWriter sends the stack's progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
