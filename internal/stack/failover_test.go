package stack

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/proc"
)

// failoverBound is the chaos suite's bound (internal/chaos: disableBound): no account stays
// enabled longer than this past its expires_at when a grant loses at most one activity attempt
// to a crash.
const failoverBound = 120 * time.Second

// Failover on the production topology: during a burst of requests a worker, an API process and
// the Temporal server are killed (SIGKILL), then the server and the processes are restarted;
// while the grants sleep PostgreSQL itself crashes and restarts.
// Every technician still gets exactly one grant, every grant expires, and every account is
// disabled, signed out and stripped of its roles within failoverBound of its expiry.
func TestStackFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("failover: skipped in -short mode")
	}
	bin := binDir(t)
	const grants, duration = 12, 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	// The stack's own PostgreSQL server, so that crashing it touches nothing else on the machine.
	pg, err := StartPostgres(ctx, filepath.Join(t.TempDir(), "pg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Stop(10 * time.Second) })
	o := Options{Bin: bin, Dir: t.TempDir(), PostgresURL: pg.URL, DatabasePrefix: RandomPrefix(),
		Env: map[string]string{"JIT_MIN_ACCESS_DURATION": "1s", "JIT_LOG_LEVEL": "warn"}, Progress: testWriter{t}}
	s, err := Start(ctx, o)
	t.Cleanup(func() {
		if s != nil {
			s.Stop()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := demo.Seed(ctx, demo.Options{API: s.URL, AdminToken: s.AdminToken, AccessDuration: duration.String()})
	if err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, grants)
	for i := range tokens {
		var tech struct{ ID, Token string }
		if code := call(t, ctx, http.MethodPost, s.URL+"/v1/technicians", s.AdminToken,
			map[string]string{"email": fmt.Sprintf("tech%02d@msp.example", i), "display_name": fmt.Sprintf("Tech %02d", i)}, &tech); code != http.StatusCreated {
			t.Fatalf("create technician: %d", code)
		}
		if code := call(t, ctx, http.MethodPut, s.URL+"/v1/tenants/"+d.TenantID+"/members/"+tech.ID, s.AdminToken, nil, nil); code != http.StatusNoContent {
			t.Fatalf("add member: %d", code)
		}
		tokens[i] = tech.Token
	}

	// The burst: each technician asks once and, like a person, asks again on an error until
	// the API accepts; the workflow id makes a repeat return the same grant.
	type outcome struct {
		id       string
		attempts int
		took     time.Duration
		err      error
	}
	results := make([]outcome, grants)
	var wg sync.WaitGroup
	began := time.Now()
	for i, token := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 400 * time.Millisecond) // spread over the crashes
			start := time.Now()
			for {
				results[i].attempts++
				var g grant
				code, err := do(ctx, http.MethodPost, s.URL+"/v1/access-requests", token,
					map[string]string{"application_id": d.ApplicationID, "justification": "failover"}, &g)
				if err == nil && (code == http.StatusAccepted || code == http.StatusOK) {
					results[i].id, results[i].took = g.ID, time.Since(start)
					return
				}
				if ctx.Err() != nil || time.Since(start) > 4*time.Minute {
					results[i].err = fmt.Errorf("last answer %d %v", code, err)
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
	}

	// The crashes, mid-burst.
	time.Sleep(1500 * time.Millisecond)
	s.Workers[0].Kill()
	s.APIs[0].Kill()
	t.Logf("killed worker-1 and api-1 at +%s", time.Since(began).Round(100*time.Millisecond))
	time.Sleep(1500 * time.Millisecond)
	s.Temporal.Kill()
	killedTemporal := time.Now()
	t.Logf("killed the Temporal server at +%s", time.Since(began).Round(100*time.Millisecond))
	time.Sleep(3 * time.Second)
	if err := s.Temporal.Start(ctx, 3*time.Minute); err != nil {
		t.Fatalf("restart the Temporal server: %v", err)
	}
	t.Logf("Temporal server back %s after the kill", time.Since(killedTemporal).Round(100*time.Millisecond))
	var restart sync.WaitGroup
	for _, p := range []*proc.Process{s.APIs[0], s.Workers[0]} {
		restart.Add(1)
		go func() {
			defer restart.Done()
			if err := p.Start(ctx, 2*time.Minute); err != nil {
				t.Errorf("restart %s: %v", p.Name, err)
			}
		}()
	}
	restart.Wait()
	wg.Wait()

	var tookMax time.Duration
	maxAttempts := 0
	for i, r := range results {
		if r.err != nil || r.id == "" {
			t.Fatalf("technician %d never got a grant: %v", i, r.err)
		}
		tookMax, maxAttempts = max(tookMax, r.took), max(maxAttempts, r.attempts)
	}
	t.Logf("all %d requests accepted; slowest after %s and %d attempts", grants, tookMax.Round(100*time.Millisecond), maxAttempts)

	// Every grant becomes active; then, 3 s before the last one expires, the Temporal server and
	// the other worker crash too: disables in flight are cut short, timers fire late.
	var last time.Time
	for i, r := range results {
		var g struct {
			grant
			ExpiresAt time.Time `json:"expires_at"`
		}
		if err := poll(ctx, 3*time.Minute, func() error {
			if code := call(t, ctx, http.MethodGet, s.URL+"/v1/access-requests/"+r.id, tokens[i], nil, &g); code != http.StatusOK {
				return fmt.Errorf("grant %s: %d (a lost record)", r.id, code)
			}
			if g.Status != "active" && g.Status != "expired" {
				return fmt.Errorf("grant %s is %s", r.id, g.Status)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if g.ExpiresAt.After(last) {
			last = g.ExpiresAt
		}
	}
	// PostgreSQL crashes while the grants sleep: Temporal and jitaccess lose their database for
	// a few seconds and must carry on from what it recovered.
	if err := pg.Crash(ctx, 4*time.Second); err != nil {
		t.Fatalf("restart PostgreSQL: %v", err)
	}
	t.Logf("PostgreSQL crashed (SIGKILL) and restarted %s before the last expiry", time.Until(last).Round(100*time.Millisecond))
	time.Sleep(time.Until(last.Add(-3 * time.Second)))
	s.Workers[1].Kill()
	s.Temporal.Kill()
	t.Logf("killed worker-2 and the Temporal server %s before the last expiry", time.Until(last).Round(100*time.Millisecond))
	time.Sleep(3 * time.Second)
	if err := s.Temporal.Start(ctx, 3*time.Minute); err != nil {
		t.Fatalf("restart the Temporal server: %v", err)
	}
	if err := s.Workers[1].Start(ctx, 2*time.Minute); err != nil {
		t.Fatalf("restart worker-2: %v", err)
	}
	t.Logf("Temporal server and worker-2 back %s after the last expiry", time.Since(last).Round(100*time.Millisecond))

	// Every grant expires, and its account is disabled in the directory within the bound.
	var lateness []time.Duration
	for i, r := range results {
		var g struct {
			grant
			ExpiresAt time.Time `json:"expires_at"`
		}
		err := poll(ctx, duration+failoverBound+time.Minute, func() error {
			if code := call(t, ctx, http.MethodGet, s.URL+"/v1/access-requests/"+r.id, tokens[i], nil, &g); code != http.StatusOK {
				return fmt.Errorf("grant %s: %d (a lost record)", r.id, code)
			}
			if g.Status != "expired" {
				return fmt.Errorf("grant %s is %s", r.id, g.Status)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		u, ok := s.Sim.User("contoso", g.Account.UPN)
		if !ok || u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 || u.SignInSessionsValidFrom.IsZero() {
			t.Fatalf("grant %s: account %s found %t, enabled %t, roles %v, signed out at %v", r.id, g.Account.UPN, ok,
				u.AccountEnabled, u.RoleDefinitionIDs, u.SignInSessionsValidFrom)
		}
		late := u.SignInSessionsValidFrom.Sub(g.ExpiresAt)
		if late > failoverBound {
			t.Errorf("grant %s: account disabled %s after its expiry (bound %s)", r.id, late, failoverBound)
		}
		lateness = append(lateness, late)
	}
	slices.Sort(lateness)
	t.Logf("failover: %d grants, expiry lateness (directory signed out − expires_at) p50 %s max %s; bound %s",
		len(lateness), lateness[len(lateness)/2].Round(10*time.Millisecond), lateness[len(lateness)-1].Round(10*time.Millisecond), failoverBound)
}
