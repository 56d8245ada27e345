package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

const globalAdmin = "62e90394-69f5-4237-9190-012177145e10"

// clock is a settable time shared by the store and the dispatcher.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type world struct {
	st                *store.Store
	clk               *clock
	tenant            store.Tenant
	app               store.Application
	alice, bob, admin store.Technician
	pub               *notify.Publisher
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	sealer, err := seal.New([]byte(strings.Repeat("k", seal.KeySize)))
	require.NoError(t, err)
	clk := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	w := &world{st: store.New(testenv.MigratedDB(t, "postgres"), sealer).WithClock(clk.Now), clk: clk}
	w.tenant, err = w.st.CreateTenant(ctx, "Contoso")
	require.NoError(t, err)
	w.admin, _, err = w.st.CreateTechnician(ctx, "admin@msp.example", "Admin", store.RoleAdmin)
	require.NoError(t, err)
	w.alice, _, err = w.st.CreateTechnician(ctx, "alice@msp.example", "Alice", "")
	require.NoError(t, err)
	w.bob, _, err = w.st.CreateTechnician(ctx, "bob@msp.example", "Bob", store.RoleAdmin)
	require.NoError(t, err)
	w.app, err = w.st.CreateApplication(ctx, w.tenant.ID, store.NewApplication{Name: "Entra ID - Contoso", Type: "web", Credentials: "entra_oidc"})
	require.NoError(t, err)
	roles := []string{globalAdmin}
	w.app, err = w.st.UpdateApplication(ctx, w.tenant.ID, w.app.ID, store.ApplicationPatch{Roles: &roles})
	require.NoError(t, err)
	w.pub = &notify.Publisher{Store: w.st, PublicURL: "https://jit.msp.example", Now: clk.Now}
	return w
}

func (w *world) grant(t *testing.T, justification string) store.Grant {
	t.Helper()
	g, err := w.st.CreatePendingGrant(context.Background(), store.PendingGrant{WorkflowID: "wf-" + store.NewID("x"),
		TenantID: w.tenant.ID, ApplicationID: w.app.ID, TechnicianID: w.alice.ID, Justification: justification, RequestedAt: w.clk.Now()})
	require.NoError(t, err)
	require.NoError(t, w.st.AttachRun(context.Background(), g.ID, "r1"))
	require.NoError(t, w.st.SetTicketReference(context.Background(), g.ID, "#4711"))
	return g
}

func TestCloudEventAndSignature(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	ev := notify.Event{ID: "evt_1", Name: notify.EventApproved, Time: at, Source: "https://jit.msp.example",
		Grant:      notify.Grant{ID: "grt_1", Status: "pending_approval", TenantID: "tnt_1", Roles: []string{globalAdmin}, RequestedAt: at},
		Actor:      &notify.Actor{ID: "tec_bob", Email: "bob@msp.example"},
		Recipients: []string{"alice@msp.example"}}
	body, err := notify.CloudEvent(ev)
	require.NoError(t, err)
	var ce map[string]any
	require.NoError(t, json.Unmarshal(body, &ce))
	require.Equal(t, "1.0", ce["specversion"])
	require.Equal(t, "jitaccess.grant.approved", ce["type"])
	require.Equal(t, "evt_1", ce["id"])
	require.Equal(t, "https://jit.msp.example", ce["source"])
	require.Equal(t, "grt_1", ce["subject"])
	require.Equal(t, "application/json", ce["datacontenttype"])
	require.Equal(t, "2026-11-30T09:00:00Z", ce["time"])
	data := ce["data"].(map[string]any)
	require.Equal(t, "grt_1", data["grant"].(map[string]any)["id"])
	require.NotContains(t, string(body), "alice@msp.example", "recipients stay out of webhooks")

	sig := notify.Sign([]byte("s3cret"), body)
	require.Regexp(t, `^sha256=[0-9a-f]{64}$`, sig)
	require.True(t, notify.Verify([]byte("s3cret"), body, sig))
	require.False(t, notify.Verify([]byte("other"), body, sig))
	require.False(t, notify.Verify([]byte("s3cret"), append(body, ' '), sig))
	require.False(t, notify.Verify([]byte("s3cret"), body, strings.TrimPrefix(sig, "sha256=")))

	for _, name := range notify.EventNames() {
		require.True(t, notify.IsEventName(name))
	}
	require.Len(t, notify.EventNames(), 12)
}

// receiver is a webhook endpoint that verifies every signature and can be switched off.
type receiver struct {
	mu       sync.Mutex
	secret   []byte
	down     bool
	badSigs  int
	attempts int
	got      map[string][]string // grant id → event types in arrival order
	ids      map[string]int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if !notify.Verify(r.secret, body, req.Header.Get(notify.SignatureHeader)) {
		r.badSigs++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if req.Header.Get("Content-Type") != "application/cloudevents+json; charset=utf-8" {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	var ce struct {
		ID, Type, Subject string
	}
	_ = json.Unmarshal(body, &ce)
	r.got[ce.Subject] = append(r.got[ce.Subject], strings.TrimPrefix(ce.Type, "jitaccess.grant."))
	r.ids[ce.ID]++
	w.WriteHeader(http.StatusNoContent)
}

func TestWebhookReceiverDownForAMinuteGetsEveryEventInOrder(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	rcv := &receiver{secret: []byte("whsec-0123456789"), down: true, got: map[string][]string{}, ids: map[string]int{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	_, err := w.st.CreateDestination(ctx, store.NewDestination{Name: "SIEM", Type: store.DestinationWebhook,
		Secrets: store.DestinationSecrets{URL: srv.URL + "/hook", SigningSecret: string(rcv.secret)}})
	require.NoError(t, err)

	g1, g2 := w.grant(t, "outage"), w.grant(t, "audit")
	want := map[string][]string{
		g1.ID: {notify.EventRequested, notify.EventApprovalNeeded, notify.EventApproved, notify.EventActive, notify.EventExpiringSoon, notify.EventExpired},
		g2.ID: {notify.EventRequested, notify.EventApprovalNeeded, notify.EventDenied},
	}
	for i := range 6 {
		for _, g := range []string{g1.ID, g2.ID} {
			if i < len(want[g]) {
				n, err := w.pub.PublishGrantEvent(ctx, workflows.GrantNotification{Event: want[g][i], GrantID: g, Key: "k", ActorID: w.bob.ID})
				require.NoError(t, err)
				require.Equal(t, 1, n)
			}
		}
	}
	n, err := w.pub.PublishGrantEvent(ctx, workflows.GrantNotification{Event: notify.EventRequested, GrantID: g1.ID, Key: "k"})
	require.NoError(t, err)
	require.Zero(t, n, "the same event published twice is queued once")

	reg := prometheus.NewRegistry()
	d := &notify.Dispatcher{Outbox: w.st, Senders: notify.Senders(), Now: w.clk.Now, Metrics: notify.NewMetrics(reg)}
	// Down for a minute: the heads are retried with backoff; nothing behind them goes first.
	for range 12 {
		_, err := d.DrainOnce(ctx)
		require.NoError(t, err)
		w.clk.Advance(5 * time.Second)
	}
	rcv.mu.Lock()
	require.Greater(t, rcv.attempts, 2)
	require.Empty(t, rcv.got)
	rcv.down = false
	rcv.mu.Unlock()

	for range 100 {
		if _, err := d.DrainOnce(ctx); err != nil {
			t.Fatal(err)
		}
		w.clk.Advance(time.Second)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	require.Zero(t, rcv.badSigs, "every delivery is signed")
	require.Equal(t, want, rcv.got, "every event, in order per grant")
	for id, n := range rcv.ids {
		require.Equal(t, 1, n, id)
	}
	require.Equal(t, 9.0, testutil.ToFloat64(d.Metrics.Attempts().WithLabelValues("webhook", "delivered")))
	require.Greater(t, testutil.ToFloat64(d.Metrics.Attempts().WithLabelValues("webhook", "retry")), 2.0)
}

func TestWebhookPermanentFailureLetsTheNextEventGo(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		var ce struct{ Type string }
		_ = json.NewDecoder(req.Body).Decode(&ce)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ce.Type)
		if len(got) == 1 {
			rw.WriteHeader(http.StatusGone)
			return
		}
		rw.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	dest, err := w.st.CreateDestination(ctx, store.NewDestination{Name: "x", Type: store.DestinationWebhook,
		Events: []string{notify.EventRequested, notify.EventActive}, Secrets: store.DestinationSecrets{URL: srv.URL}})
	require.NoError(t, err)
	g := w.grant(t, "")
	for _, e := range []string{notify.EventRequested, notify.EventApprovalNeeded, notify.EventActive} {
		_, err := w.pub.PublishGrantEvent(ctx, workflows.GrantNotification{Event: e, GrantID: g.ID})
		require.NoError(t, err)
	}
	d := &notify.Dispatcher{Outbox: w.st, Senders: notify.Senders(), Now: w.clk.Now}
	for range 3 {
		_, err := d.DrainOnce(ctx)
		require.NoError(t, err)
	}
	require.Equal(t, []string{"jitaccess.grant.requested", "jitaccess.grant.active"}, got, "filtered; a 410 is not retried")
	hist, err := w.st.Deliveries(ctx, dest.ID, 10)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, store.DeliveryDelivered, hist[0].Status)
	require.Equal(t, store.DeliveryFailed, hist[1].Status)
	require.Contains(t, hist[1].LastError, "410")
}

func TestPublisherEventFromTheDatabase(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g := w.grant(t, "P1 outage")
	var got []notify.Event
	_, err := w.st.CreateDestination(ctx, store.NewDestination{Name: "x", Type: store.DestinationWebhook, Secrets: store.DestinationSecrets{URL: "http://127.0.0.1:1"}})
	require.NoError(t, err)
	_, err = w.pub.PublishGrantEvent(ctx, workflows.GrantNotification{Event: notify.EventApprovalNeeded, GrantID: g.ID, Key: "1"})
	require.NoError(t, err)
	_, err = w.pub.PublishGrantEvent(ctx, workflows.GrantNotification{Event: "became_admin", GrantID: g.ID})
	require.Error(t, err)
	due, err := w.st.ClaimDeliveries(ctx, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, due, 1)
	var ev notify.Event
	require.NoError(t, json.Unmarshal(due[0].Payload, &ev))
	got = append(got, ev)
	require.Equal(t, notify.EventApprovalNeeded, got[0].Name)
	require.Equal(t, "Entra ID - Contoso", ev.Grant.ApplicationName)
	require.Equal(t, "Contoso", ev.Grant.TenantName)
	require.Equal(t, "alice@msp.example", ev.Grant.TechnicianEmail)
	require.Equal(t, "#4711", ev.Grant.TicketReference)
	require.Equal(t, "P1 outage", ev.Grant.Justification)
	require.Equal(t, []string{globalAdmin}, ev.Grant.Roles)
	require.Equal(t, []string{"Global Administrator"}, ev.Grant.RoleNames)
	require.Equal(t, "https://jit.msp.example/approvals/"+g.ID, ev.URL)
	require.ElementsMatch(t, []string{"alice@msp.example", "admin@msp.example", "bob@msp.example"}, ev.Recipients)
}

func TestSendTestEventReachesOnlyThatDestination(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	rcv := &receiver{secret: []byte("whsec-0123456789"), got: map[string][]string{}, ids: map[string]int{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	dest, err := w.st.CreateDestination(ctx, store.NewDestination{Name: "SIEM", Type: store.DestinationWebhook,
		Events: []string{notify.EventDrift}, Secrets: store.DestinationSecrets{URL: srv.URL, SigningSecret: string(rcv.secret)}})
	require.NoError(t, err)
	other, err := w.st.CreateDestination(ctx, store.NewDestination{Name: "Other", Type: store.DestinationWebhook,
		Secrets: store.DestinationSecrets{URL: srv.URL + "/other", SigningSecret: "x"}})
	require.NoError(t, err)
	require.NoError(t, w.pub.SendTest(ctx, dest.ID, w.admin.ID))
	require.ErrorIs(t, w.pub.SendTest(ctx, "dst_missing", w.admin.ID), store.ErrNotFound)
	_, err = (&notify.Dispatcher{Outbox: w.st, Senders: notify.Senders(), Now: w.clk.Now}).DrainOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"": {notify.EventTest}}, rcv.got, "sent whatever the destination's filter, signed")
	hist, err := w.st.Deliveries(ctx, dest.ID, 5)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	require.Equal(t, store.DeliveryDelivered, hist[0].Status)
	hist, err = w.st.Deliveries(ctx, other.ID, 5)
	require.NoError(t, err)
	require.Empty(t, hist)
}

func TestTwoDispatchersNeverSendTheSameDeliveryTwice(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		var ce struct{ ID string }
		_ = json.NewDecoder(req.Body).Decode(&ce)
		mu.Lock()
		seen[ce.ID]++
		mu.Unlock()
		rw.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	_, err := w.st.CreateDestination(ctx, store.NewDestination{Name: "x", Type: store.DestinationWebhook, Secrets: store.DestinationSecrets{URL: srv.URL}})
	require.NoError(t, err)
	for range 10 {
		g := w.grant(t, "")
		_, err := w.pub.PublishGrantEvent(ctx, workflows.GrantNotification{Event: notify.EventRequested, GrantID: g.ID})
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &notify.Dispatcher{Outbox: w.st, Senders: notify.Senders(), Now: w.clk.Now, Batch: 3}
			for range 10 {
				_, _ = d.DrainOnce(ctx)
			}
		}()
	}
	wg.Wait()
	require.Len(t, seen, 10)
	for id, n := range seen {
		require.Equal(t, 1, n, id)
	}
}

// readCounter counts the publisher's reads of the store.
type readCounter struct {
	*store.Store
	reads int
}

func (r *readCounter) Grant(ctx context.Context, id string) (store.Grant, error) {
	r.reads++
	return r.Store.Grant(ctx, id)
}

func (r *readCounter) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	r.reads++
	return r.Store.Tenant(ctx, id)
}

func (r *readCounter) ApplicationByID(ctx context.Context, id string) (store.Application, error) {
	r.reads++
	return r.Store.ApplicationByID(ctx, id)
}

func (r *readCounter) Technician(ctx context.Context, id string) (store.Technician, error) {
	r.reads++
	return r.Store.Technician(ctx, id)
}

func (r *readCounter) TicketReference(ctx context.Context, grantID string) (string, error) {
	r.reads++
	return r.Store.TicketReference(ctx, grantID)
}

func TestPublisherBuildsAnEventOnlyWhenADestinationWantsIt(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g := w.grant(t, "P1 outage")
	rc := &readCounter{Store: w.st}
	pub := &notify.Publisher{Store: rc, PublicURL: "https://jit.msp.example", Now: w.clk.Now}

	n, err := pub.PublishGrantEvent(ctx, workflows.GrantNotification{Event: notify.EventActive, GrantID: g.ID, Key: "1"})
	require.NoError(t, err)
	require.Zero(t, n)
	require.Zero(t, rc.reads, "no destination: the event is not built, not even the grant read")

	_, err = w.st.CreateDestination(ctx, store.NewDestination{Name: "drift only", Type: store.DestinationWebhook,
		Events: []string{notify.EventDrift}, Secrets: store.DestinationSecrets{URL: "http://127.0.0.1:1"}})
	require.NoError(t, err)
	n, err = pub.PublishGrantEvent(ctx, workflows.GrantNotification{Event: notify.EventActive, GrantID: g.ID, Key: "1"})
	require.NoError(t, err)
	require.Zero(t, n)
	require.Zero(t, rc.reads, "no destination wants active: the event is not built")

	n, err = pub.PublishGrantEvent(ctx, workflows.GrantNotification{Event: notify.EventDrift, GrantID: g.ID, Key: "1"})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NotZero(t, rc.reads)
}
