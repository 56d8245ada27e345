package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/workflows"
)

// reconcileInterval is JIT_RECONCILE_INTERVAL in the suite (the shortest allowed).
const reconcileInterval = 10 * time.Second

// reconcileBound is the invariant for what only the reconciler repairs (a terminated run, an
// out-of-band change): the account is disabled, signed out and stripped of every role (or of
// the extra role) within this of the event:
//
//	10 s  JIT_RECONCILE_INTERVAL: the next scheduled run
//	35 s  a sweep attempt lost with a SIGKILLed worker: 30 s heartbeat timeout + 5 s retry
//	15 s  the sweep itself: one read of 10 accounts a second, Graph faults and Retry-After
//	20 s  a Temporal or PostgreSQL restart (3 s down, reconnects) and scheduling slack
//
// = 80 s; 100 s with the margin of a loaded 2-core machine. In production the same sum with
// the default 5 m interval is about 6 m 30 s.
const reconcileBound = reconcileInterval + 90*time.Second

// oobEvent is a change made behind jitaccess's back, as a customer's own admin would.
type oobEvent struct {
	at       time.Time
	upn      string
	reenable bool // the account of an ended grant re-enabled with a role; else a role added to a live grant's account
}

// drift is the suite's side of the reconciler: it terminates and resets runs and changes the
// directory out of band, and remembers what it did for the checks.
type drift struct {
	tc  client.Client
	oob *entra.Client

	mu     sync.Mutex
	events []oobEvent
	picked map[*grant]bool
}

func newDrift(temporalAddr, simURL string, sim *entrasim.Server) (*drift, error) {
	tc, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: tlog.NewStructuredLogger(nopSlog())})
	if err != nil {
		return nil, err
	}
	tid, _ := sim.TenantID("contoso")
	oob := entra.NewAppOnly(entra.Config{Authority: simURL, GraphURL: simURL + "/v1.0", ClientID: entrasim.ClientID, ClientSecret: entrasim.ClientSecret},
		entra.TenantLookupFunc(func(context.Context, string) (string, error) { return tid, nil }))
	return &drift{tc: tc, oob: oob, picked: map[*grant]bool{}}, nil
}

func (d *drift) close() { d.tc.Close() }

func (d *drift) oobEvents() []oobEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]oobEvent(nil), d.events...)
}

// activeMargin: an active grant is picked only this long before its expiry. The views are
// polled through the API, so after an outage they can be seconds old, and a grant that expired
// meanwhile has no run left to terminate or reset.
const activeMargin = 10 * time.Second

// pick chooses, at random, a grant the poller sees in status whose technician has no other
// grant and that no admin revokes (an active one at least activeMargin before its expiry), and
// marks it picked.
func (r *run) pick(status string) (*grant, grantView) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.drift.mu.Lock()
	defer r.drift.mu.Unlock()
	var cands []*grant
	for _, g := range r.w.grants {
		if v, ok := r.w.views[g.id]; ok && v.Status == status && g.round == 1 && !g.revoke && len(g.tech.grants) == 1 && !r.drift.picked[g] &&
			(status != string(workflows.StatusActive) || v.ExpiresAt != nil && time.Until(*v.ExpiresAt) > activeMargin) {
			cands = append(cands, g)
		}
	}
	if len(cands) == 0 {
		return nil, grantView{}
	}
	g := cands[rand.IntN(len(cands))]
	r.drift.picked[g] = true
	return g, r.w.views[g.id]
}

// terminateRandom terminates the run of a random active grant, as an operator could from the
// Temporal UI: nothing but the reconciler ends that grant.
func (r *run) terminateRandom() event {
	e := event{What: "terminate a random active grant's run (Temporal API)"}
	g, v := r.pick(string(workflows.StatusActive))
	if g == nil {
		e.What += ": none active"
		return e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at := time.Now()
	if err := r.drift.tc.TerminateWorkflow(ctx, v.WorkflowID, v.RunID, "chaos: terminate at random"); err != nil {
		e.Err = fmt.Sprintf("terminate grant %d: %v", g.idx, err)
		return e
	}
	r.w.mu.Lock()
	g.terminatedAt = at
	r.w.mu.Unlock()
	e.What = fmt.Sprintf("terminate grant %d's run", g.idx)
	return e
}

// resetRandom resets the run of a random active grant to its first workflow task, as an
// operator could from the Temporal UI.
func (r *run) resetRandom() event {
	e := event{What: "reset a random active grant's run (Temporal API)"}
	g, v := r.pick(string(workflows.StatusActive))
	if g == nil {
		e.What += ": none active"
		return e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var firstTask int64
	it := r.drift.tc.GetWorkflowHistory(ctx, v.WorkflowID, v.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() && firstTask == 0 {
		ev, err := it.Next()
		if err != nil {
			e.Err = fmt.Sprintf("history of grant %d: %v", g.idx, err)
			return e
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			firstTask = ev.GetEventId()
		}
	}
	at := time.Now()
	_, err := r.drift.tc.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 "default",
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: v.WorkflowID, RunId: v.RunID},
		Reason:                    "chaos: reset at random",
		WorkflowTaskFinishEventId: firstTask,
		RequestId:                 randomString(16),
	})
	if err != nil {
		e.Err = fmt.Sprintf("reset grant %d: %v", g.idx, err)
		return e
	}
	r.w.mu.Lock()
	g.resetAt = at
	r.w.mu.Unlock()
	e.What = fmt.Sprintf("reset grant %d's run to its first workflow task", g.idx)
	return e
}

// outOfBandRole adds a role to a random active grant's account through Graph, as the
// customer's own admin could.
func (r *run) outOfBandRole() event {
	e := event{What: "out-of-band: add a role to a random active grant's account (Graph)"}
	g, v := r.pick(string(workflows.StatusActive))
	if g == nil {
		e.What += ": none active"
		return e
	}
	u, ok := r.sim.User("contoso", v.upn())
	if !ok {
		e.Err = "no account " + v.upn()
		return e
	}
	at := time.Now()
	if err := retryGraph(func(ctx context.Context) error {
		_, err := r.drift.oob.AssignRoles(ctx, "oob", u.ID, []string{demo.RolePasswordAdministrator})
		return err
	}); err != nil {
		e.Err = err.Error()
		return e
	}
	r.drift.mu.Lock()
	r.drift.events = append(r.drift.events, oobEvent{at: at, upn: v.upn()})
	r.drift.mu.Unlock()
	e.What = fmt.Sprintf("out-of-band: role added to grant %d's account", g.idx)
	return e
}

// outOfBandReenable re-enables a random ended grant's account and gives it a role.
func (r *run) outOfBandReenable() event {
	e := event{What: "out-of-band: re-enable a random ended grant's account with a role (Graph)"}
	g, v := r.pick(string(workflows.StatusExpired))
	if g == nil {
		e.What += ": none ended"
		return e
	}
	u, ok := r.sim.User("contoso", v.upn())
	if !ok {
		e.Err = "no account " + v.upn()
		return e
	}
	at := time.Now()
	r.drift.mu.Lock()
	r.drift.events = append(r.drift.events, oobEvent{at: at, upn: v.upn(), reenable: true})
	r.drift.mu.Unlock()
	if err := retryGraph(func(ctx context.Context) error {
		_, err := r.drift.oob.EnsureAccount(ctx, "oob", directory.AccountSpec{UPN: u.UPN, DisplayName: u.DisplayName, MailNickname: u.MailNickname, ObjectID: u.ID}, directory.NewPassword())
		if err != nil {
			return err
		}
		_, err = r.drift.oob.AssignRoles(ctx, "oob", u.ID, []string{demo.RolePasswordAdministrator})
		return err
	}); err != nil {
		e.Err = err.Error()
		return e
	}
	e.What = fmt.Sprintf("out-of-band: grant %d's ended account re-enabled with a role", g.idx)
	return e
}

// retryGraph rides out the emulator's injected faults.
func retryGraph(fn func(ctx context.Context) error) error {
	var err error
	for range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = fn(ctx)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return err
}

// clean reports whether every technician account is disabled and without roles.
func clean(sim *entrasim.Server) bool {
	for _, u := range sim.Users("contoso") {
		if strings.HasPrefix(strings.ToLower(u.UPN), "admin@") {
			continue
		}
		if u.AccountEnabled || len(u.RoleDefinitionIDs) > 0 {
			return false
		}
	}
	return true
}

// reconciled checks, from the watcher's record, that each out-of-band change was undone
// within reconcileBound: the extra role gone (or the account off), the re-enabled account
// disabled again without roles. It returns how long each took.
func (c *checker) reconciled(events []oobEvent) []time.Duration {
	var took []time.Duration
	for _, ev := range events {
		h := c.watch.history(ev.upn)
		var fixed time.Time
		changed := false
		for _, o := range h {
			if o.at.Before(ev.at) {
				continue
			}
			if !changed {
				// The change itself must have been seen before its undoing counts.
				changed = (ev.reenable && o.enabled) || (!ev.reenable && o.roles > 2)
				if !changed && o.at.After(ev.at.Add(2*time.Second)) {
					changed = true // undone (or the grant ended) before a sample saw it
				}
				if !changed {
					continue
				}
			}
			if (!o.enabled && o.roles == 0) || (!ev.reenable && o.roles <= 2 && o.roles > 0) {
				fixed = o.at
				break
			}
		}
		switch {
		case fixed.IsZero():
			c.violate("out-of-band change of %s at %s never undone", ev.upn, ev.at.Format(time.RFC3339))
		case fixed.Sub(ev.at) > reconcileBound:
			c.violate("out-of-band change of %s undone %s later, more than the bound %s", ev.upn, fixed.Sub(ev.at).Round(time.Millisecond), reconcileBound)
		default:
			took = append(took, fixed.Sub(ev.at))
		}
	}
	return took
}

// sinceOOB is the out-of-band re-enable of upn that explains an account seen enabled (or with
// roles) at 'at' after its grant had ended, if any.
func sinceOOB(events []oobEvent, upn string, at time.Time) bool {
	for _, ev := range events {
		if strings.EqualFold(ev.upn, upn) && !ev.at.After(at) {
			return true
		}
	}
	return false
}
