// Package worker is the one place that registers and runs the AccessRequest workflow and
// its activities on a Temporal task queue, and exports what an operator watches as
// Prometheus metrics.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/approvals"
	"github.com/jitaccess/jitaccess/workflows"
)

// DefaultStopTimeout is how long Stop waits for running activities (a disable in flight) to
// finish before the worker gives up on them; Temporal retries them elsewhere anyway.
const DefaultStopTimeout = 30 * time.Second

// Options configures a worker. The zero value is usable.
type Options struct {
	// TaskQueue defaults to workflows.TaskQueue ("jit-access").
	TaskQueue string
	// Registerer receives the worker's metrics; nil exports none.
	Registerer prometheus.Registerer
	// Logger for metric registration problems; nil: slog.Default().
	Logger *slog.Logger
	// StopTimeout defaults to DefaultStopTimeout.
	StopTimeout time.Duration
	// Concurrency limits; zero keeps the SDK's defaults.
	MaxConcurrentActivities      int
	MaxConcurrentLocalActivities int
	MaxConcurrentWorkflowTasks   int
	// Deployment and BuildID opt the worker into Worker Deployment Versioning (versioning.go);
	// empty runs it unversioned.
	Deployment, BuildID string
}

// New returns a worker (not started) that runs AccessRequest and the activities of acts.
// Start it with Start or Run(worker.InterruptCh()); Stop drains it gracefully.
func New(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	queue := opts.TaskQueue
	if queue == "" {
		queue = workflows.TaskQueue
	}
	stop := opts.StopTimeout
	if stop <= 0 {
		stop = DefaultStopTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	wo := sdkworker.Options{
		WorkerStopTimeout:                       stop,
		MaxConcurrentActivityExecutionSize:      opts.MaxConcurrentActivities,
		MaxConcurrentLocalActivityExecutionSize: opts.MaxConcurrentLocalActivities,
		MaxConcurrentWorkflowTaskExecutionSize:  opts.MaxConcurrentWorkflowTasks,
		DeploymentOptions:                       DeploymentOptions(opts.Deployment, opts.BuildID),
	}
	if opts.Registerer != nil {
		m := NewMetrics(opts.Registerer, logger)
		wo.Interceptors = []interceptor.WorkerInterceptor{m}
		if acts.Metrics == nil {
			acts.Metrics = m
		}
	}
	w := sdkworker.New(c, queue, wo)
	Register(w, acts)
	return w
}

// Run runs a worker (New) until ctx ends, then stops it gracefully: in-flight activities
// finish within the stop timeout; anything cut short is retried by Temporal elsewhere.
func Run(ctx context.Context, c client.Client, acts *activities.Activities, opts Options) error {
	w := New(c, acts, opts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

// Register registers the workflow under workflows.WorkflowType and every activity under its
// method name (activities.*Name), and the approval stage's activity when the store records
// approvals (the database does; a fake without approvals leaves it out). The replayer and
// tests use it too.
func Register(r interface {
	sdkworker.WorkflowRegistry
	sdkworker.ActivityRegistry
}, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowType})
	r.RegisterActivity(acts)
	if s, ok := acts.Store.(approvals.Store); ok {
		r.RegisterActivity(&approvals.Activities{Store: s, Notifier: acts.Notifier})
	}
	r.RegisterActivity(signInOf(acts))
}

// signInOf makes the sign-in activities (PrepareAccount, IssueTAP, DeleteTAP) over the same
// store and directory as acts; *store.Store and *entra.Client serve both.
func signInOf(acts *activities.Activities) *activities.SignIn {
	st, ok := acts.Store.(activities.SignInStore)
	dir, ok2 := acts.Directory.(activities.SignInDirectory)
	if !ok || !ok2 {
		panic("worker: the activities' Store and Directory must also implement activities.SignInStore and activities.SignInDirectory")
	}
	return &activities.SignIn{Store: st, Directory: dir, Now: acts.Now, Logger: acts.Logger}
}
