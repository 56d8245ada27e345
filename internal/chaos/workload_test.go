package chaos

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// grantView is the grant of SPEC §4 as the API shows it.
type grantView struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	ActivatedAt *time.Time `json:"activated_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	EndedAt     *time.Time `json:"ended_at"`
	Account     struct {
		UserPrincipalName *string `json:"user_principal_name"`
	} `json:"account"`
	WorkflowID string  `json:"workflow_id"`
	RunID      string  `json:"run_id"`
	Failure    *string `json:"failure"`
}

func (v grantView) upn() string {
	if v.Account.UserPrincipalName == nil {
		return ""
	}
	return *v.Account.UserPrincipalName
}

func (v grantView) failure() string {
	if v.Failure == nil {
		return ""
	}
	return *v.Failure
}

type tech struct {
	id, email, token string
	grants           []*grant // in request order
}

// grant is one planned request and what became of it.
type grant struct {
	idx      int
	round    int
	tech     *tech
	at       time.Duration // first round: when to request, from the start of the run
	duration time.Duration
	revoke   bool // an admin revokes it 2 s after it is active

	// Written by the technician's goroutine; read after it ended (or under workload.mu).
	id             string
	requestedAt    time.Time
	revokeAskedAt  time.Time
	revokeAccepted bool
	nextRequestAt  time.Time // the same technician's next request (zero: none)
	terminatedAt   time.Time // the suite terminated its run (drift_test.go)
	resetAt        time.Time // the suite reset its run
	password       string
	final          grantView
	problems       []string
}

// workload is the technicians' side: requests, double clicks, credential reads, revokes,
// second grants after the first ended.
type workload struct {
	t     *testing.T
	c     *apiClient
	d     demo.Demo
	admin string

	techs      []*tech
	grants     []*grant
	plannedEnd time.Duration

	mu    sync.Mutex
	views map[string]grantView // latest list answer by grant id

	wg       sync.WaitGroup
	done     chan struct{}
	pollQuit chan struct{}
	quitOnce sync.Once
	pollDone chan struct{}
}

// newWorkload creates the technicians (members of the demo tenant, hence entitled through
// "All admins") and plans the grants: three quarters first grants spread over the first
// 30 s (0.8 s apart in larger runs, so these meet several chaos cycles), a quarter second grants of the first technicians once their first ended.
func newWorkload(t *testing.T, c *apiClient, d demo.Demo, n int, admin string) *workload {
	t.Helper()
	w := &workload{t: t, c: c, d: d, admin: admin, views: map[string]grantView{},
		done: make(chan struct{}), pollQuit: make(chan struct{}), pollDone: make(chan struct{})}
	second := n / 4
	first := n - second
	spread := max(30*time.Second, time.Duration(first)*800*time.Millisecond)
	for i := range first {
		var tc struct{ ID, Token string }
		email := fmt.Sprintf("chaos-%04d@msp.example", i)
		if _, err := c.retry(time.Minute, admin, http.MethodPost, "/v1/technicians",
			map[string]any{"email": email, "display_name": fmt.Sprintf("Chaos Tech %d", i)}, &tc); err != nil {
			t.Fatalf("chaos: create technician: %v", err)
		}
		if _, err := c.retry(time.Minute, admin, http.MethodPut, "/v1/tenants/"+d.TenantID+"/members/"+tc.ID, nil, nil); err != nil {
			t.Fatalf("chaos: add member: %v", err)
		}
		tk := &tech{id: tc.ID, email: email, token: tc.Token}
		w.techs = append(w.techs, tk)
		g := &grant{idx: i, round: 1, tech: tk, at: time.Duration(i) * spread / time.Duration(first),
			duration: 15*time.Second + time.Duration(i*7%21)*time.Second, revoke: i%6 == 5}
		tk.grants = append(tk.grants, g)
		w.grants = append(w.grants, g)
		w.plannedEnd = max(w.plannedEnd, g.at+10*time.Second+g.duration)
	}
	for i := range second {
		tk := w.techs[i]
		prev := tk.grants[0]
		g := &grant{idx: first + i, round: 2, tech: tk, duration: 10*time.Second + time.Duration(i%5)*time.Second}
		tk.grants = append(tk.grants, g)
		w.grants = append(w.grants, g)
		w.plannedEnd = max(w.plannedEnd, prev.at+10*time.Second+prev.duration+12*time.Second+g.duration)
	}
	return w
}

// start launches the poller and one goroutine per technician.
func (w *workload) start(began time.Time) {
	go w.poll()
	for _, tk := range w.techs {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.runTechnician(began, tk)
		}()
	}
	go func() { w.wg.Wait(); close(w.done) }()
}

func (w *workload) runTechnician(began time.Time, tk *tech) {
	for i, g := range tk.grants {
		if w.quitting() {
			return
		}
		if g.round == 1 {
			time.Sleep(time.Until(began.Add(g.at)))
		} else {
			time.Sleep(time.Second)
		}
		now := time.Now()
		if i > 0 {
			tk.grants[i-1].nextRequestAt = now
		}
		w.request(g, now)
		if g.id == "" {
			continue
		}
		v := w.waitFor(g, func(s string) bool { return s == string(workflows.StatusActive) || store.IsTerminal(s) })
		if v.Status == string(workflows.StatusActive) {
			w.readCredentials(g)
			if g.revoke {
				time.Sleep(2 * time.Second)
				w.revokeGrant(g)
			}
		}
		w.waitFor(g, store.IsTerminal)
	}
}

func (w *workload) problem(g *grant, format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	g.problems = append(g.problems, fmt.Sprintf(format, args...))
}

// request asks for access like the portal does, then clicks again: the second answer must be
// the same live grant.
func (w *workload) request(g *grant, now time.Time) {
	body := map[string]any{"application_id": w.d.ApplicationID, "justification": fmt.Sprintf("chaos grant %d", g.idx),
		"duration": g.duration.String()}
	var v grantView
	code, err := w.c.retry(3*time.Minute, g.tech.token, http.MethodPost, "/v1/access-requests", body, &v)
	if err != nil {
		w.problem(g, "request: %v", err)
		return
	}
	for _, earlier := range g.tech.grants {
		if earlier != g && earlier.id == v.ID {
			w.problem(g, "request answered %d with the earlier grant %s, which had ended", code, v.ID)
			return
		}
	}
	w.mu.Lock()
	g.id, g.requestedAt = v.ID, now
	w.mu.Unlock()
	var again grantView
	if code, err := w.c.retry(3*time.Minute, g.tech.token, http.MethodPost, "/v1/access-requests", body, &again); err != nil {
		w.problem(g, "repeated request: %v", err)
	} else if again.ID != v.ID || code != http.StatusOK {
		w.problem(g, "repeated request answered %d with grant %s, not the live grant %s", code, again.ID, v.ID)
	}
}

// waitFor waits until the poller sees the grant in a status accepted by ok.
func (w *workload) waitFor(g *grant, ok func(string) bool) grantView {
	for {
		w.mu.Lock()
		v, seen := w.views[g.id]
		w.mu.Unlock()
		if seen && ok(v.Status) {
			return v
		}
		select {
		case <-w.pollQuit:
			return v
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (w *workload) readCredentials(g *grant) {
	var cred struct {
		Password string `json:"password"`
	}
	code, err := w.c.retry(time.Minute, g.tech.token, http.MethodGet, "/v1/access-requests/"+g.id+"/credentials", nil, &cred)
	switch {
	case code == http.StatusConflict:
		// Ended before the read: nothing to prove with it.
	case err != nil:
		w.problem(g, "credentials: %v", err)
	default:
		w.mu.Lock()
		g.password = cred.Password
		w.mu.Unlock()
	}
}

func (w *workload) revokeGrant(g *grant) {
	now := time.Now()
	code, err := w.c.retry(time.Minute, w.admin, http.MethodPost, "/v1/access-requests/"+g.id+"/revoke", map[string]any{"reason": "chaos revoke"}, nil)
	w.mu.Lock()
	defer w.mu.Unlock()
	g.revokeAskedAt = now
	switch {
	case code == http.StatusAccepted:
		g.revokeAccepted = true
	case code == http.StatusConflict:
		// Already ending.
	case err != nil:
		g.problems = append(g.problems, "revoke: "+err.Error())
	}
}

// poll lists every grant once a second (as the admin), riding out API restarts.
func (w *workload) poll() {
	defer close(w.pollDone)
	for {
		views := map[string]grantView{}
		cursor, ok := "", true
		for {
			var page struct {
				Items      []grantView `json:"items"`
				NextCursor *string     `json:"next_cursor"`
			}
			path := "/v1/access-requests?limit=200&tenant_id=" + url.QueryEscape(w.d.TenantID)
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			if _, err := w.c.do(w.t.Context(), w.admin, http.MethodGet, path, nil, &page); err != nil {
				ok = false
				break
			}
			for _, v := range page.Items {
				views[v.ID] = v
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		if ok {
			w.mu.Lock()
			for id, v := range views {
				w.views[id] = v
			}
			w.mu.Unlock()
		}
		select {
		case <-w.pollQuit:
			return
		case <-time.After(time.Second):
		}
	}
}

func (w *workload) quitting() bool {
	select {
	case <-w.pollQuit:
		return true
	default:
		return false
	}
}

func (w *workload) stopPolling() {
	w.quitOnce.Do(func() { close(w.pollQuit) })
	<-w.pollDone
}

// inPhase counts the grants the poller last saw in status.
func (w *workload) inPhase(status string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, v := range w.views {
		if v.Status == status {
			n++
		}
	}
	return n
}

func (w *workload) allEnded() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// wait waits until every technician is done or the deadline passes.
func (w *workload) wait(deadline time.Time) bool {
	select {
	case <-w.done:
		return true
	case <-time.After(time.Until(deadline)):
		w.stopPolling() // lets the technicians' goroutines return
		return false
	}
}

// secrets are what must never appear in a log or a history: the passwords and the
// technicians' API tokens.
func (w *workload) secrets() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, tk := range w.techs {
		out = append(out, tk.token)
	}
	for _, g := range w.grants {
		if g.password != "" {
			out = append(out, g.password)
		}
	}
	return out
}
