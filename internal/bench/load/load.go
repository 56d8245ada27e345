// Package load is the benchmark's load generator: targets that start grants (the product
// through its API, the floor through the Temporal client), closed loops and bursts, the
// extend update that moves expiries, the histories read back as server-time timelines, and
// the seeding of tenants and technicians through the API.
package load

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

	"github.com/jitaccess/jitaccess/internal/bench/floor"
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
	// MinExtension is the shortest extension the target accepts (the product's lease rule).
	MinExtension() time.Duration
	// State is a started grant's status and expires_at, read without loading the worker
	// where possible (the product's projection in PostgreSQL; the floor's status query).
	State(ctx context.Context, l Launch) (string, time.Time, error)
}

// ProductTarget requests grants as technicians do: POST /v1/access-requests.
type ProductTarget struct {
	API   *API
	Pairs []Pair
	// Store reads a grant's projection (its status and expires_at).
	Store *store.Store
}

func (p *ProductTarget) State(ctx context.Context, l Launch) (string, time.Time, error) {
	g, err := p.Store.Grant(ctx, l.GrantID)
	return g.Status, g.ExpiresAt, err
}

func (f *FloorTarget) State(ctx context.Context, l Launch) (string, time.Time, error) {
	st, err := status(ctx, f.Client, l)
	return string(st.Status), st.ExpiresAt, err
}

func (p *ProductTarget) Name() string       { return "product" }
func (p *ProductTarget) Slots() int         { return len(p.Pairs) }
func (p *ProductTarget) By(slot int) string { return p.Pairs[slot].TechnicianID }

// MinExtension is workflows.MinExtension: the extend update refuses shorter steps.
func (p *ProductTarget) MinExtension() time.Duration { return workflows.MinExtension }

func (p *ProductTarget) Start(ctx context.Context, slot int, d time.Duration) (Launch, error) {
	pr := p.Pairs[slot]
	var g struct {
		ID         string `json:"id"`
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	start := time.Now()
	code, err := p.API.Do(ctx, pr.Token, http.MethodPost, "/v1/access-requests",
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

// FloorTarget starts the floor workflow directly, with the product's id policies and eager start.
type FloorTarget struct {
	Client client.Client
	Queue  string
	Tag    string // distinguishes workflow ids of separate batches
	N      int    // slots
}

func (f *FloorTarget) Name() string  { return "floor" }
func (f *FloorTarget) Slots() int    { return f.N }
func (f *FloorTarget) By(int) string { return "floor" }

// MinExtension is zero: the floor accepts any positive extension.
func (f *FloorTarget) MinExtension() time.Duration { return 0 }
func (f *FloorTarget) Start(ctx context.Context, slot int, d time.Duration) (Launch, error) {
	start := time.Now()
	we, err := f.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       fmt.Sprintf("floor/%s/%d", f.Tag, slot),
		TaskQueue:                f.Queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		EnableEagerStart:         true, // as workflows.StartOptions
	}, floor.WorkflowType, floor.Input{Duration: d})
	call := time.Since(start)
	if err != nil {
		return Launch{}, err
	}
	return Launch{Slot: slot, WorkflowID: we.GetID(), RunID: we.GetRunID(), Call: call, Created: true}, nil
}

// ClosedLoop runs total lifecycles with conc starters: each starter owns a slot, starts a
// grant of duration d, waits for the workflow to finish, and starts the next.
func ClosedLoop(ctx context.Context, c client.Client, t Target, conc, total int, d time.Duration) ([]Launch, error) {
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

// Burst starts one grant on each of slots with conc starters, without waiting for them.
func Burst(ctx context.Context, t Target, slots []int, conc int, d time.Duration) ([]Launch, error) {
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

// Parallel calls fn(i) for i in [0,n) with at most conc at a time and joins the errors.
func Parallel(n, conc int, fn func(i int) error) error {
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

// WaitDone waits until every run's workflow has closed.
func WaitDone(ctx context.Context, c client.Client, runs []Launch) error {
	return Parallel(len(runs), 64, func(i int) error {
		return c.GetWorkflow(ctx, runs[i].WorkflowID, runs[i].RunID).Get(ctx, nil)
	})
}

// Terminate ends runs without running their cleanup (benchmark set-up only).
func Terminate(ctx context.Context, c client.Client, runs []Launch) error {
	return Parallel(len(runs), 16, func(i int) error {
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

// WaitActive polls until every run is active and returns their expires_at. A read that
// fails (a query timing out on a busy worker) is tried again in the next round. Grants become
// active roughly in the order they started, so it first waits for the last one alone: reading
// all of them every round would load the worker (a floor status query replays a workflow that
// is not in the worker's cache) as much as the grants themselves.
func WaitActive(ctx context.Context, t Target, runs []Launch, limit time.Duration) ([]time.Time, error) {
	expires := make([]time.Time, len(runs))
	deadline := time.Now().Add(limit)
	if len(runs) > 1 {
		if _, err := WaitActive(ctx, t, runs[len(runs)-1:], limit); err != nil {
			return nil, err
		}
	}
	for {
		pending := 0
		err := Parallel(len(runs), 16, func(i int) error {
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

// ExtendTo moves run i's expiry from expires[i] to at[i] through the extend update.
func ExtendTo(ctx context.Context, c client.Client, t Target, runs []Launch, expires, at []time.Time) error {
	return Parallel(len(runs), 32, func(i int) error {
		d := at[i].Sub(expires[i])
		if d <= 0 {
			return fmt.Errorf("%s expires at %s, after its new expiry %s", runs[i].WorkflowID, expires[i], at[i])
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
