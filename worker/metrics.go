package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/workflows"
)

// Metrics exports what an operator watches: grant transitions, refused runs, extensions,
// directory calls and their failures, blocked disables, and applications whose authorization
// was lost. The activities count through it (activities.Metrics); as a worker interceptor it
// times the directory activities by name, never reading their payloads.
type Metrics struct {
	interceptor.WorkerInterceptorBase

	transitions       *prometheus.CounterVec
	refused           prometheus.Counter
	extensions        prometheus.Counter
	directoryCalls    *prometheus.CounterVec
	directoryDuration *prometheus.HistogramVec
	disableFailures   *prometheus.CounterVec
	disableBlocked    prometheus.Counter
	expiryLateness    prometheus.Histogram
	authLost          prometheus.Gauge

	mu           sync.Mutex
	authLostApps map[string]bool // applications whose last directory call lost authorization
}

var _ activities.Metrics = (*Metrics)(nil)

// NewMetrics creates the metrics and registers them on reg. A collector already registered
// (a second worker in the same process) is shared; other registration errors are logged.
func NewMetrics(reg prometheus.Registerer, logger *slog.Logger) *Metrics {
	m := &Metrics{authLostApps: map[string]bool{}}
	m.transitions = register(reg, logger, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jitaccess_grant_transitions_total",
		Help: "Grant status transitions recorded by the workflow, by new status.",
	}, []string{"status"}))
	m.refused = register(reg, logger, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "jitaccess_grant_runs_refused_total",
		Help: "Workflow runs refused before any directory call: no grant row of their own (not started by the API, or claimed by another run).",
	}))
	m.extensions = register(reg, logger, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "jitaccess_grant_extensions_total",
		Help: "Accepted extensions of active grants.",
	}))
	m.directoryCalls = register(reg, logger, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jitaccess_directory_operations_total",
		Help: "Attempts of directory activities (EnsureAccount, AssignRoles, DisableAccount), by outcome: ok or the error type.",
	}, []string{"operation", "outcome"}))
	m.directoryDuration = register(reg, logger, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "jitaccess_directory_operation_duration_seconds",
		Help:    "Duration of directory activity attempts.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"operation"}))
	m.disableFailures = register(reg, logger, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jitaccess_disable_failures_total",
		Help: "Failed attempts to disable an account (retried without limit), by error type. Rising means accounts stay enabled past their expiry.",
	}, []string{"reason"}))
	m.disableBlocked = register(reg, logger, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "jitaccess_disable_blocked_total",
		Help: "Disables blocked until an admin authorizes the application again (counted once per grant).",
	}))
	m.expiryLateness = register(reg, logger, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "jitaccess_grant_expiry_lateness_seconds",
		Help:    "How long after its expires_at an expired grant's account was disabled (the workflow's clock when the disable completed).",
		Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900},
	}))
	m.authLost = register(reg, logger, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jitaccess_authorization_lost_applications",
		Help: "Applications whose last directory call failed because their authorization was lost; an admin must authorize them again.",
	}))
	return m
}

// register registers c, or returns the collector of the same description already there.
func register[C prometheus.Collector](reg prometheus.Registerer, logger *slog.Logger, c C) C {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
	case errors.As(err, &already):
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	default:
		logger.Error("metric not registered", "error", err)
	}
	return c
}

// Transition implements activities.Metrics.
func (m *Metrics) Transition(status string) { m.transitions.WithLabelValues(status).Inc() }

// ExpiryLateness implements activities.Metrics.
func (m *Metrics) ExpiryLateness(d time.Duration) { m.expiryLateness.Observe(max(d, 0).Seconds()) }

// Refused implements activities.Metrics.
func (m *Metrics) Refused() { m.refused.Inc() }

// Extended implements activities.Metrics.
func (m *Metrics) Extended() { m.extensions.Inc() }

// DisableBlocked implements activities.Metrics.
func (m *Metrics) DisableBlocked() { m.disableBlocked.Inc() }

// DirectoryOutcome implements activities.Metrics: it keeps the set of applications that lost
// their authorization (added on such an error, removed when a later call succeeds).
func (m *Metrics) DirectoryOutcome(applicationID, outcome string) {
	if applicationID == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch outcome {
	case activities.ErrTypeAuthorizationLost, activities.ErrTypeNotAuthorized:
		m.authLostApps[applicationID] = true
	case "ok":
		delete(m.authLostApps, applicationID)
	default:
		return
	}
	m.authLost.Set(float64(len(m.authLostApps)))
}

// InterceptActivity implements interceptor.WorkerInterceptor.
func (m *Metrics) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityMetrics{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, m: m}
}

type activityMetrics struct {
	interceptor.ActivityInboundInterceptorBase
	m *Metrics
}

func (a *activityMetrics) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	name := activity.GetInfo(ctx).ActivityType.Name
	start := time.Now()
	res, err := a.Next.ExecuteActivity(ctx, in)
	switch name {
	case workflows.EnsureAccountActivity, workflows.AssignRolesActivity, workflows.DisableAccountActivity:
		outcome := activities.Outcome(err)
		a.m.directoryCalls.WithLabelValues(name, outcome).Inc()
		a.m.directoryDuration.WithLabelValues(name).Observe(time.Since(start).Seconds())
		if name == workflows.DisableAccountActivity && err != nil {
			a.m.disableFailures.WithLabelValues(outcome).Inc()
		}
	}
	return res, err
}
