// Package floor is the Temporal floor the benchmark measures the product against: the
// AccessRequest workflow's command sequence with the product removed (no-op activities, the
// same timer, query and update), and its worker.
package floor

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/workflows"
)

// The Temporal floor: AccessRequest with the product removed. Same command sequence as
// workflows.AccessRequest on its happy path for an application with the default sign-in
// method (password_and_tap) —
//
//	LA BeginGrant → A PrepareAccount → A EnsureAccount → A IssueTAP → A AssignRoles
//	→ LA RecordGrant(active) → timer → LA RecordGrant(revoking) → A DeleteTAP beside
//	A DisableAccount → LA RecordGrant(expired)
//
// — i.e. 4 local and 6 regular activities and one timer, with the same status query and
// extend update so the load generator drives both alike. The activities do nothing; the
// disable's is named DisableAccount, as the product's, for the lateness rule.
const (
	WorkflowType = "JitFloor"
	// TaskQueue is separate from the product's so the two never share pollers.
	TaskQueue = "jit-floor"
)

// Input is the floor's only input: how long it stays "active".
type Input struct {
	Duration time.Duration
}

// floorActivities are the no-op activities; Local runs as a local activity, Remote as a
// regular one (the product's split).
type floorActivities struct{}

// Local does nothing (stands for BeginGrant and RecordGrant).
func (*floorActivities) Local(context.Context) error { return nil }

// Remote does nothing (stands for the directory activities).
func (*floorActivities) Remote(context.Context) error { return nil }

// DisableAccount does nothing (stands for the product's DisableAccount).
func (*floorActivities) DisableAccount(context.Context) error { return nil }

// Workflow is the floor; see the comment on WorkflowType.
func Workflow(ctx workflow.Context, in Input) (workflows.State, error) {
	st := workflows.State{Status: "pending", RequestedAt: workflow.Now(ctx)}
	extensions := 0
	if err := workflow.SetQueryHandler(ctx, workflows.StatusQueryName, func() (workflows.State, error) { return st, nil }); err != nil {
		return st, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, workflows.ExtendUpdateName,
		func(ctx workflow.Context, req workflows.ExtendRequest) (workflows.ExtendResult, error) {
			st.ExpiresAt = st.ExpiresAt.Add(req.Duration)
			extensions++
			local(ctx) // the product records the extension
			return workflows.ExtendResult{ExpiresAt: st.ExpiresAt}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req workflows.ExtendRequest) error {
			if st.Status != "active" || req.Duration <= 0 {
				return temporal.NewApplicationError("not active", workflows.ErrTypeNotActive)
			}
			return nil
		}}); err != nil {
		return st, err
	}
	acts := &floorActivities{}
	local(ctx)               // BeginGrant
	remote(ctx, acts.Remote) // PrepareAccount
	remote(ctx, acts.Remote) // EnsureAccount
	remote(ctx, acts.Remote) // IssueTAP
	remote(ctx, acts.Remote) // AssignRoles
	st.ActivatedAt = workflow.Now(ctx)
	st.ExpiresAt = st.ActivatedAt.Add(in.Duration)
	st.Status = "active"
	local(ctx) // RecordGrant active
	for {
		remaining := st.ExpiresAt.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			break
		}
		seen := extensions
		if _, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: remaining},
			func() bool { return extensions != seen }); err != nil {
			return st, err
		}
	}
	st.Status = "revoking"
	local(ctx)                     // RecordGrant revoking
	tap := start(ctx, acts.Remote) // DeleteTAP, beside the disable
	remote(ctx, acts.DisableAccount)
	_ = tap.Get(ctx, nil)
	st.Status = "expired"
	st.EndedAt = workflow.Now(ctx)
	local(ctx) // RecordGrant expired
	return st, nil
}

// local runs the no-op local activity with the product's local-activity options.
func local(ctx workflow.Context) {
	acts := &floorActivities{}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second},
	})
	_ = workflow.ExecuteLocalActivity(lctx, acts.Local).Get(lctx, nil)
}

// remote runs a no-op regular activity with the product's provisioning options.
func remote(ctx workflow.Context, fn func(context.Context) error) {
	_ = start(ctx, fn).Get(ctx, nil)
}

// start schedules a no-op regular activity with the product's provisioning options.
func start(ctx workflow.Context, fn func(context.Context) error) workflow.Future {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		WaitForCancellation:    true,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 20 * time.Second},
	})
	return workflow.ExecuteActivity(actx, fn)
}

// NewWorker is the floor's worker on queue, with the SDK defaults the product's worker uses
// (worker.New sets only the stop timeout and a metrics interceptor); pollers, when positive,
// sets the workflow and activity task pollers (an experiment applied to product and floor).
func NewWorker(c client.Client, queue string, pollers int) sdkworker.Worker {
	o := sdkworker.Options{WorkerStopTimeout: 30 * time.Second}
	if pollers > 0 {
		o.MaxConcurrentWorkflowTaskPollers = pollers
		o.MaxConcurrentActivityTaskPollers = pollers
	}
	w := sdkworker.New(c, queue, o)
	w.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowType})
	w.RegisterActivity(&floorActivities{})
	return w
}
