package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/jitaccess/jitaccess/internal/demo"
)

// Pair is one (technician, application) the load generator requests: at most one live grant
// each, so a slot of the load generator owns a pair.
type Pair struct {
	TenantID      string
	ApplicationID string
	TechnicianID  string
	Token         string
}

// EntraTarget is where a jitaccess tenant's application provisions accounts: the customer's
// Entra admin who consents, and the domain of the accounts. Each technician belongs to one
// jitaccess tenant only, so no two grants share an account.
type EntraTarget struct{ Admin, Domain string }

// SeededTargets are the emulator's seeded customer tenants: contoso with two managed domains,
// northwind with one.
func SeededTargets() []EntraTarget {
	return []EntraTarget{
		{"admin@contoso.onmicrosoft.com", "contoso.onmicrosoft.com"},
		{"admin@northwind.onmicrosoft.com", "northwind.onmicrosoft.com"},
		{"admin@contoso.onmicrosoft.com", "contoso.com"},
	}
}

// ThreeRoles are the roles every benchmark application assigns (SPEC §8: "with 3 roles").
func ThreeRoles() []string {
	return []string{demo.RoleUserAdministrator, demo.RoleHelpdeskAdministrator, demo.RolePasswordAdministrator}
}

// Tenant is a seeded jitaccess tenant with its one application and its technicians.
type Tenant struct {
	ID            string
	ApplicationID string
	Domain        string
	Pairs         []Pair
}

// API is a small JSON client of the jitaccess API.
type API struct {
	Base string
	HTTP *http.Client
}

type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("API answered %d: %s", e.status, e.body) }

// Do sends one request; out receives the JSON answer. It returns the status code.
func (a *API) Do(ctx context.Context, token, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.Base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return resp.StatusCode, &apiError{resp.StatusCode, string(raw)}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// SeedDemo configures the vendor guide's demo through demo.Seed (tenant, technician,
// application authorized against contoso, rule) with the benchmark's 3 roles.
func SeedDemo(ctx context.Context, a *API, admin string) (Tenant, error) {
	d, err := demo.Seed(ctx, demo.Options{API: a.Base, AdminToken: admin, AccessDuration: "24h", Roles: ThreeRoles(), HTTPClient: a.HTTP})
	if err != nil {
		return Tenant{}, fmt.Errorf("demo.Seed: %w", err)
	}
	return Tenant{ID: d.TenantID, ApplicationID: d.ApplicationID, Domain: demo.Domain,
		Pairs: []Pair{{TenantID: d.TenantID, ApplicationID: d.ApplicationID, TechnicianID: d.TechnicianID, Token: d.TechnicianToken}}}, nil
}

// SeedTenant does what demo.Seed does for another customer tenant (i names it): tenant,
// application authorized by target's admin through the emulator's auto-consent, target's
// domain, 3 roles, 24 h ceiling, rule "IF All admins THEN application".
func SeedTenant(ctx context.Context, a *API, admin string, i int, target EntraTarget) (Tenant, error) {
	var t struct{ ID string }
	if _, err := a.Do(ctx, admin, http.MethodPost, "/v1/tenants", map[string]any{"name": fmt.Sprintf("Bench customer %03d", i)}, &t); err != nil {
		return Tenant{}, err
	}
	var ap struct{ ID string }
	if _, err := a.Do(ctx, admin, http.MethodPost, "/v1/tenants/"+t.ID+"/applications",
		map[string]any{"name": fmt.Sprintf("Entra ID - bench %03d", i), "type": "web", "credentials": "entra_oidc"}, &ap); err != nil {
		return Tenant{}, err
	}
	appPath := "/v1/tenants/" + t.ID + "/applications/" + ap.ID
	var auth struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	if _, err := a.Do(ctx, admin, http.MethodPost, appPath+"/authorize", nil, &auth); err != nil {
		return Tenant{}, err
	}
	u, err := url.Parse(auth.AuthorizeURL)
	if err != nil {
		return Tenant{}, err
	}
	q := u.Query()
	q.Set("login_hint", target.Admin)
	u.RawQuery = q.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	resp, err := a.HTTP.Do(req) // the emulator redirects to /oauth/callback
	if err != nil {
		return Tenant{}, fmt.Errorf("authorize: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Tenant{}, fmt.Errorf("authorize: callback answered %d: %s", resp.StatusCode, body)
	}
	if _, err := a.Do(ctx, admin, http.MethodPatch, appPath,
		// The roles are privileged, so approval would be required by default: the benchmark
		// measures the lifecycle without a person in the loop, as the floor does.
		map[string]any{"domain": target.Domain, "roles": ThreeRoles(), "access_duration": "24h",
			"policy": map[string]any{"approval": map[string]any{"required": false}}}, nil); err != nil {
		return Tenant{}, err
	}
	if _, err := a.Do(ctx, admin, http.MethodPost, "/v1/tenants/"+t.ID+"/entitlements", map[string]any{
		"name": "Entra ID access for all admins", "condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": ap.ID,
	}, nil); err != nil {
		return Tenant{}, err
	}
	return Tenant{ID: t.ID, ApplicationID: ap.ID, Domain: target.Domain}, nil
}

// AddTechnicians creates n technicians who are members of tenant t (hence entitled by its
// "All admins" rule), with parallel API calls, and appends their pairs to t.
func AddTechnicians(ctx context.Context, a *API, admin string, t *Tenant, n int, prefix string) error {
	pairs := make([]Pair, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var tech struct{ ID, Token string }
			email := fmt.Sprintf("%s-%s-%04d@msp.example", prefix, t.ID[len(t.ID)-6:], k)
			if _, err := a.Do(ctx, admin, http.MethodPost, "/v1/technicians", map[string]any{"email": email, "display_name": "Bench " + email}, &tech); err != nil {
				errs[k] = err
				return
			}
			if _, err := a.Do(ctx, admin, http.MethodPut, "/v1/tenants/"+t.ID+"/members/"+tech.ID, nil, nil); err != nil {
				errs[k] = err
				return
			}
			pairs[k] = Pair{TenantID: t.ID, ApplicationID: t.ApplicationID, TechnicianID: tech.ID, Token: tech.Token}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("add technicians: %w", err)
		}
	}
	t.Pairs = append(t.Pairs, pairs...)
	return nil
}

// Interleave lists the tenants' pairs round-robin (tenant 0's first pair, tenant 1's first
// pair, …), so that any prefix spreads evenly over the tenants.
func Interleave(tenants []Tenant) []Pair {
	var out []Pair
	for k := 0; ; k++ {
		added := false
		for _, t := range tenants {
			if k < len(t.Pairs) {
				out = append(out, t.Pairs[k])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}
