package entrasim

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// faultOnce serves the emulator but turns faults off right after the first faulted answer, recording
// when each Graph request arrived.
type faultOnce struct {
	sim      *Server
	mu       sync.Mutex
	arrivals []time.Time
	statuses []int
}

func (f *faultOnce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	f.sim.ServeHTTP(rec, r)
	f.mu.Lock()
	if strings.HasPrefix(r.URL.Path, "/v1.0/") {
		f.arrivals = append(f.arrivals, time.Now())
		f.statuses = append(f.statuses, rec.Code)
	}
	f.mu.Unlock()
	if rec.Code == 429 || rec.Code == 503 {
		_ = f.sim.SetFaults(Faults{})
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func TestRetryAfterHonouredBySDK(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults Faults
		status int
	}{
		{"429 TooManyRequests", Faults{ThrottleRate: 1, RetryAfterSeconds: 1}, 429},
		{"503 ServiceUnavailable", Faults{ErrorRate: 1, RetryAfterSeconds: 1}, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{AutoConsent: true})
			tok := e.userToken(ContosoTenantID, "").AccessToken
			fo := &faultOnce{sim: e.sim}
			ts := httptest.NewServer(fo)
			defer ts.Close()
			if err := e.sim.SetFaults(tc.faults); err != nil {
				t.Fatal(err)
			}
			e2 := &env{t: t, sim: e.sim, ts: ts, clock: e.clock}
			client := e2.graphNoCompression(tok)
			if _, err := client.Users().Post(context.Background(), newUser("retry@contoso.com", testPassword), nil); err != nil {
				t.Fatalf("SDK did not ride out the fault: %v", err)
			}
			fo.mu.Lock()
			defer fo.mu.Unlock()
			if len(fo.statuses) != 2 || fo.statuses[0] != tc.status || fo.statuses[1] != 201 {
				t.Fatalf("statuses %v", fo.statuses)
			}
			if gap := fo.arrivals[1].Sub(fo.arrivals[0]); gap < 900*time.Millisecond {
				t.Fatalf("retried after %v, Retry-After was 1 s", gap)
			}
			if n := len(e.sim.Users("contoso")); n != 2 {
				t.Fatalf("%d users: the faulted request must not have been applied", n)
			}
		})
	}
	t.Run("raw shape", func(t *testing.T) {
		e := newEnv(t, Options{AutoConsent: true})
		tok := e.userToken(ContosoTenantID, "").AccessToken
		_ = e.sim.SetFaults(Faults{ThrottleRate: 1, RetryAfterSeconds: 7})
		st, hdr, m := e.do("GET", "/v1.0/users", tok, nil)
		code, msg := errCode(m)
		if st != 429 || hdr.Get("Retry-After") != "7" || code != "TooManyRequests" || msg != "Please retry again later." {
			t.Fatalf("%d %v %v", st, hdr, m)
		}
		_ = e.sim.SetFaults(Faults{ErrorRate: 1, RetryAfterSeconds: 3})
		st, hdr, m = e.do("GET", "/v1.0/users", tok, nil)
		if code, _ := errCode(m); st != 503 || hdr.Get("Retry-After") != "3" || code != "ServiceUnavailable" {
			t.Fatalf("%d %v %v", st, hdr, m)
		}
		// Faults never touch the token endpoint.
		if tok := e.userToken(ContosoTenantID, ""); tok.AccessToken == "" {
			t.Fatal("no token")
		}
	})
}

// A body labelled gzip must be gzip (what a retried request of the default SDK pipeline can get wrong).
func TestRequestCompression(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.appToken(ContosoTenantID)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"jobTitle":"Zipped"}`))
	_ = zw.Close()
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
	}{
		{"gzip body", gz.Bytes(), 204},
		{"plain body labelled gzip", []byte(`{"jobTitle":"Plain"}`), 400},
	} {
		req, _ := http.NewRequest("PATCH", e.ts.URL+"/v1.0/users/"+ContosoAdminID, bytes.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: %d", tc.name, resp.StatusCode)
		}
	}
}

func TestLatencyFault(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.appToken(ContosoTenantID)
	_ = e.sim.SetFaults(Faults{LatencyMS: 150})
	start := time.Now()
	if st, _, _ := e.do("GET", "/v1.0/domains", tok, nil); st != 200 {
		t.Fatal(st)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("latency %v", d)
	}
}

func TestReplicationLag(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	client, _ := e.graph(e.userToken(ContosoTenantID, "").AccessToken)
	ctx := context.Background()
	if err := e.sim.SetFaults(Faults{ReplicationLagMS: 30_000}); err != nil {
		t.Fatal(err)
	}
	u := createTestUser(t, client, "fresh@contoso.com")
	ras := client.RoleManagement().Directory().RoleAssignments()
	for _, wait := range []time.Duration{0, 29 * time.Second} {
		e.clock.Advance(wait)
		_, err := ras.Post(ctx, newAssignment(roleHelpdeskAdmin, *u.GetId()), nil)
		st, code, msg, _ := odata(t, err)
		if st != 404 || code != "Request_ResourceNotFound" || !strings.Contains(msg, "Resource '"+*u.GetId()+"' does not exist") {
			t.Fatalf("after %v: %d %s %s", wait, st, code, msg)
		}
	}
	// The user itself is readable; only the role service lags.
	if _, err := client.Users().ByUserId(*u.GetId()).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if _, err := ras.Post(ctx, newAssignment(roleHelpdeskAdmin, *u.GetId()), nil); err != nil {
		t.Fatalf("after the lag: %v", err)
	}
	// Users older than the lag are unaffected.
	if _, err := ras.Post(ctx, newAssignment(roleHelpdeskAdmin, ContosoAdminID), nil); err != nil {
		t.Fatal(err)
	}
}

func batchOf(items ...map[string]any) map[string]any {
	return map[string]any{"requests": items}
}

func TestBatch(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true})
	tok := e.userToken(ContosoTenantID, "").AccessToken
	client, adapter := e.graph(tok)
	ctx := context.Background()
	u := createTestUser(t, client, "frank@contoso.com")
	uid := *u.GetId()
	a, err := client.RoleManagement().Directory().RoleAssignments().Post(ctx, newAssignment(roleHelpdeskAdmin, uid), nil)
	if err != nil {
		t.Fatal(err)
	}

	// The disable batch of the design: PATCH, revokeSignInSessions, DELETE assignment.
	e.sim.ResetStats()
	batch := msgraphgocore.NewBatchRequest(adapter)
	patch := models.NewUser()
	patch.SetAccountEnabled(ptr(false))
	pi, _ := client.Users().ByUserId(uid).ToPatchRequestInformation(ctx, patch, nil)
	ri, _ := client.Users().ByUserId(uid).RevokeSignInSessions().ToPostRequestInformation(ctx, nil)
	di, _ := client.RoleManagement().Directory().RoleAssignments().ByUnifiedRoleAssignmentId(*a.GetId()).ToDeleteRequestInformation(ctx, nil)
	gi, _ := client.Users().ByUserId(uid).ToGetRequestInformation(ctx, nil)
	var items []msgraphgocore.BatchItem
	for _, info := range []*abs.RequestInformation{pi, ri, di, gi} {
		it, err := batch.AddBatchRequestStep(*info)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	items[3].DependsOnItem(items[0]) // read after the PATCH
	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		t.Fatal(err)
	}
	codes := resp.GetStatusCodes()
	if codes[*items[0].GetId()] != 204 || codes[*items[1].GetId()] != 200 || codes[*items[2].GetId()] != 204 || codes[*items[3].GetId()] != 200 {
		t.Fatalf("codes %v", codes)
	}
	got, err := msgraphgocore.GetBatchResponseById[models.Userable](resp, *items[3].GetId(), models.CreateUserFromDiscriminatorValue)
	if err != nil || *got.GetId() != uid {
		t.Fatalf("typed item: %v", err)
	}
	v, _ := e.sim.User("contoso", uid)
	if v.AccountEnabled || len(v.RoleDefinitionIDs) != 0 || v.SignInSessionsValidFrom.IsZero() {
		t.Fatalf("batch not applied: %+v", v)
	}
	if st := e.sim.Stats(); st.Total != 1 || st.Requests["POST /v1.0/$batch"] != 1 {
		t.Fatalf("a batch is one round trip: %+v", st)
	}

	// A failed item fails its dependants with 424; errors surface per item.
	item := func(id, method, url string, body any, deps ...string) map[string]any {
		m := map[string]any{"id": id, "method": method, "url": url}
		if body != nil {
			m["body"] = body
			m["headers"] = map[string]string{"Content-Type": "application/json"}
		}
		if deps != nil {
			m["dependsOn"] = deps
		}
		return m
	}
	st, _, m := e.do("POST", "/v1.0/$batch", tok, batchOf(
		item("1", "GET", "/users/nobody@contoso.com", nil),
		item("2", "PATCH", "/users/"+uid, map[string]any{"accountEnabled": true}, "1"),
		item("3", "GET", "/users/"+uid+"?$select=accountEnabled", nil, "2"),
		item("4", "GET", "/domains/contoso.com", nil),
	))
	if st != 200 {
		t.Fatalf("%d %v", st, m)
	}
	byID := map[string]map[string]any{}
	for _, r := range m["responses"].([]any) {
		r := r.(map[string]any)
		byID[r["id"].(string)] = r
	}
	if byID["1"]["status"] != 404.0 || byID["2"]["status"] != 424.0 || byID["3"]["status"] != 424.0 || byID["4"]["status"] != 200.0 {
		t.Fatalf("statuses %v", byID)
	}
	if c, _ := errCode(byID["1"]["body"].(map[string]any)); c != "Request_ResourceNotFound" {
		t.Fatal(c)
	}
	if h := byID["4"]["headers"].(map[string]any); h["Content-Type"] != graphContentType {
		t.Fatalf("item headers %v", h)
	}
	if v, _ := e.sim.User("contoso", uid); v.AccountEnabled {
		t.Fatal("a request with a failed dependency ran")
	}

	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = item(fmt.Sprint(i), "GET", "/me", nil)
	}
	for _, tc := range []struct {
		name string
		body any
	}{
		{"more than 20", map[string]any{"requests": many}},
		{"duplicate ids", batchOf(item("1", "GET", "/me", nil), item("1", "GET", "/organization", nil))},
		{"body without Content-Type", batchOf(map[string]any{"id": "1", "method": "PATCH", "url": "/users/" + uid, "body": map[string]any{"accountEnabled": true}})},
		{"unknown dependency", batchOf(item("1", "GET", "/me", nil, "9"))},
		{"dependency cycle", batchOf(item("1", "GET", "/me", nil, "2"), item("2", "GET", "/me", nil, "1"))},
		{"no requests", map[string]any{}},
		{"bad method", batchOf(item("1", "HEAD", "/me", nil))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, _, m := e.do("POST", "/v1.0/$batch", tok, tc.body); st != 400 {
				t.Fatalf("%d %v", st, m)
			}
		})
	}

	// Each item is throttled on its own: a 429 sits inside a 200.
	_ = e.sim.SetFaults(Faults{ThrottleRate: 1, RetryAfterSeconds: 2})
	st, _, m = e.do("POST", "/v1.0/$batch", tok, batchOf(item("1", "GET", "/me", nil), item("2", "GET", "/organization", nil)))
	if st != 200 {
		t.Fatal(st)
	}
	for _, r := range m["responses"].([]any) {
		r := r.(map[string]any)
		if r["status"] != 429.0 || r["headers"].(map[string]any)["Retry-After"] != "2" {
			t.Fatalf("item %v", r)
		}
	}
}

func TestEntraLimits(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.appToken(ContosoTenantID)
	if err := e.sim.SetFaults(Faults{EntraLimits: true}); err != nil {
		t.Fatal(err)
	}
	send := func(n int, method, url string, body any) []map[string]any {
		t.Helper()
		reqs := make([]map[string]any, n)
		for i := range reqs {
			reqs[i] = map[string]any{"id": fmt.Sprint(i), "method": method, "url": url}
			if body != nil {
				reqs[i]["body"] = body
				reqs[i]["headers"] = map[string]string{"Content-Type": "application/json"}
			}
		}
		st, _, m := e.do("POST", "/v1.0/$batch", tok, map[string]any{"requests": reqs})
		if st != 200 {
			t.Fatalf("batch %d %v", st, m)
		}
		var out []map[string]any
		for _, r := range m["responses"].([]any) {
			out = append(out, r.(map[string]any))
		}
		return out
	}
	count := func(rs []map[string]any, status float64) int {
		n := 0
		for _, r := range rs {
			if r["status"] == status {
				n++
			}
		}
		return n
	}
	title := map[string]any{"jobTitle": "Admin"}
	// Writes: 3,000 per 150 s per app and tenant (the clock stands still).
	ok := 0
	for i := 0; i < 150; i++ {
		ok += count(send(20, "PATCH", "/users/"+ContosoAdminID, title), 204)
	}
	if ok != 3000 {
		t.Fatalf("%d writes before throttling", ok)
	}
	rs := send(1, "PATCH", "/users/"+ContosoAdminID, title)
	if rs[0]["status"] != 429.0 || rs[0]["headers"].(map[string]any)["Retry-After"] != "1" {
		t.Fatalf("write 3001: %v", rs[0])
	}
	// 20 writes per second refill.
	e.clock.Advance(time.Second)
	if got := count(send(20, "PATCH", "/users/"+ContosoAdminID, title), 204); got != 20 {
		t.Fatalf("after 1 s: %d", got)
	}
	// Resource units: 3,500 per 10 s for a small tenant; 3,000 + 20 spent, 350 refilled in 1 s,
	// so 830 are left, and GET users costs 2: 415 reads pass.
	ok = 0
	for i := 0; i < 21; i++ {
		ok += count(send(20, "GET", "/users/"+ContosoAdminID, nil), 200)
	}
	if ok != 415 {
		t.Fatalf("%d reads", ok)
	}
	rs = send(1, "GET", "/domains", nil) // 1 unit, still none left
	if rs[0]["status"] != 429.0 || rs[0]["headers"].(map[string]any)["Retry-After"] != "1" {
		t.Fatalf("read: %v", rs[0])
	}
	// Another tenant has its own buckets.
	if st, _, _ := e.do("GET", "/v1.0/users", e.appToken(NorthwindTenantID), nil); st != 200 {
		t.Fatal(st)
	}
	// Direct requests see the 429 too.
	if st, hdr, _ := e.do("GET", "/v1.0/users", tok, nil); st != 429 || hdr.Get("Retry-After") == "" {
		t.Fatal(st)
	}
}

func TestSimEndpoints(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.appToken(ContosoTenantID)
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"latency_ms":5,"throttle_rate":0.5,"retry_after_seconds":2,"error_rate":0.1,"replication_lag_ms":100,"entra_limits":true}`, 200},
		{`{"throttle_rate":1.5}`, 400},
		{`{"error_rate":-0.1}`, 400},
		{`{"latency_ms":-1}`, 400},
		{`{"retry_after_seconds":-1}`, 400},
		{`{"replication_lag_ms":-5}`, 400},
		{`{"bogus":1}`, 400},
		{`{"latency_ms":"10"}`, 400},
		{`not json`, 400},
	} {
		st, _, m := e.do("PUT", "/_sim/faults", "", tc.body)
		if st != tc.status {
			t.Fatalf("%s: %d %v", tc.body, st, m)
		}
	}
	_, _, m := e.do("GET", "/_sim/faults", "", nil)
	if m["throttle_rate"] != 0.5 || m["entra_limits"] != true || m["latency_ms"] != 5.0 {
		t.Fatalf("faults %v", m)
	}
	_ = e.sim.SetFaults(Faults{})
	e.do("DELETE", "/_sim/stats", "", nil)
	e.do("GET", "/v1.0/users/"+ContosoAdminID, tok, nil)
	e.do("GET", "/v1.0/users/"+ContosoAdminUPN, tok, nil)
	e.do("POST", "/v1.0/users/"+ContosoAdminID+"/revokeSignInSessions", tok, nil)
	e.do("DELETE", "/v1.0/roleManagement/directory/roleAssignments/xyz", tok, nil)
	e.do("GET", "/v1.0/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'"+ContosoAdminID+"'", tok, nil)
	resp, err := http.Get(e.ts.URL + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	want := map[string]int64{"GET /v1.0/users/{id}": 2, "POST /v1.0/users/{id}/revokeSignInSessions": 1,
		"DELETE /v1.0/roleManagement/directory/roleAssignments/{id}": 1, "GET /v1.0/roleManagement/directory/roleAssignments": 1}
	if st.Total != 5 || len(st.Requests) != len(want) {
		t.Fatalf("stats %+v", st)
	}
	for k, v := range want {
		if st.Requests[k] != v {
			t.Fatalf("stats %+v", st)
		}
	}
	if s, _, _ := e.do("DELETE", "/_sim/stats", "", nil); s != 204 || e.sim.Stats().Total != 0 {
		t.Fatal("reset")
	}
	// Inspection of users, by name, id or domain.
	for _, ref := range []string{"contoso", ContosoTenantID, "contoso.com"} {
		resp, _ := http.Get(e.ts.URL + "/_sim/tenants/" + ref + "/users")
		var users []UserView
		_ = json.NewDecoder(resp.Body).Decode(&users)
		resp.Body.Close()
		if len(users) != 1 || users[0].UPN != ContosoAdminUPN || len(users[0].RoleDefinitionIDs) != 1 || !users[0].AccountEnabled {
			t.Fatalf("%s: %+v", ref, users)
		}
	}
	if s, _, _ := e.do("GET", "/_sim/tenants/nowhere/users", "", nil); s != 404 {
		t.Fatal(s)
	}
	if s, _, _ := e.do("POST", "/_sim/tenants/nowhere/revoke-consent", "", nil); s != 404 {
		t.Fatal(s)
	}
}

func TestStateFileSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "entra.json")
	e := newEnv(t, Options{AutoConsent: true, StateFile: path})
	tok := e.userToken(ContosoTenantID, "")
	client, _ := e.graph(tok.AccessToken)
	ctx := context.Background()
	u := createTestUser(t, client, "persist@contoso.com")
	if _, err := client.RoleManagement().Directory().RoleAssignments().Post(ctx, newAssignment(roleUserAdmin, *u.GetId()), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".entrasim-state-*")); len(matches) != 0 {
		t.Fatalf("temp files left: %v", matches)
	}
	e.ts.Close()

	// A new process: same directory, refresh token, signing key.
	e2 := newEnv(t, Options{AutoConsent: true, StateFile: path, Now: e.clock.Now})
	v, ok := e2.sim.User("contoso", "persist@contoso.com")
	if !ok || v.ID != *u.GetId() || len(v.RoleDefinitionIDs) != 1 || v.RoleDefinitionIDs[0] != roleUserAdmin {
		t.Fatalf("after restart: %+v", v)
	}
	cfg := e2.oauthConfig(ContosoTenantID, graphScopes...)
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, &stale).Token()
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh after restart: %v", err)
	}
	client2, _ := e2.graph(tok.AccessToken) // the old access token still verifies: same key
	if _, err := client2.Users().ByUserId("persist@contoso.com").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The password survives too.
	st, m := e2.postForm("/"+ContosoTenantID+"/oauth2/v2.0/token", map[string][]string{"grant_type": {"password"}, "username": {"persist@contoso.com"},
		"password": {testPassword}, "scope": {"openid"}, "client_id": {ClientID}, "client_secret": {ClientSecret}})
	if st != 200 {
		t.Fatalf("%d %v", st, m)
	}
	// A corrupt file is an error, not a silent reseed.
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{StateFile: path}); err == nil {
		t.Fatal("corrupt state accepted")
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, Options{AutoConsent: true, StateFile: filepath.Join(t.TempDir(), "state.json"), Now: time.Now})
	tok := e.userToken(ContosoTenantID, "")
	client, _ := e.graph(tok.AccessToken)
	ctx := context.Background()
	const workers = 8
	var wg sync.WaitGroup
	var failures atomic.Int32
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u, err := client.Users().Post(ctx, newUser(fmt.Sprintf("c%d@contoso.com", i), testPassword), nil)
			if err != nil {
				failures.Add(1)
				return
			}
			ras := client.RoleManagement().Directory().RoleAssignments()
			if _, err := ras.Post(ctx, newAssignment(roleHelpdeskAdmin, *u.GetId()), nil); err != nil {
				failures.Add(1)
			}
			if _, err := client.Users().Get(ctx, nil); err != nil {
				failures.Add(1)
			}
			_ = e.sim.SetFaults(Faults{LatencyMS: i % 2})
			_ = e.sim.Stats()
			_ = e.sim.Users("contoso")
			cfg := e.oauthConfig(ContosoTenantID, graphScopes...)
			stale := *tok
			stale.Expiry = time.Now().Add(-time.Minute)
			if _, err := cfg.TokenSource(ctx, &stale).Token(); err != nil {
				failures.Add(1)
			}
			// Racing duplicates: exactly one wins.
			if _, err := client.Users().Post(ctx, newUser("dup@contoso.com", testPassword), nil); err == nil {
				failures.Add(100)
			}
		}(i)
	}
	wg.Wait()
	// Exactly one of the racing duplicate creates succeeds (+100), nothing else fails.
	if f := failures.Load(); f != 100 {
		t.Fatalf("failures %d", f)
	}
	if n := len(e.sim.Users("contoso")); n != workers+2 {
		t.Fatalf("%d users", n)
	}
}
