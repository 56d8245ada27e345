package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/workflows"
)

// The destinations API: a webhook is added (its HMAC key shown once), a test event is
// queued and delivered by the dispatcher to a receiver that verifies the signature, the
// list shows the delivery, and the destination is removed. Secrets never come back.
func TestNotificationDestinationsAPI(t *testing.T) {
	e := newEnv(t, withStubWorkflows)
	var mu sync.Mutex
	var bodies [][]byte
	var sigs []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, sigs = append(bodies, b), append(sigs, r.Header.Get(notify.SignatureHeader))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)

	_, techToken := e.createTechnician("tess@msp.example")
	require.Equal(t, 403, e.do("GET", "/v1/notification-destinations", techToken, nil).Status, "admins only")
	bad := e.do("POST", "/v1/notification-destinations", e.adminToken, map[string]any{"name": "x", "type": "webhook", "url": "http://example.com/hook"})
	require.Equal(t, 400, bad.Status, string(bad.Body))
	require.Contains(t, bad.errorMessage(), "url")

	r := e.must(201, e.do("POST", "/v1/notification-destinations", e.adminToken, map[string]any{
		"name": "PSA", "type": "webhook", "url": recv.URL + "/hook", "events": []string{"approval_needed", "approved"}}))
	id, secret := r.str("id"), r.str("secret")
	require.NotEmpty(t, secret, "a generated HMAC key is shown once")
	require.NotContains(t, string(r.Body), "/hook", "the URL is sealed; only its host is shown")

	e.must(202, e.do("POST", "/v1/notification-destinations/"+id+"/test", e.adminToken, nil))
	d := &notify.Dispatcher{Outbox: e.store, Senders: notify.Senders()}
	n, err := d.DrainOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	mu.Lock()
	require.Len(t, bodies, 1)
	require.True(t, notify.Verify([]byte(secret), bodies[0], sigs[0]), "the receiver verifies the signature")
	var ce map[string]any
	require.NoError(t, json.Unmarshal(bodies[0], &ce))
	require.Equal(t, "1.0", ce["specversion"])
	mu.Unlock()

	list := e.must(200, e.do("GET", "/v1/notification-destinations", e.adminToken, nil)).items()
	require.Len(t, list, 1)
	require.NotContains(t, list[0], "secret")
	last := list[0]["last_deliveries"].([]any)
	require.Len(t, last, 1)
	require.Equal(t, "delivered", last[0].(map[string]any)["status"])
	require.Contains(t, e.auditActions(), "notification_destination.tested")

	e.must(204, e.do("DELETE", "/v1/notification-destinations/"+id, e.adminToken, nil))
	require.Empty(t, e.must(200, e.do("GET", "/v1/notification-destinations", e.adminToken, nil)).items())
	require.Equal(t, 404, e.do("POST", "/v1/notification-destinations/"+id+"/test", e.adminToken, nil).Status)
}

// A Slack Approve button through the real route: a bad signature is refused and the request
// keeps waiting; a good one approves it with the approval rules, and it is provisioned.
func TestSlackApproveCallback(t *testing.T) {
	c := temporalClient(t)
	g := newGrantEnv(t, c)
	g.must(200, g.do("PATCH", "/v1/tenants/"+g.tenant+"/applications/"+g.app, g.adminToken, map[string]any{"policy": nil}))
	const signing = "slack-signing-secret-0123456789"
	dst := g.must(201, g.do("POST", "/v1/notification-destinations", g.adminToken, map[string]any{
		"name": "Slack #approvals", "type": "slack", "url": "https://hooks.slack.com/services/T0/B0/x", "secret": signing,
		"slack_users": map[string]string{"U_ADMIN": "admin@msp.example", "U_ALICE": "alice@msp.example"}})).str("id")
	grant := g.must(202, g.request(g.aliceToken, g.app)).str("id")
	g.waitStatus(g.aliceToken, grant, string(workflows.StatusPendingApproval))

	press := func(user string, secret string) int {
		payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": user},
			"actions": []any{map[string]any{"action_id": notify.SlackApproveAction, "value": grant}}})
		body := "payload=" + url.QueryEscape(string(payload))
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req := httptest.NewRequest(http.MethodPost, "/v1/notification-destinations/"+dst+"/slack/interactions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(notify.SlackTimestampHeader, ts)
		req.Header.Set(notify.SlackSignatureHeader, notify.SignSlackRequest([]byte(secret), ts, []byte(body)))
		w := httptest.NewRecorder()
		g.srv.ServeHTTP(w, req)
		return w.Code
	}
	require.Equal(t, http.StatusUnauthorized, press("U_ADMIN", "not-the-signing-secret-0000"))
	press("U_ALICE", signing) // the requester's own button press decides nothing
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, string(workflows.StatusPendingApproval), g.must(200, g.do("GET", "/v1/access-requests/"+grant, g.aliceToken, nil)).str("status"))
	require.Empty(t, g.entra.Calls())

	require.Equal(t, http.StatusOK, press("U_ADMIN", signing))
	g.waitStatus(g.aliceToken, grant, string(workflows.StatusActive))
	require.NotEmpty(t, g.auditEvents("grant.approved"))
}
