// Package demo sets up the vendor guide's configuration through the public API, exactly as an
// admin would: a customer tenant, a member technician, the Entra ID application authorized
// through the emulator's consent, its duration, domain and roles, and the rule "IF All admins
// THEN application". `jitaccess dev`, the end-to-end tests and the benchmark all use it.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// Demo is what Seed created; `jitaccess dev` writes it to .jitaccess/dev.env.
type Demo struct {
	API             string
	AdminToken      string
	TechnicianToken string
	TenantID        string
	ApplicationID   string
	TechnicianID    string
}

// The names of the vendor guide.
const (
	Tenant      = "Retail customer"
	Application = "Entra ID - retail customer"
	Rule        = "Entra ID access for all admins"
	Technician  = "tech@msp.example"
	Admin       = "admin@msp.example"
	Domain      = "contoso.onmicrosoft.com"
	// Built-in role template ids (graph-facts.md).
	RoleUserAdministrator     = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleHelpdeskAdministrator = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	RolePasswordAdministrator = "966707d0-3269-4727-9be2-8c3a10f19b9d"
)

// Options tune Seed.
type Options struct {
	API            string // base URL of the jitaccess API
	AdminToken     string
	AccessDuration string   // e.g. "2m"; empty keeps the application's default (4h)
	Roles          []string // role template ids; default User Administrator + Helpdesk Administrator
	EnvFile        string   // when set, the result is saved there and a re-run reuses it
	HTTPClient     *http.Client
	// Policy is the application's policy (SPEC §10). nil: approval is waived, so one person
	// can walk the demo although its roles are privileged (whose default asks an admin).
	Policy map[string]any
}

// Seed walks the vendor's guide through the public API. With EnvFile it is idempotent: a second
// run finds the tenant and reuses the tokens saved in the file.
func Seed(ctx context.Context, o Options) (Demo, error) {
	d := Demo{API: o.API, AdminToken: o.AdminToken}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	api := &apiClient{base: o.API, token: o.AdminToken, http: hc}
	roles := o.Roles
	if len(roles) == 0 {
		roles = []string{RoleUserAdministrator, RoleHelpdeskAdministrator}
	}
	envFile := o.EnvFile

	var tenants struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	if err := api.do(ctx, http.MethodGet, "/v1/tenants?limit=200", nil, &tenants); err != nil {
		return d, err
	}
	for _, t := range tenants.Items {
		if t.Name == Tenant && envFile != "" {
			saved := ReadEnvFile(envFile)
			d.TenantID, d.ApplicationID, d.TechnicianToken = t.ID, saved["JIT_APPLICATION_ID"], saved["JIT_TECHNICIAN_TOKEN"]
			return d, nil
		}
	}

	var tenant struct{ ID string }
	if err := api.do(ctx, http.MethodPost, "/v1/tenants", map[string]any{"name": Tenant}, &tenant); err != nil {
		return d, err
	}
	d.TenantID = tenant.ID
	var tech struct{ ID, Token string }
	if err := api.do(ctx, http.MethodPost, "/v1/technicians", map[string]any{"email": Technician, "display_name": "Taylor Tech"}, &tech); err != nil {
		return d, err
	}
	d.TechnicianToken = tech.Token
	// The MSP admin who signs in to the portal; its API token is not needed here.
	if err := api.do(ctx, http.MethodPost, "/v1/technicians", map[string]any{"email": Admin, "display_name": "Alex Admin", "role": "admin"}, nil); err != nil && !isConflict(err) {
		return d, err
	}
	if err := api.do(ctx, http.MethodPut, "/v1/tenants/"+tenant.ID+"/members/"+tech.ID, nil, nil); err != nil {
		return d, err
	}
	var app struct{ ID string }
	if err := api.do(ctx, http.MethodPost, "/v1/tenants/"+tenant.ID+"/applications",
		map[string]any{"name": Application, "type": "web", "credentials": "entra_oidc"}, &app); err != nil {
		return d, err
	}
	d.ApplicationID = app.ID
	appPath := "/v1/tenants/" + tenant.ID + "/applications/" + app.ID
	if err := authorizeThroughEmulator(ctx, api, appPath); err != nil {
		return d, err
	}
	pol := o.Policy
	if pol == nil {
		pol = map[string]any{"approval": map[string]any{"required": false}}
	}
	patch := map[string]any{"domain": Domain, "roles": roles, "policy": pol}
	if o.AccessDuration != "" {
		patch["access_duration"] = o.AccessDuration
	}
	if err := api.do(ctx, http.MethodPatch, appPath, patch, nil); err != nil {
		return d, err
	}
	if err := api.do(ctx, http.MethodPost, "/v1/tenants/"+tenant.ID+"/entitlements", map[string]any{
		"name": Rule, "condition": map[string]any{"type": "group", "group_id": "all-admins"}, "application_id": app.ID,
	}, nil); err != nil {
		return d, err
	}
	d.TechnicianID = tech.ID
	if envFile == "" {
		return d, nil
	}
	return d, WriteEnvFile(envFile, d, nil)
}

// AuthorizeThroughEmulator clicks Authorize: it follows the sign-in URL to the emulator, whose
// auto-consent redirects straight back to our /oauth/callback as contoso's admin.
func authorizeThroughEmulator(ctx context.Context, api *apiClient, appPath string) error {
	var auth struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	if err := api.do(ctx, http.MethodPost, appPath+"/authorize", nil, &auth); err != nil {
		return err
	}
	u, err := url.Parse(auth.AuthorizeURL)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("login_hint", "admin@contoso.onmicrosoft.com")
	u.RawQuery = q.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	resp, err := api.http.Do(req) // follows the redirect to the callback
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("authorize: callback answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

type apiClient struct {
	base, token string
	http        *http.Client
}

type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("API %d %s: %s", e.Status, e.Code, e.Message) }

func isConflict(err error) bool {
	ae, ok := err.(*apiError)
	return ok && ae.Status == http.StatusConflict
}

func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// WriteEnvFile saves d, and the process's JIT_* configuration when given, as exported shell
// variables (`. file` or `set -a; . file; set +a` both work). A demo field d leaves empty
// keeps the value the file held.
func WriteEnvFile(path string, d Demo, process map[string]string) error {
	saved := ReadEnvFile(path)
	keep := func(v, key string) string {
		if v == "" {
			return saved[key]
		}
		return v
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# written by `jitaccess dev`; load it with: . %s\n# the demo\n", path)
	for _, kv := range [][2]string{{"JIT_API", d.API}, {"JIT_ADMIN_TOKEN", d.AdminToken},
		{"JIT_TECHNICIAN_TOKEN", keep(d.TechnicianToken, "JIT_TECHNICIAN_TOKEN")},
		{"JIT_TENANT_ID", keep(d.TenantID, "JIT_TENANT_ID")}, {"JIT_APPLICATION_ID", keep(d.ApplicationID, "JIT_APPLICATION_ID")}} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	if len(process) > 0 {
		b.WriteString("# the stack's configuration, for jitaccess reconcile, audit, replay, token in this shell\n")
		keys := make([]string, 0, len(process))
		for k := range process {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(process[k]))
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// shellQuote quotes v for a POSIX shell.
func shellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// ReadEnvFile reads the variables WriteEnvFile wrote (and the plain KEY=value lines of
// earlier versions); a missing file is an empty map.
func ReadEnvFile(path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = shellUnquote(v)
		}
	}
	return out
}

// shellUnquote undoes shellQuote; a value without quotes is returned as it is.
func shellUnquote(v string) string {
	if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return v
	}
	return strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
}

// PrintWalkthrough prints where everything runs and a copy-paste walkthrough.
func PrintWalkthrough(w io.Writer, publicURL, dataDir string, d Demo, simURL string, temporalUI string, envFile string) {
	fmt.Fprintf(w, `
jitaccess is running.

  API and portal   %s
  Temporal UI      %s   (admins signed in to the portal; try the query: JitStatus="active")
  Entra emulator   %s   (tenants contoso, northwind, msp)
  data             %s

  admin token       %s
  technician token  %s   (tech@msp.example, member of %q)

Portal — sign in with Microsoft (the emulator signs you in at once; login_hint picks who):
  admin        %s/signin?login_hint=admin@msp.example
  technician   %s/signin?login_hint=tech@msp.example
  outsider     %s/signin?login_hint=outsider@msp.example   (no staff record: sees nothing)

Walkthrough (copy-paste into another shell):

  . %s
  # the applications the technician may request
  curl -s -H "Authorization: Bearer $JIT_TECHNICIAN_TOKEN" $JIT_API/v1/me/applications
  # request access (the demo application grants 2 minutes)
  curl -s -X POST -H "Authorization: Bearer $JIT_TECHNICIAN_TOKEN" -H 'Content-Type: application/json' \
       -d "{\"application_id\":\"$JIT_APPLICATION_ID\",\"justification\":\"demo\"}" $JIT_API/v1/access-requests
  # when it is active: the account's user name and password (GRANT = the id printed above)
  curl -s -H "Authorization: Bearer $JIT_TECHNICIAN_TOKEN" $JIT_API/v1/access-requests/$GRANT/credentials
  # the account in the emulator's directory (enabled, with its roles)
  curl -s %s/_sim/tenants/contoso/users
  # watch it in the Temporal UI, then see it disabled when the time is up, or revoke it now:
  curl -s -X POST -H "Authorization: Bearer $JIT_TECHNICIAN_TOKEN" -H 'Content-Type: application/json' \
       -d '{"reason":"done"}' $JIT_API/v1/access-requests/$GRANT/revoke

Ctrl-C stops everything; the data survives a restart.
`, publicURL, temporalUI, simURL, dataDir, d.AdminToken, d.TechnicianToken, Tenant, publicURL, publicURL, publicURL, envFile, simURL)
}
