package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// Launch is one grant (or floor workflow) the load generator started.
type Launch struct {
	Slot       int
	WorkflowID string
	RunID      string
	GrantID    string
	// Call is the client-side latency of the start call (POST /v1/access-requests, or
	// StartWorkflowExecution for the floor).
	Call time.Duration
	// Created is false when the API answered 200 with an existing live grant.
	Created bool
}

// Target starts grants: the product through its API, the floor through the Temporal client.
type Target interface {
	Name() string
	// Slots is how many independent starters it supports (one live grant per slot).
	Slots() int
	Start(ctx context.Context, slot int, d time.Duration) (Launch, error)
	// By is who extends the grant of slot (the product's validator wants the holder).
	By(slot int) string
	// State is a started grant's status and expires_at, read without loading the worker
	// where possible (the product's projection in PostgreSQL; the floor's status query).
	State(ctx context.Context, l Launch) (string, time.Time, error)
}

// productTarget requests grants as technicians do: POST /v1/access-requests.
type productTarget struct {
	api   *api
	pairs []Pair
	store *store.Store
}

func (p *productTarget) State(ctx context.Context, l Launch) (string, time.Time, error) {
	g, err := p.store.Grant(ctx, l.GrantID)
	return g.Status, g.ExpiresAt, err
}

func (f *floorTarget) State(ctx context.Context, l Launch) (string, time.Time, error) {
	st, err := status(ctx, f.c, l)
	return string(st.Status), st.ExpiresAt, err
}

func (p *productTarget) Name() string       { return "product" }
func (p *productTarget) Slots() int         { return len(p.pairs) }
func (p *productTarget) By(slot int) string { return p.pairs[slot].TechnicianID }

func (p *productTarget) Start(ctx context.Context, slot int, d time.Duration) (Launch, error) {
	pr := p.pairs[slot]
	var g struct {
		ID         string `json:"id"`
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	start := time.Now()
	code, err := p.api.do(ctx, pr.Token, http.MethodPost, "/v1/access-requests",
		map[string]any{"application_id": pr.ApplicationID, "justification": "benchmark", "duration": d.String()}, &g)
	call := time.Since(start)
	if err != nil {
		return Launch{}, err
	}
	if g.WorkflowID == "" || g.RunID == "" {
		return Launch{}, errors.New("POST /v1/access-requests: the grant has no workflow_id/run_id")
	}
	return Launch{Slot: slot, WorkflowID: g.WorkflowID, RunID: g.RunID, GrantID: g.ID, Call: call, Created: code == http.StatusAccepted}, nil
}

// floorTarget starts the floor workflow directly, with the product's id policies and eager start.
type floorTarget struct {
	c     client.Client
	queue string
	tag   string // distinguishes workflow ids of separate batches
	slots int
}

func (f *floorTarget) Name() string  { return "floor" }
func (f *floorTarget) Slots() int    { return f.slots }
func (f *floorTarget) By(int) string { return "floor" }
func (f *floorTarget) Start(ctx context.Context, slot int, d time.Duration) (Launch, error) {
	start := time.Now()
	we, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       fmt.Sprintf("floor/%s/%d", f.tag, slot),
		TaskQueue:                f.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		EnableEagerStart:         true, // as workflows.StartOptions
	}, FloorWorkflowType, FloorInput{Duration: d})
	call := time.Since(start)
	if err != nil {
		return Launch{}, err
	}
	return Launch{Slot: slot, WorkflowID: we.GetID(), RunID: we.GetRunID(), Call: call, Created: true}, nil
}

// closedLoop runs total lifecycles with conc starters: each starter owns a slot, starts a
// grant of duration d, waits for the workflow to finish, and starts the next.
func closedLoop(ctx context.Context, c client.Client, t Target, conc, total int, d time.Duration) ([]Launch, error) {
	if conc > t.Slots() {
		return nil, fmt.Errorf("%s: %d concurrent starters need %d slots, have %d", t.Name(), conc, conc, t.Slots())
	}
	var (
		next atomic.Int64
		mu   sync.Mutex
		runs []Launch
		errs []error
		wg   sync.WaitGroup
	)
	for slot := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(total) {
				r, err := t.Start(ctx, slot, d)
				if err == nil {
					err = c.GetWorkflow(ctx, r.WorkflowID, r.RunID).Get(ctx, nil)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					runs = append(runs, r)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return runs, errors.Join(errs...)
}

// burst starts one grant on each of slots with conc starters, without waiting for them.
func burst(ctx context.Context, t Target, slots []int, conc int, d time.Duration) ([]Launch, error) {
	runs := make([]Launch, len(slots))
	errs := make([]error, len(slots))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, len(slots)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(slots) {
					return
				}
				runs[i], errs[i] = t.Start(ctx, slots[i], d)
			}
		}()
	}
	wg.Wait()
	return runs, errors.Join(errs...)
}

// parallel calls fn(i) for i in [0,n) with at most conc at a time and joins the errors.
func parallel(n, conc int, fn func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				errs[i] = fn(i)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitDone waits until every run's workflow has closed.
func waitDone(ctx context.Context, c client.Client, runs []Launch) error {
	return parallel(len(runs), 64, func(i int) error {
		return c.GetWorkflow(ctx, runs[i].WorkflowID, runs[i].RunID).Get(ctx, nil)
	})
}

// terminate ends runs without running their cleanup (benchmark set-up only).
func terminate(ctx context.Context, c client.Client, runs []Launch) error {
	return parallel(len(runs), 16, func(i int) error {
		return c.TerminateWorkflow(ctx, runs[i].WorkflowID, runs[i].RunID, "benchmark: POST latency measured")
	})
}

// status asks a running grant (or floor workflow) for its state.
func status(ctx context.Context, c client.Client, r Launch) (workflows.State, error) {
	var st workflows.State
	v, err := c.QueryWorkflow(ctx, r.WorkflowID, r.RunID, workflows.StatusQueryName)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// waitActive polls until every run is active and returns their expires_at. A read that
// fails (a query timing out on a busy worker) is tried again in the next round. Grants become
// active roughly in the order they started, so it first waits for the last one alone: reading
// all of them every round would load the worker (a floor status query replays a workflow that
// is not in the worker's cache) as much as the grants themselves.
func waitActive(ctx context.Context, t Target, runs []Launch, limit time.Duration) ([]time.Time, error) {
	expires := make([]time.Time, len(runs))
	deadline := time.Now().Add(limit)
	if len(runs) > 1 {
		if _, err := waitActive(ctx, t, runs[len(runs)-1:], limit); err != nil {
			return nil, err
		}
	}
	for {
		pending := 0
		err := parallel(len(runs), 16, func(i int) error {
			if !expires[i].IsZero() {
				return nil
			}
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			st, exp, err := t.State(qctx, runs[i])
			if err != nil || st == "pending" || st == "provisioning" || st == "" {
				return nil
			}
			if st != "active" {
				return fmt.Errorf("%s: status %s before it was extended", runs[i].WorkflowID, st)
			}
			expires[i] = exp
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, e := range expires {
			if e.IsZero() {
				pending++
			}
		}
		if pending == 0 {
			return expires, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d grants not active after %s", pending, len(runs), limit)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// extendTo moves every run's expiry to the same instant at through the extend update.
func extendTo(ctx context.Context, c client.Client, t Target, runs []Launch, expires []time.Time, at time.Time) error {
	return parallel(len(runs), 32, func(i int) error {
		d := at.Sub(expires[i])
		if d <= 0 {
			return fmt.Errorf("%s expires at %s, after the common expiry %s", runs[i].WorkflowID, expires[i], at)
		}
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: runs[i].WorkflowID, RunID: runs[i].RunID, UpdateName: workflows.ExtendUpdateName,
			Args:         []any{workflows.ExtendRequest{Duration: d, By: t.By(runs[i].Slot), ByKind: "technician"}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			return fmt.Errorf("extend %s: %w", runs[i].WorkflowID, err)
		}
		return h.Get(ctx, nil)
	})
}

// Timeline is what a workflow's history says happened, in server time.
type Timeline struct {
	Start     time.Time // WorkflowExecutionStarted
	Active    time.Time // first TimerStarted: the grant is active and its projection written
	Fired     time.Time // last TimerFired: the expiry timer went off
	Timer     time.Duration
	Disabled  time.Time // the last ActivityTaskCompleted: DisableAccount (or the floor's third no-op)
	Closed    time.Time // WorkflowExecutionCompleted
	Regular   int       // regular activities completed
	Local     int       // local-activity markers
	Final     workflows.State
	Completed bool
	// Steps are the critical path to Active: each workflow task (its local activities
	// included) and each regular activity, as the time since the previous step ended.
	Steps []Step
}

// Step is one stretch of the path to Active.
type Step struct {
	Kind string // "workflow task" or "activity <type>"
	Took time.Duration
}

// timelines reads every run's history.
func timelines(ctx context.Context, c client.Client, dc converter.DataConverter, runs []Launch) ([]Timeline, error) {
	out := make([]Timeline, len(runs))
	err := parallel(len(runs), 8, func(i int) error {
		tl, err := timeline(ctx, c, dc, runs[i])
		out[i] = tl
		return err
	})
	return out, err
}

func timeline(ctx context.Context, c client.Client, dc converter.DataConverter, r Launch) (Timeline, error) {
	var tl Timeline
	var mark time.Time
	activityTypes := map[int64]string{}
	step := func(kind string, at time.Time) {
		if tl.Active.IsZero() {
			tl.Steps = append(tl.Steps, Step{Kind: kind, Took: at.Sub(mark)})
			mark = at
		}
	}
	it := c.GetWorkflowHistory(ctx, r.WorkflowID, r.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return tl, fmt.Errorf("history of %s: %w", r.WorkflowID, err)
		}
		at := e.GetEventTime().AsTime()
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			tl.Start, mark = at, at
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			step("workflow task", at)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			activityTypes[e.GetEventId()] = e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			if tl.Active.IsZero() {
				tl.Active = at
			}
			tl.Timer = e.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration()
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			tl.Fired = at
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			step("activity "+activityTypes[e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()], at)
			tl.Disabled = at
			tl.Regular++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			tl.Local++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			tl.Closed = at
			tl.Completed = true
			if p := e.GetWorkflowExecutionCompletedEventAttributes().GetResult(); p != nil {
				_ = dc.FromPayloads(p, &tl.Final)
			}
		}
	}
	return tl, nil
}
