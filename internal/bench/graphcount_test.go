package bench

import (
	"testing"
)

// The graph scenario counts every Graph round trip of a lifecycle with the Temporary Access
// Pass on, TAP and method calls included (and apart), a $batch as one, nothing that is not Graph.
func TestCountGraphWithTAP(t *testing.T) {
	// The emulator's counters after one new-account lifecycle with TAP (keys as /_sim/stats has them).
	newAccount := map[string]int64{
		"GET /v1.0/users":  1, // adoption check by UPN
		"POST /v1.0/users": 1,
		"POST /v1.0/users/{id}/authentication/temporaryAccessPassMethods": 1,
		"POST /v1.0/$batch": 2, // roles; disable
		"DELETE /v1.0/users/{id}/authentication/temporaryAccessPassMethods/{id}": 1,
		"POST /common/oauth2/v2.0/token":                                         3, // not Graph
		"GET /_sim/stats":                                                        1, // not Graph
	}
	c := countGraph(newAccount)
	if c.Total != 6 || c.SignIn != 2 {
		t.Fatalf("new account: %d round trips, %d sign-in; want 6 and 2 (%v)", c.Total, c.SignIn, c.By)
	}
	if _, ok := c.By["POST /common/oauth2/v2.0/token"]; ok {
		t.Fatal("the token endpoint is counted as Graph")
	}
	// Two existing-account lifecycles: cleaning lists methods and the policy read of a capped pass.
	existing := map[string]int64{
		"GET /v1.0/users":   2,
		"POST /v1.0/users":  2,
		"POST /v1.0/$batch": 8, // cleaning ×2, re-enable, roles, disable
		"POST /v1.0/users/{id}/authentication/temporaryAccessPassMethods":                                       2,
		"GET /v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass": 0,
		"DELETE /v1.0/users/{id}/authentication/temporaryAccessPassMethods/{id}":                                2,
	}
	c2 := countGraph(existing)
	if c2.Total != 16 || c2.SignIn != 4 {
		t.Fatalf("existing: %d round trips, %d sign-in; want 16 and 4", c2.Total, c2.SignIn)
	}
	figs := graphFigures(c, c2, 2)
	if len(figs) != 4 {
		t.Fatalf("%d figures", len(figs))
	}
	want := []float64{6, 8, 2, 2}
	for i, f := range figs {
		if f.Product != want[i] {
			t.Errorf("figure %q %q = %g, want %g", f.Scenario, f.Metric, f.Product, want[i])
		}
	}
	if figs[0].Budget.Limit != graphBudgetNewTAP || figs[1].Budget.Limit != graphBudgetExistingTAP {
		t.Fatalf("budgets %v %v", figs[0].Budget, figs[1].Budget)
	}
	// A policy read when the policy capped a pass is sign-in too.
	if got := countGraph(map[string]int64{"GET /v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass": 1}); got.SignIn != 1 {
		t.Fatalf("policy read not counted as sign-in: %+v", got)
	}
}
