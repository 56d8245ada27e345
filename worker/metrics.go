package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/store"
)

// Metrics observes the activities as they run (local ones included) and exports what an
// operator watches: grant transitions, directory calls and their failures, disables that
// keep failing, and applications whose authorization was lost. It is a Temporal worker
// interceptor, so the activities themselves know nothing of Prometheus.
type Metrics struct {
	interceptor.WorkerInterceptorBase

	transitions       *prometheus.CounterVec
	extensions        prometheus.Counter
	directoryCalls    *prometheus.CounterVec
	directoryDuration *prometheus.HistogramVec
	disableFailures   *prometheus.CounterVec
	expiryLateness    prometheus.Histogram
	authLost          prometheus.Gauge

	mu           sync.Mutex
	authLostApps map[string]bool // applications whose last directory call lost authorization
}

// NewMetrics creates the metrics and registers them on reg. A collector already registered
// (a second worker in the same process) is shared; other registration errors are logged.
func NewMetrics(reg prometheus.Registerer, logger *slog.Logger) *Metrics {
	m := &Metrics{authLostApps: map[string]bool{}}
	m.transitions = register(reg, logger, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jitaccess_grant_transitions_total",
		Help: "Grant status transitions recorded by the workflow, by new status.",
	}, []string{"status"}))
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
	a.m.observe(name, in.Args, time.Since(start), err)
	if name == activities.BeginGrantName && err == nil {
		a.m.begun(allowed(res))
	}
	return res, err
}

// allowed reads BeginGrant's answer: the value itself, or (local activities) its payloads.
func allowed(res any) bool {
	switch r := res.(type) {
	case activities.EntitlementResult:
		return r.Allowed
	case *commonpb.Payloads:
		var ent activities.EntitlementResult
		return converter.GetDefaultDataConverter().FromPayloads(r, &ent) == nil && ent.Allowed
	}
	return false
}

// begun counts BeginGrant's transitions: the request, and provisioning when allowed.
func (m *Metrics) begun(allowed bool) {
	m.transitions.WithLabelValues(store.StatusPending).Inc()
	if allowed {
		m.transitions.WithLabelValues(store.StatusProvisioning).Inc()
	}
}

// observe records one activity attempt.
func (m *Metrics) observe(name string, args []any, elapsed time.Duration, err error) {
	switch name {
	case activities.RecordGrantName:
		if rec, ok := firstArg[activities.RecordGrantInput](args); ok && err == nil {
			switch rec.Action {
			case activities.ActionExtended:
				m.extensions.Inc()
			case activities.ActionDisableBlocked:
				// The first record of revoking for an expiry (fewer-visibility-writes does
				// not record a plain expiry's revoking); the disable failure counters and the
				// authorization-lost gauge raise the alarm itself.
				m.transitions.WithLabelValues(store.StatusRevoking).Inc()
			default:
				m.transitions.WithLabelValues(rec.Status).Inc()
				if rec.Status == store.StatusExpired && !rec.ExpiresAt.IsZero() && !rec.EndedAt.IsZero() {
					m.expiryLateness.Observe(max(rec.EndedAt.Sub(rec.ExpiresAt), 0).Seconds())
				}
			}
		}
	case activities.EnsureAccountName, activities.AssignRolesName, activities.DisableAccountName:
		outcome := outcomeOf(err)
		m.directoryCalls.WithLabelValues(name, outcome).Inc()
		m.directoryDuration.WithLabelValues(name).Observe(elapsed.Seconds())
		if name == activities.DisableAccountName && err != nil {
			m.disableFailures.WithLabelValues(outcome).Inc()
		}
		m.trackAuthorization(applicationOf(args), outcome)
	}
}

// trackAuthorization keeps the set of applications that lost their authorization: added on
// such an error, removed when a later directory call for it succeeds.
func (m *Metrics) trackAuthorization(applicationID, outcome string) {
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

func outcomeOf(err error) string {
	if err == nil {
		return "ok"
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() != "" {
		return appErr.Type()
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "error"
}

func applicationOf(args []any) string {
	if in, ok := firstArg[activities.EnsureAccountInput](args); ok {
		return in.ApplicationID
	}
	if in, ok := firstArg[activities.AssignRolesInput](args); ok {
		return in.ApplicationID
	}
	if in, ok := firstArg[activities.DisableAccountInput](args); ok {
		return in.ApplicationID
	}
	return ""
}

// firstArg returns the activity's input (its only argument after the context).
func firstArg[T any](args []any) (T, bool) {
	var zero T
	if len(args) == 0 {
		return zero, false
	}
	switch v := args[0].(type) {
	case T:
		return v, true
	case *T:
		if v != nil {
			return *v, true
		}
	}
	return zero, false
}
