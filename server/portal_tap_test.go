package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// activeGrant requests access as b and makes the grant active as the workflow would, with the
// sealed password and, when tapEnd is not zero, a Temporary Access Pass ending then.
func (pe *portalEnv) activeGrant(b *browser, f portalFixture, grantFor time.Duration, tapEnd time.Time) string {
	pe.t.Helper()
	ctx := context.Background()
	p := b.post("/my/applications/"+f.appID+"/request", url.Values{"csrf_token": {b.csrf()}, "duration": {grantFor.String()}}, pe.url)
	require.Equal(pe.t, 200, p.Status, p.Body)
	grantID := strings.TrimPrefix(p.URL.Path, "/my/grants/")
	g, err := pe.store.Grant(ctx, grantID)
	require.NoError(pe.t, err)
	now := time.Now().UTC()
	require.NoError(pe.t, pe.store.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, RunID: g.RunID, Status: string(workflows.StatusActive),
		ActivatedAt: now, ExpiresAt: now.Add(grantFor), AccountUPN: "tech_msp.example@contoso.com", AccountID: "oid-1"}))
	require.NoError(pe.t, pe.store.SaveCredential(ctx, g.ID, "tech_msp.example@contoso.com", "Managed-Passw0rd!"))
	if !tapEnd.IsZero() {
		require.NoError(pe.t, pe.store.SaveTAP(ctx, g.ID, directory.TAP{ID: "tap-1", Pass: "Tap-Pass-7x9k", StartsAt: now, ExpiresAt: tapEnd}))
	}
	return grantID
}

// The grant page shows the Temporary Access Pass like the password: hidden until an audited
// reveal (script and no-script), a copy button, its own countdown, a note when the tenant's
// policy caps it before the grant ends, and three lines on how to sign in with it.
func TestPortalShowsTheTemporaryAccessPass(t *testing.T) {
	pe := newPortalEnv(t)
	f := pe.fixture()
	b := pe.browser()
	b.signIn("tech@msp.example")
	tapEnd := time.Now().UTC().Add(time.Hour).Truncate(time.Second) // the policy's 8 h cap, scaled: 1 h of a 3 h grant
	grantID := pe.activeGrant(b, f, 3*time.Hour, tapEnd)

	p := b.get("/my/grants/" + grantID)
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, `id="tap"`)
	require.NotContains(t, p.Body, "Tap-Pass-7x9k", "hidden until revealed")
	require.Contains(t, p.Body, `id="copy-tap" hidden`)
	require.Contains(t, p.Body, `data-countdown="`+tapEnd.Format(time.RFC3339)+`" id="tap-countdown"`)
	require.Contains(t, p.Body, `id="tap-capped"`)
	require.Contains(t, p.Body, "This pass ends 2 hours before your access")
	require.Contains(t, p.Body, "Temporary Access Pass policy caps its lifetime")
	require.Contains(t, p.Body, "sign in again with the password", "password_and_tap keeps the password")
	howTo := p.Body[strings.Index(p.Body, `id="how-to-sign-in"`):]
	howTo = howTo[:strings.Index(howTo, "</ol>")]
	require.Equal(t, 3, strings.Count(howTo, "<li>"), "three lines")
	require.Contains(t, howTo, "Use a Temporary Access Pass")

	// The page's script reveals both in one audited read.
	req, _ := http.NewRequest("POST", pe.url+"/my/grants/"+grantID+"/credentials", strings.NewReader(url.Values{"csrf_token": {b.csrf()}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", pe.url)
	req.Header.Set("Accept", "application/json")
	p = b.do(req)
	require.Equal(t, 200, p.Status, p.Body)
	var creds map[string]any
	require.NoError(t, json.Unmarshal([]byte(p.Body), &creds))
	require.Equal(t, "Tap-Pass-7x9k", creds["temporary_access_pass"])
	require.Equal(t, tapEnd.Format(time.RFC3339), creds["tap_expires_at"])
	// Without script, the page shows the pass and its copy button.
	p = b.post("/my/grants/"+grantID+"/credentials", url.Values{"csrf_token": {b.csrf()}}, pe.url)
	require.Contains(t, p.Body, `<code id="tap" data-secret>Tap-Pass-7x9k</code>`)
	require.Contains(t, p.Body, `id="copy-tap">Copy`)
	reads := 0
	for _, a := range pe.auditActions() {
		if a == "credentials.read" {
			reads++
		}
	}
	require.Equal(t, 2, reads, "every reveal of the pass is audited")

	// An admin sees that there is a pass and when it ends, never the pass.
	admin := pe.browser()
	admin.signIn("admin@msp.example")
	p = admin.get("/my/grants/" + grantID)
	require.Equal(t, 200, p.Status, p.Body)
	require.Contains(t, p.Body, "Only the technician who holds the grant can see the pass.")
	require.NotContains(t, p.Body, "Tap-Pass-7x9k")
}

// A pass covering the whole grant has no cap note; an application on password only shows no
// pass and tells the technician to register a method with the password.
func TestPortalSignInWordingFollowsTheMethod(t *testing.T) {
	pe := newPortalEnv(t)
	f := pe.fixture()
	b := pe.browser()
	b.signIn("tech@msp.example")
	grantID := pe.activeGrant(b, f, time.Hour, time.Now().UTC().Add(time.Hour))
	p := b.get("/my/grants/" + grantID)
	require.Contains(t, p.Body, `id="tap-countdown"`)
	require.NotContains(t, p.Body, `id="tap-capped"`)
	require.Contains(t, p.Body, "the pass and the password stop working")

	// The same grant once its application gives the password only (and no pass is on record).
	pe.must(200, pe.do("PATCH", "/v1/tenants/"+f.tenantID+"/applications/"+f.appID, pe.adminToken, map[string]any{"sign_in_method": "password"}))
	p = b.get("/my/grants/" + grantID)
	require.NotContains(t, p.Body, `id="tap"`)
	require.Contains(t, p.Body, "Enter the password; the admin portals require MFA")
	require.Contains(t, p.Body, "the password stops working")
}

// When an extension could not renew the pass (the workflow's grant.tap_not_renewed), the page
// and the credentials say why instead of blaming the policy's cap; a later renewal clears it.
func TestPortalExplainsAPassNotRenewed(t *testing.T) {
	pe := newPortalEnv(t)
	f := pe.fixture()
	b := pe.browser()
	b.signIn("tech@msp.example")
	grantID := pe.activeGrant(b, f, 3*time.Hour, time.Now().UTC().Add(time.Hour))
	ctx := context.Background()
	why := "The Temporary Access Pass was not renewed and ends before the access does: the tenant's Temporary Access Pass policy is off"
	require.NoError(t, pe.store.RecordAudit(ctx, store.AuditEvent{TenantID: f.tenantID, ActorID: "system", ActorKind: "system",
		Action: workflows.ActionTAPNotRenewed, Target: grantID, Details: map[string]any{"reason": why}}))

	p := b.get("/my/grants/" + grantID)
	require.Contains(t, p.Body, `id="tap-capped"`)
	require.Contains(t, p.Body, "the tenant&#39;s Temporary Access Pass policy is off")
	require.NotContains(t, p.Body, "caps its lifetime")
	techToken := pe.must(201, pe.do("POST", "/v1/tokens", pe.adminToken, map[string]any{"name": "tess", "technician_id": f.techID})).str("token")
	creds := pe.must(200, pe.do("GET", "/v1/access-requests/"+grantID+"/credentials", techToken, nil))
	require.Equal(t, why, creds.str("temporary_access_pass_note"))

	time.Sleep(10 * time.Millisecond)
	require.NoError(t, pe.store.RecordAudit(ctx, store.AuditEvent{TenantID: f.tenantID, ActorID: "system", ActorKind: "system",
		Action: workflows.ActionTAPRenewed, Target: grantID, Details: map[string]any{"reason": "replaced"}}))
	p = b.get("/my/grants/" + grantID)
	require.Contains(t, p.Body, "caps its lifetime")
	require.NotContains(t, p.Body, "policy is off")
}
