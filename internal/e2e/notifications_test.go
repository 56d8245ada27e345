package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A webhook destination gets the grant events the product itself publishes, each signed as
// docs/governance.md says; a receiver that is down for a minute gets every event afterwards,
// once, and in order per grant.
func TestWebhookGetsEveryGrantEventAfterAnOutage(t *testing.T) {
	s := newStack(t, stackOptions{Env: map[string]string{"JIT_EXPIRING_SOON_NOTICE": "15s"}})
	d := s.seed("25s")

	var down atomic.Bool
	down.Store(true)
	var mu sync.Mutex
	var secret []byte
	byGrant := map[string][]string{}
	seen := map[string]int{}
	badSignatures, refused := 0, 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if down.Load() {
			refused++
			http.Error(w, "receiver down", http.StatusServiceUnavailable)
			return
		}
		// The verification docs/governance.md gives a receiver: HMAC-SHA256 of the raw body.
		m := hmac.New(sha256.New, secret)
		m.Write(body)
		if r.Header.Get("X-Jitaccess-Signature") != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			badSignatures++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ce struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				Grant struct {
					ID string `json:"id"`
				} `json:"grant"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &ce); err != nil {
			t.Errorf("not a CloudEvent: %v: %s", err, body)
			return
		}
		seen[ce.ID]++
		if seen[ce.ID] == 1 {
			byGrant[ce.Data.Grant.ID] = append(byGrant[ce.Data.Grant.ID], strings.TrimPrefix(ce.Type, "jitaccess.grant."))
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	var dst struct{ ID, Secret string }
	if code := s.call(d.AdminToken, http.MethodPost, "/v1/notification-destinations",
		map[string]any{"name": "PSA", "type": "webhook", "url": recv.URL + "/hook"}, &dst); code != http.StatusCreated {
		t.Fatalf("add destination: %d", code)
	}
	mu.Lock()
	secret = []byte(dst.Secret)
	mu.Unlock()
	outage := time.Now()

	// Two grants while the receiver is down: one runs to its expiry, one is revoked.
	var expiring, revoked grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID, "justification": "patching"}, &expiring); code != http.StatusAccepted {
		t.Fatalf("request: %d", code)
	}
	s.waitStatus(d.TechnicianToken, expiring.ID, "active", 60*time.Second)
	s.waitStatus(d.TechnicianToken, expiring.ID, "expired", 90*time.Second)
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": d.ApplicationID, "justification": "second look"}, &revoked); code != http.StatusAccepted {
		t.Fatalf("second request: %d", code)
	}
	s.waitStatus(d.TechnicianToken, revoked.ID, "active", 60*time.Second)
	if code := s.call(d.AdminToken, http.MethodPost, "/v1/access-requests/"+revoked.ID+"/revoke", map[string]any{"reason": "done"}, nil); code != http.StatusAccepted {
		t.Fatalf("revoke: %d", code)
	}
	s.waitStatus(d.TechnicianToken, revoked.ID, "revoked", 60*time.Second)
	time.Sleep(time.Until(outage.Add(time.Minute)))
	mu.Lock()
	if refused == 0 {
		t.Error("the receiver refused nothing while down: nothing was attempted during the outage")
	}
	for g, evs := range byGrant {
		t.Errorf("grant %s: %v delivered while the receiver was down", g, evs)
	}
	down.Store(false)
	mu.Unlock()

	want := map[string][]string{
		expiring.ID: {"requested", "active", "expiring_soon", "expired"},
		revoked.ID:  {"requested", "active", "revoked"},
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		done := len(byGrant[expiring.ID]) >= 4 && len(byGrant[revoked.ID]) >= 3
		got := map[string][]string{expiring.ID: slices.Clone(byGrant[expiring.ID]), revoked.ID: slices.Clone(byGrant[revoked.ID])}
		mu.Unlock()
		if done || time.Now().After(deadline) {
			for id, w := range want {
				if !slices.Equal(got[id], w) {
					t.Errorf("grant %s: events %v, want %v in this order", id, got[id], w)
				}
			}
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // a duplicate would arrive by now
	mu.Lock()
	defer mu.Unlock()
	if badSignatures > 0 {
		t.Errorf("%d deliveries with a bad signature", badSignatures)
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	t.Logf("receiver down %s: %d attempts refused; then %d events delivered, each once", time.Minute, refused, len(seen))
}
