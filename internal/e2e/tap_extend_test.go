package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/demo"
)

// tapIDs lists the ids of the account's Temporary Access Passes in the emulator.
func (s *stack) tapIDs(upn string) []string {
	u, _ := s.Sim.User("contoso", upn)
	var ids []string
	for _, m := range u.AuthMethods {
		if m.Type == "temporaryAccessPass" {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// On the real stack: an extension beyond the pass's end gives the technician a new pass that
// covers the new end; the directory holds only the new one; revoke deletes it.
func TestExtensionRenewsTheTAPOnTheRealStack(t *testing.T) {
	s := newStack(t, stackOptions{MaxAccessDuration: "24h"})
	d := s.seed("2h")
	var g grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID, "duration": "1h"}, &g); code != http.StatusAccepted {
		t.Fatalf("request: %d", code)
	}
	g = s.waitStatus(d.TechnicianToken, g.ID, "active", 60*time.Second)
	var before credentials
	var tapEnd struct {
		TAPExpiresAt time.Time `json:"tap_expires_at"`
	}
	s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &before)
	s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &tapEnd)
	oldIDs := s.tapIDs(before.UserPrincipalName)
	if before.TAP == "" || len(oldIDs) != 1 {
		t.Fatalf("no pass at the start: %d in the directory", len(oldIDs))
	}
	if tapEnd.TAPExpiresAt.After(g.ExpiresAt.Add(30 * time.Minute)) {
		t.Fatalf("the first pass (%s) already covers the extension of a grant ending %s", tapEnd.TAPExpiresAt, g.ExpiresAt)
	}

	var ext grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests/"+g.ID+"/extend", map[string]any{"duration": "90m"}, &ext); code != http.StatusOK {
		t.Fatalf("extend: %d", code)
	}
	var after credentials
	s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &after)
	s.call(d.TechnicianToken, http.MethodGet, "/v1/access-requests/"+g.ID+"/credentials", nil, &tapEnd)
	newIDs := s.tapIDs(before.UserPrincipalName)
	if after.TAP == "" || after.TAP == before.TAP || len(newIDs) != 1 || newIDs[0] == oldIDs[0] {
		t.Fatalf("after the extension: new pass %t, directory passes %v (before %v)", after.TAP != before.TAP, newIDs, oldIDs)
	}
	if d := ext.ExpiresAt.Sub(tapEnd.TAPExpiresAt); d > 2*time.Minute || d < -2*time.Minute {
		t.Fatalf("the new pass ends %s, the grant %s", tapEnd.TAPExpiresAt, ext.ExpiresAt)
	}
	if n := s.auditCount(t, d, "grant.tap_renewed"); n != 1 {
		t.Fatalf("%d grant.tap_renewed events, want 1", n)
	}

	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests/"+g.ID+"/revoke", map[string]any{}, nil); code >= 300 {
		t.Fatalf("revoke: %d", code)
	}
	s.waitStatus(d.TechnicianToken, g.ID, "revoked", 60*time.Second)
	if ids := s.tapIDs(before.UserPrincipalName); len(ids) != 0 {
		t.Fatalf("passes left after the revoke: %v", ids)
	}
}

// auditCount counts the audit events with action, read as the admin through the API.
func (s *stack) auditCount(t *testing.T, d demo.Demo, action string) int {
	t.Helper()
	var page struct {
		Items []struct {
			Action string `json:"action"`
		} `json:"items"`
	}
	if code := s.call(d.AdminToken, http.MethodGet, "/v1/audit-events?limit=200", nil, &page); code != http.StatusOK {
		t.Fatalf("audit: %d", code)
	}
	n := 0
	for _, e := range page.Items {
		if e.Action == action {
			n++
		}
	}
	return n
}
