package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/workflows"
)

// --- the directory, watched ---

// obs is an account's state from the moment the watcher saw it change.
type obs struct {
	at       time.Time
	enabled  bool
	roles    int
	sessions time.Time // signInSessionsValidFrom
}

// watcher samples the emulator's directory every 250 ms and keeps each account's changes,
// so lateness is measured on the directory itself, not on what the product says.
type watcher struct {
	sim    *entrasim.Server
	tenant string

	mu   sync.Mutex
	hist map[string][]obs // by lower-case UPN

	once sync.Once
	quit chan struct{}
	done chan struct{}
}

const watchEvery = 250 * time.Millisecond

func newWatcher(sim *entrasim.Server, tenant string) *watcher {
	return &watcher{sim: sim, tenant: tenant, hist: map[string][]obs{}, quit: make(chan struct{}), done: make(chan struct{})}
}

func (w *watcher) run() {
	defer close(w.done)
	for {
		now := time.Now()
		users := w.sim.Users(w.tenant)
		w.mu.Lock()
		for _, u := range users {
			k := strings.ToLower(u.UPN)
			o := obs{at: now, enabled: u.AccountEnabled, roles: len(u.RoleDefinitionIDs), sessions: u.SignInSessionsValidFrom}
			h := w.hist[k]
			if n := len(h); n == 0 || h[n-1].enabled != o.enabled || h[n-1].roles != o.roles || !h[n-1].sessions.Equal(o.sessions) {
				w.hist[k] = append(h, o)
			}
		}
		w.mu.Unlock()
		select {
		case <-w.quit:
			return
		case <-time.After(watchEvery):
		}
	}
}

func (w *watcher) stop() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
}

func (w *watcher) history(upn string) []obs {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.hist[strings.ToLower(upn)])
}

// --- the figures ---

type report struct {
	Grants            int             `json:"grants"`
	Technicians       int             `json:"technicians"`
	Statuses          map[string]int  `json:"statuses"`
	Faults            entrasim.Faults `json:"faults"`
	StormFaults       entrasim.Faults `json:"storm_faults"`
	Events            []event         `json:"events"`
	BoundSeconds      float64         `json:"bound_s"`
	ExpiryLateness    stats           `json:"expiry_lateness_s"`    // directory disabled − expires_at
	RevokeLateness    stats           `json:"revoke_lateness_s"`    // directory disabled − revoke asked
	TerminateLateness stats           `json:"terminate_lateness_s"` // directory disabled − run terminated (the reconciler)
	ReconcileLateness stats           `json:"reconcile_lateness_s"` // out-of-band change undone − change
	WorstGrant        string          `json:"worst_grant"`
	Activities        map[string]*act `json:"activities"`
	DirectoryUsers    int             `json:"directory_accounts"`
	PasswordsChecked  int             `json:"passwords_checked"`
	SecretsScanned    int             `json:"secrets_scanned"`
	BytesScanned      int             `json:"bytes_scanned"`
	Violations        []string        `json:"violations"`
	SetupSeconds      float64         `json:"setup_s"`
	WallClockSeconds  float64         `json:"wall_clock_s"`
}

// act counts one activity type over every grant's history.
type act struct {
	Executions   int `json:"executions"`    // scheduled by the workflow
	Attempts     int `json:"attempts"`      // including retries
	Retries      int `json:"retries"`       // attempts beyond the first
	MaxAttempts  int `json:"max_attempts"`  // of one execution
	LostAttempts int `json:"lost_attempts"` // retried after a start-to-close timeout (crash)
}

type stats struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

func statsOf(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 { return ds[min(len(ds)-1, int(q*float64(len(ds))))].Seconds() }
	return stats{N: len(ds), P50: at(0.5), P95: at(0.95), Max: ds[len(ds)-1].Seconds()}
}

func (r *report) log(t *testing.T) {
	t.Logf("chaos: %d grants by %d technicians in %.0f s (setup %.0f s); statuses %v", r.Grants, r.Technicians, r.WallClockSeconds, r.SetupSeconds, r.Statuses)
	for _, e := range r.Events {
		t.Logf("chaos: at %5.1f s %s (down %.1f s, %d grants in phase)", e.AtSeconds, e.What, e.DownSeconds, e.InFlight)
	}
	t.Logf("chaos: expiry lateness (directory disabled − expires_at) n=%d p50 %.1f s p95 %.1f s max %.1f s (%s); bound %.0f s",
		r.ExpiryLateness.N, r.ExpiryLateness.P50, r.ExpiryLateness.P95, r.ExpiryLateness.Max, r.WorstGrant, r.BoundSeconds)
	t.Logf("chaos: revoke lateness n=%d p50 %.1f s max %.1f s", r.RevokeLateness.N, r.RevokeLateness.P50, r.RevokeLateness.Max)
	t.Logf("chaos: terminated runs: account disabled by the reconciler n=%d p50 %.1f s max %.1f s; out-of-band changes undone n=%d p50 %.1f s max %.1f s (bound %.0f s)",
		r.TerminateLateness.N, r.TerminateLateness.P50, r.TerminateLateness.Max, r.ReconcileLateness.N, r.ReconcileLateness.P50, r.ReconcileLateness.Max, reconcileBound.Seconds())
	names := make([]string, 0, len(r.Activities))
	for n := range r.Activities {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := r.Activities[n]
		t.Logf("chaos: %-16s executions %d attempts %d retries %d (max %d attempts, %d lost to crashes)", n, a.Executions, a.Attempts, a.Retries, a.MaxAttempts, a.LostAttempts)
	}
	t.Logf("chaos: %d directory accounts; %d old passwords refused; %d secrets scanned in %d bytes of logs and histories; %d violations",
		r.DirectoryUsers, r.PasswordsChecked, r.SecretsScanned, r.BytesScanned, len(r.Violations))
}

// --- the checks ---

type checker struct {
	t      *testing.T
	rep    *report
	w      *workload
	sim    *entrasim.Server
	simURL string
	watch  *watcher
	oob    []oobEvent
	// dc reads the product's encrypted payloads (results, inputs).
	dc converter.DataConverter
}

func (c *checker) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.rep.Violations = append(c.rep.Violations, msg)
	c.t.Error("chaos: " + msg)
}

// endStates reads every grant's row and checks it ended as it should: revoked when the
// revoke was accepted before it expired, else expired. Nothing may fail or be denied.
func (c *checker) endStates() {
	c.rep.Statuses = map[string]int{}
	for _, g := range c.w.grants {
		for _, p := range g.problems {
			c.violate("grant %d (%s): %s", g.idx, g.id, p)
		}
		if g.id == "" {
			continue
		}
		if _, err := c.w.c.retry(time.Minute, c.w.admin, http.MethodGet, "/v1/access-requests/"+g.id, nil, &g.final); err != nil {
			c.violate("grant %d: read: %v", g.idx, err)
			continue
		}
		v := g.final
		c.rep.Statuses[v.Status]++
		switch {
		case !g.terminatedAt.IsZero() && v.Status == string(workflows.StatusTerminated):
		case !g.resetAt.IsZero() && (v.Status == string(workflows.StatusTerminated) || v.Status == string(workflows.StatusExpired)):
			// Terminated when the reset run projects a new grant; expired when it carries this one on.
		case v.Status == string(workflows.StatusRevoked) && g.revokeAccepted:
		case v.Status == string(workflows.StatusExpired) && (!g.revokeAccepted || (v.EndedAt != nil && v.ExpiresAt != nil && !v.EndedAt.Before(*v.ExpiresAt))):
		default:
			c.violate("grant %d (%s) ended %q (failure %q), revoke accepted %v", g.idx, g.id, v.Status, v.failure(), g.revokeAccepted)
		}
		if v.Status == string(workflows.StatusExpired) || v.Status == string(workflows.StatusRevoked) || (v.Status == string(workflows.StatusTerminated) && g.resetAt.IsZero()) {
			if v.upn() == "" || v.ActivatedAt == nil || v.ExpiresAt == nil || v.EndedAt == nil {
				c.violate("grant %d (%s) %s without account or times: %+v", g.idx, g.id, v.Status, v)
			}
		}
	}
}

// accounts checks the directory: one account per technician, named as its grants say, and
// every account disabled with no role at the end.
func (c *checker) accounts() {
	owner := map[string]string{} // lower-case UPN → technician
	for _, tk := range c.w.techs {
		var upns []string
		for _, g := range tk.grants {
			if u := strings.ToLower(g.final.upn()); u != "" && !slices.Contains(upns, u) {
				upns = append(upns, u)
			}
		}
		if len(upns) > 1 {
			c.violate("technician %s got %d accounts: %v", tk.email, len(upns), upns)
		}
		for _, u := range upns {
			if o, ok := owner[u]; ok && o != tk.email {
				c.violate("account %s used by %s and %s", u, o, tk.email)
			}
			owner[u] = tk.email
		}
	}
	users := c.sim.Users("contoso")
	for _, u := range users {
		if strings.HasPrefix(strings.ToLower(u.UPN), "admin@") {
			continue
		}
		c.rep.DirectoryUsers++
		if _, ok := owner[strings.ToLower(u.UPN)]; !ok {
			c.violate("directory account %s belongs to no grant (a second account?)", u.UPN)
		}
		if u.AccountEnabled || len(u.RoleDefinitionIDs) > 0 {
			c.violate("directory account %s is still enabled=%v with %d roles at the end", u.UPN, u.AccountEnabled, len(u.RoleDefinitionIDs))
		}
	}
	if c.rep.DirectoryUsers != len(owner) {
		c.violate("directory holds %d technician accounts, grants name %d", c.rep.DirectoryUsers, len(owner))
	}
}

// lateness measures, from the watcher's record of the directory, when each account was seen
// disabled, signed out (sessions revoked after activation) and without roles, relative to
// expires_at (or to the revoke), and checks it never came back before the technician's next
// request.
func (c *checker) lateness() {
	var expiry, revoke, terminate []time.Duration
	worst := time.Duration(-1)
	for _, g := range c.w.grants {
		v := g.final
		if !g.resetAt.IsZero() {
			continue // the account passed to the reset run's grant; the end check covers it
		}
		if v.upn() == "" || v.ActivatedAt == nil || v.ExpiresAt == nil ||
			(v.Status != string(workflows.StatusExpired) && v.Status != string(workflows.StatusRevoked) && v.Status != string(workflows.StatusTerminated)) {
			continue
		}
		end, isRevoke, bound := *v.ExpiresAt, false, disableBound
		if v.Status == string(workflows.StatusRevoked) && !g.revokeAskedAt.IsZero() && g.revokeAskedAt.Before(end) {
			end, isRevoke = g.revokeAskedAt, true
		}
		isTerminate := v.Status == string(workflows.StatusTerminated) && !g.terminatedAt.IsZero()
		if isTerminate {
			end, bound = g.terminatedAt, reconcileBound
		}
		until := g.nextRequestAt
		off := func(o obs) bool { return !o.enabled && o.roles == 0 && o.sessions.After(*v.ActivatedAt) }
		h := c.watch.history(v.upn())
		var offAt time.Time
		for i, o := range h {
			if !until.IsZero() && !o.at.Before(until) {
				break
			}
			if !off(o) {
				continue
			}
			switch {
			case !o.at.After(end):
				// Seen off at a sample before the end: only possible for the state current at the end.
				if i+1 == len(h) || h[i+1].at.After(end) {
					offAt = end
				}
			case offAt.IsZero():
				offAt = o.at
			}
			if !offAt.IsZero() {
				for _, later := range h[i+1:] {
					if !until.IsZero() && !later.at.Before(until) {
						break
					}
					if (later.enabled || later.roles > 0) && !sinceOOB(c.oob, v.upn(), later.at) {
						c.violate("grant %d (%s): account %s enabled again (roles %d) at %s after being disabled", g.idx, g.id, v.upn(), later.roles, later.at.Format(time.RFC3339Nano))
					}
				}
				break
			}
		}
		if offAt.IsZero() {
			c.violate("grant %d (%s): account %s never seen disabled, signed out and without roles after %s", g.idx, g.id, v.upn(), end.Format(time.RFC3339))
			continue
		}
		late := offAt.Sub(end)
		if late > bound {
			what := map[bool]string{true: "the revoke", false: "expires_at"}[isRevoke]
			if isTerminate {
				what = "its run was terminated"
			}
			c.violate("grant %d (%s): account %s disabled %s after %s, more than the bound %s", g.idx, g.id, v.upn(), late.Round(time.Millisecond), what, bound)
		}
		if isTerminate {
			terminate = append(terminate, late)
			continue
		}
		if isRevoke {
			revoke = append(revoke, late)
			continue
		}
		expiry = append(expiry, late)
		if late > worst {
			worst = late
			c.rep.WorstGrant = fmt.Sprintf("grant %d %s", g.idx, g.id)
		}
	}
	c.rep.ExpiryLateness, c.rep.RevokeLateness, c.rep.TerminateLateness = statsOf(expiry), statsOf(revoke), statsOf(terminate)
}

// signIns proves every password handed out no longer works: AADSTS50126 (password changed).
func (c *checker) signIns() {
	for _, g := range c.w.grants {
		if g.password == "" || g.final.upn() == "" {
			continue
		}
		form := url.Values{"grant_type": {"password"}, "client_id": {entrasim.ClientID}, "client_secret": {entrasim.ClientSecret},
			"username": {g.final.upn()}, "password": {g.password}, "scope": {"https://graph.microsoft.com/.default"}}
		resp, err := http.PostForm(c.simURL+"/organizations/oauth2/v2.0/token", form)
		if err != nil {
			c.violate("sign-in check: %v", err)
			return
		}
		var e struct {
			Description string `json:"error_description"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		c.rep.PasswordsChecked++
		if code, _, _ := strings.Cut(e.Description, ":"); resp.StatusCode == http.StatusOK || code != "AADSTS50126" {
			c.violate("grant %d: the password it handed out still signs in or is refused for another reason (%d %q)", g.idx, resp.StatusCode, code)
		}
	}
}

// workflows compares every projection row with its workflow's result and counts activity
// attempts from the histories. It returns the histories (JSON) for the secret scan.
func (c *checker) workflows(address string) string {
	tc, err := client.Dial(client.Options{HostPort: address, Logger: tlog.NewStructuredLogger(nopSlog()), DataConverter: c.dc})
	if err != nil {
		c.violate("dial Temporal: %v", err)
		return ""
	}
	defer tc.Close()
	c.rep.Activities = map[string]*act{}
	var all strings.Builder
	for _, g := range c.w.grants {
		v := g.final
		if v.WorkflowID == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var res workflows.State
		if desc, err := tc.DescribeWorkflowExecution(ctx, v.WorkflowID, v.RunID); err == nil &&
			desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			// Still running: say where it is, from its status query.
			if q, err := tc.QueryWorkflow(ctx, v.WorkflowID, v.RunID, workflows.StatusQueryName); err == nil && q.Get(&res) == nil {
				c.violate("grant %d (%s): workflow still running: %s", g.idx, g.id, projectionDiff(v, res))
			} else {
				c.violate("grant %d (%s): workflow still running", g.idx, g.id)
			}
			c.history(ctx, tc, v, &all)
			cancel()
			continue
		}
		if !g.terminatedAt.IsZero() || !g.resetAt.IsZero() {
			// Closed by the suite without a result; the reconciler's repair was checked above.
			c.history(ctx, tc, v, &all)
			cancel()
			continue
		}
		if err := tc.GetWorkflow(ctx, v.WorkflowID, v.RunID).Get(ctx, &res); err != nil {
			cancel()
			c.violate("grant %d: workflow result: %v", g.idx, err)
			continue
		}
		if diff := projectionDiff(v, res); diff != "" {
			c.violate("grant %d (%s): projection differs from its workflow: %s", g.idx, g.id, diff)
		}
		c.history(ctx, tc, v, &all)
		cancel()
	}
	return all.String()
}

// projectionDiff names the fields where the row and the workflow's result disagree.
func projectionDiff(v grantView, res workflows.State) string {
	var d []string
	if v.ID != res.GrantID {
		// The API answered a retried request with a row of the run keyed by another grant
		// id than the workflow's own (SaveCredential then fails: see docs/reliability.md).
		d = append(d, fmt.Sprintf("grant id %q vs the workflow's %q", v.ID, res.GrantID))
	}
	same := func(a *time.Time, b time.Time) bool {
		if a == nil {
			return b.IsZero()
		}
		return a.Sub(b).Abs() < time.Millisecond
	}
	if v.Status != string(res.Status) {
		d = append(d, fmt.Sprintf("status %q vs %q", v.Status, res.Status))
	}
	if !strings.EqualFold(v.upn(), res.AccountUPN) {
		d = append(d, fmt.Sprintf("account %q vs %q", v.upn(), res.AccountUPN))
	}
	if !same(v.ActivatedAt, res.ActivatedAt) || !same(v.ExpiresAt, res.ExpiresAt) || !same(v.EndedAt, res.EndedAt) {
		d = append(d, fmt.Sprintf("times %v/%v/%v vs %v/%v/%v", v.ActivatedAt, v.ExpiresAt, v.EndedAt, res.ActivatedAt, res.ExpiresAt, res.EndedAt))
	}
	if v.failure() != res.Failure {
		d = append(d, fmt.Sprintf("failure %q vs %q", v.failure(), res.Failure))
	}
	return strings.Join(d, "; ")
}

func (c *checker) history(ctx context.Context, tc client.Client, v grantView, all *strings.Builder) {
	it := tc.GetWorkflowHistory(ctx, v.WorkflowID, v.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	scheduled := map[int64]string{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			c.violate("history of %s: %v", v.WorkflowID, err)
			return
		}
		b, _ := protojson.Marshal(ev)
		all.Write(b)
		all.WriteByte('\n')
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			name := a.GetActivityType().GetName()
			scheduled[ev.GetEventId()] = name
			c.activity(name).Executions++
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			s := c.activity(scheduled[a.GetScheduledEventId()])
			n := int(a.GetAttempt())
			s.Attempts += n
			s.Retries += n - 1
			s.MaxAttempts = max(s.MaxAttempts, n)
			if a.GetLastFailure().GetTimeoutFailureInfo() != nil {
				s.LostAttempts++
			}
		}
	}
	if desc, err := tc.DescribeWorkflowExecution(ctx, v.WorkflowID, v.RunID); err == nil {
		b, _ := protojson.Marshal(desc)
		all.Write(b)
	}
}

func (c *checker) activity(name string) *act {
	if c.rep.Activities[name] == nil {
		c.rep.Activities[name] = &act{}
	}
	return c.rep.Activities[name]
}

// jwtShape finds anything shaped like a JWT (access and ID tokens) in a log.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

// secrets scans the logs of every process and every grant's history for the secrets and
// for anything shaped like a token. Findings name the place and the secret's length only.
func (c *checker) secrets(secrets []string, logFiles []string, histories string) {
	c.rep.SecretsScanned = len(secrets)
	places := map[string]string{"workflow histories and search attributes": histories}
	for _, f := range logFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			c.violate("read %s: %v", f, err)
			continue
		}
		places[filepath.Base(f)] = string(b)
	}
	for place, text := range places {
		c.rep.BytesScanned += len(text)
		for _, s := range secrets {
			if len(s) >= 8 && strings.Contains(text, s) {
				c.violate("a secret (%d characters, %s…) appears in %s", len(s), s[:4], place)
			}
		}
		if m := jwtShape.FindString(text); m != "" {
			c.violate("a JWT-shaped token appears in %s", place)
		}
	}
	if strings.Contains(histories, "refresh_token") || strings.Contains(histories, "Bearer ") {
		c.violate("token material in workflow histories")
	}
}

func nopSlog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
