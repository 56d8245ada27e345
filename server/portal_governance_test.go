package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// The policy page saves what the form says (refusals beside their field) and "Use the
// default" forgets it; the notifications page adds a webhook (its key shown once), sends a
// test event and removes it.
func TestPortalPolicyAndNotificationsPages(t *testing.T) {
	pe := newPortalEnv(t)
	ctx := context.Background()
	tenantID := pe.createTenant("Contoso")
	appID := pe.readyApplication(tenantID, "Entra")
	b := pe.browser()
	b.signIn("admin@msp.example")
	token := b.csrf()
	policyPath := "/admin/tenants/" + tenantID + "/applications/" + appID + "/policy"

	p := b.get(policyPath)
	require.Equal(t, 200, p.Status)
	require.Contains(t, p.Body, "A saved policy applies.")
	form := url.Values{"csrf_token": {token}, "justification": {"required"}, "ticket_required": {"1"}, "ticket_pattern": {"("},
		"ticket_label": {"ConnectWise ticket"}, "max_duration": {"2h"}, "approval_required": {"1"}, "approvals_needed": {"2"}, "approval_timeout": {"1h"}}
	p = b.post(policyPath, form, pe.url)
	require.Equal(t, 400, p.Status)
	require.Contains(t, p.Body, "policy.ticket.pattern")
	form.Set("ticket_pattern", `#?\d{4,8}`)
	p = b.post(policyPath, form, pe.url)
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, "Policy saved.")
	pol, saved, err := pe.store.ApplicationPolicy(ctx, appID)
	require.NoError(t, err)
	require.True(t, saved)
	require.Equal(t, "required", pol.Justification)
	require.Equal(t, "ConnectWise ticket", pol.Ticket.Label)
	require.True(t, pol.Approval.Required)
	require.Equal(t, 2, pol.Approval.ApprovalsNeeded)
	p = b.post(policyPath+"/reset", url.Values{"csrf_token": {token}}, pe.url)
	require.Equal(t, 200, p.Status)
	require.Contains(t, p.Body, "the default applies")
	require.Contains(t, p.Body, "User Administrator")
	_, saved, err = pe.store.ApplicationPolicy(ctx, appID)
	require.NoError(t, err)
	require.False(t, saved)

	var mu sync.Mutex
	var got [][]byte
	var sigs []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, sigs = append(got, body), append(sigs, r.Header.Get(notify.SignatureHeader))
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	p = b.post("/admin/notifications", url.Values{"csrf_token": {token}, "name": {"PSA"}, "type": {"webhook"}, "url": {recv.URL}}, pe.url)
	require.Equal(t, 201, p.Status, p.Body)
	require.Contains(t, p.Body, `id="new-secret"`)
	ds, err := pe.store.Destinations(ctx)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	sec, err := pe.store.DestinationSecrets(ctx, ds[0].ID)
	require.NoError(t, err)
	require.Contains(t, p.Body, sec.SigningSecret, "shown once on this page")
	require.NotContains(t, b.get("/admin/notifications").Body, sec.SigningSecret, "and never again")

	p = b.post("/admin/notifications/"+ds[0].ID+"/test", url.Values{"csrf_token": {token}}, pe.url)
	require.Equal(t, 200, p.Status)
	require.Contains(t, p.Body, "Test event queued")
	_, err = (&notify.Dispatcher{Outbox: pe.store, Senders: notify.Senders()}).DrainOnce(ctx)
	require.NoError(t, err)
	mu.Lock()
	require.Len(t, got, 1)
	require.True(t, notify.Verify([]byte(sec.SigningSecret), got[0], sigs[0]))
	mu.Unlock()
	require.Contains(t, b.get("/admin/notifications").Body, `status-delivered`)

	p = b.post("/admin/notifications/"+ds[0].ID+"/delete", url.Values{"csrf_token": {token}}, pe.url)
	require.Equal(t, 200, p.Status)
	require.Contains(t, p.Body, "No destination yet.")
}

// The requester's grant page says when an extension awaits the approvers, and that the
// access ends as before until they agree.
func TestPortalGrantShowsExtensionAwaitingApproval(t *testing.T) {
	pe := newPortalEnv(t)
	f := pe.fixture()
	b := pe.browser()
	b.signIn("tech@msp.example")
	grantID := pe.activeGrant(b, f, time.Hour, time.Time{})
	require.NotContains(t, b.get("/my/grants/"+grantID).Body, "pending-extension")
	require.NoError(t, pe.store.RecordGrant(context.Background(), store.GrantUpdate{GrantID: grantID, Status: string(workflows.StatusActive),
		PendingExtension: &store.PendingExtension{Duration: 30 * time.Minute, By: "tec_x", RequestedAt: time.Now().UTC(), Request: "extension:k1"}}))
	p := b.get("/my/grants/" + grantID)
	require.Equal(t, 200, p.Status)
	require.Contains(t, p.Body, `id="pending-extension"`)
	require.Contains(t, p.Body, "Extension awaiting approval: 30 min more")
}
