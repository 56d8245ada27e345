package entrasim

import (
	"fmt"
	"testing"
	"time"
)

// A tenant added for a benchmark has its own domain, admin and Graph budgets, and the write
// counters report each tenant's writes, their peak per sliding window and the 429s.
func TestAddTenantAndTenantWrites(t *testing.T) {
	e := newEnv(t, Options{})
	id, upn, err := e.sim.AddTenant("bench-001")
	if err != nil {
		t.Fatal(err)
	}
	if upn != "admin@bench-001.onmicrosoft.com" {
		t.Fatalf("admin %q", upn)
	}
	if got, ok := e.sim.TenantID("bench-001.onmicrosoft.com"); !ok || got != id {
		t.Fatalf("domain resolves to %q %v, want %q", got, ok, id)
	}
	if _, ok := e.sim.User(id, upn); !ok {
		t.Fatal("no admin user")
	}
	if _, _, err := e.sim.AddTenant("bench-001"); err == nil {
		t.Fatal("a second tenant of the same name")
	}
	if _, _, err := e.sim.AddTenant("Bad Name"); err == nil {
		t.Fatal("a name that is no domain label")
	}

	if err := e.sim.SetFaults(Faults{EntraLimits: true}); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetStats()
	patch := func(tenantID, userID string, n int) (ok, throttled int) {
		t.Helper()
		reqs := make([]map[string]any, n)
		for i := range reqs {
			reqs[i] = map[string]any{"id": fmt.Sprint(i), "method": "PATCH", "url": "/users/" + userID,
				"body": map[string]any{"jobTitle": "Admin"}, "headers": map[string]string{"Content-Type": "application/json"}}
		}
		st, _, m := e.do("POST", "/v1.0/$batch", e.appToken(tenantID), map[string]any{"requests": reqs})
		if st != 200 {
			t.Fatalf("batch %d %v", st, m)
		}
		for _, r := range m["responses"].([]any) {
			switch r.(map[string]any)["status"] {
			case 204.0:
				ok++
			case 429.0:
				throttled++
			}
		}
		return ok, throttled
	}
	admin, _ := e.sim.User(id, upn)
	// 20 writes now, 20 a minute later, 20 three minutes later: the peak per 150 s is 40.
	patch(id, admin.ID, 20)
	e.clock.Advance(time.Minute)
	patch(id, admin.ID, 20)
	e.clock.Advance(2 * time.Minute)
	patch(id, admin.ID, 20)
	// Contoso exhausts its 3,000 writes per 150 s: 150 batches pass, the next is refused.
	for range 150 {
		patch(ContosoTenantID, ContosoAdminID, 20)
	}
	if ok, throttled := patch(ContosoTenantID, ContosoAdminID, 5); ok != 0 || throttled != 5 {
		t.Fatalf("over budget: %d accepted, %d throttled", ok, throttled)
	}
	got := map[string]TenantWrites{}
	for _, w := range e.sim.TenantWrites(WritesPerAppTenantWindow) {
		got[w.TenantID] = w
	}
	if w := got[id]; w.Writes != 60 || w.Peak != 40 || w.Throttled != 0 {
		t.Fatalf("bench-001: %+v", w)
	}
	if w := got[ContosoTenantID]; w.Writes != WritesPerAppTenant || w.Peak != WritesPerAppTenant || w.Throttled != 5 {
		t.Fatalf("contoso: %+v", w)
	}
	if _, ok := got[NorthwindTenantID]; ok || len(got) != 2 {
		t.Fatalf("tenants that did not write are listed: %v", got)
	}
	e.sim.ResetStats()
	if w := e.sim.TenantWrites(time.Minute); len(w) != 0 {
		t.Fatalf("after reset: %v", w)
	}
	// Without entra_limits writes are counted too, never throttled.
	_ = e.sim.SetFaults(Faults{})
	patch(id, admin.ID, 3)
	if w := e.sim.TenantWrites(time.Minute); len(w) != 1 || w[0].Writes != 3 || w[0].Peak != 3 {
		t.Fatalf("without limits: %v", w)
	}
}

func TestPeakInWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := []time.Time{t0, t0.Add(time.Second), t0.Add(10 * time.Second), t0.Add(11 * time.Second), t0.Add(12 * time.Second)}
	for w, want := range map[time.Duration]int{time.Second: 1, 2 * time.Second: 2, 3 * time.Second: 3, 12 * time.Second: 4, time.Minute: 5} {
		if got := peakInWindow(at, w); got != want {
			t.Errorf("window %s: %d, want %d", w, got, want)
		}
	}
	if peakInWindow(nil, time.Second) != 0 {
		t.Error("empty")
	}
}
