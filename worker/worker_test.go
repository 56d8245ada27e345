package worker

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestNewRegistersMetricsOnTheGivenRegistry(t *testing.T) {
	c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	require.NoError(t, err)
	defer c.Close()
	reg := prometheus.NewPedanticRegistry()
	acts := &activities.Activities{Store: &activitiestest.Store{}, Directory: &activitiestest.Directory{}}

	w := New(c, acts, Options{Registerer: reg, Logger: quiet()})
	require.NotNil(t, w)
	// A second worker in the same process shares the collectors instead of failing.
	require.NotNil(t, New(c, acts, Options{Registerer: reg, TaskQueue: "other", Logger: quiet()}))
	// Without a registerer, no metrics and no panic.
	require.NotNil(t, New(c, acts, Options{}))

	// Gauges and unlabelled counters are exported from the start.
	families, err := reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	assert.Contains(t, names, "jitaccess_authorization_lost_applications")
	assert.Contains(t, names, "jitaccess_grant_extensions_total")
}

func TestMetricsObserveActivities(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg, quiet())

	m.observe(activities.RecordGrantName, []any{activities.RecordGrantInput{GrantUpdate: store.GrantUpdate{Status: store.StatusActive}}}, 0, nil)
	m.observe(activities.RecordGrantName, []any{activities.RecordGrantInput{GrantUpdate: store.GrantUpdate{Status: store.StatusActive}, Action: activities.ActionExtended}}, 0, nil)
	m.observe(activities.RecordGrantName, []any{activities.RecordGrantInput{GrantUpdate: store.GrantUpdate{Status: store.StatusExpired}}}, 0, errors.New("db down"))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.transitions.WithLabelValues("active")))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.transitions.WithLabelValues("expired")), "failed writes are not transitions")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.extensions))

	lost := temporal.NewApplicationError("lost", activities.ErrTypeAuthorizationLost)
	dis := func(app string) []any { return []any{activities.DisableAccountInput{ApplicationID: app}} }
	m.observe(activities.DisableAccountName, dis("app_1"), time.Millisecond, lost)
	m.observe(activities.DisableAccountName, dis("app_2"), time.Millisecond, lost)
	m.observe(activities.DisableAccountName, dis("app_1"), time.Millisecond, lost)
	assert.Equal(t, 2.0, testutil.ToFloat64(m.authLost), "two applications lost their authorization")
	assert.Equal(t, 3.0, testutil.ToFloat64(m.disableFailures.WithLabelValues(activities.ErrTypeAuthorizationLost)))

	m.observe(activities.DisableAccountName, dis("app_1"), time.Millisecond, nil)
	assert.Equal(t, 1.0, testutil.ToFloat64(m.authLost), "app_1 is back")
	m.observe(activities.EnsureAccountName, []any{activities.EnsureAccountInput{ApplicationID: "app_2"}}, time.Millisecond, temporal.NewApplicationError("x", activities.ErrTypeThrottled))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.authLost), "throttling says nothing of authorization")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.directoryCalls.WithLabelValues(activities.EnsureAccountName, activities.ErrTypeThrottled)))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.directoryCalls.WithLabelValues(activities.DisableAccountName, "ok")))
	assert.Equal(t, 2, testutil.CollectAndCount(m.directoryDuration), "one histogram per operation seen")
}

// End to end through the SDK: the interceptor sees local and regular activities of a whole
// grant run in the test environment.
func TestMetricsInterceptorInWorkflow(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg, quiet())
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{m}})
	st := &activitiestest.Store{Entitlement: store.Entitlement{
		Allowed:     true,
		Application: store.ApplicationConfig{Domain: "contoso.com", Roles: []string{"r"}},
		Technician:  store.Technician{Email: "alice@msp.example"},
	}}
	dir := &activitiestest.Directory{DisableErrs: []error{directory.ErrAuthorizationLost}}
	Register(env, &activities.Activities{Store: st, Directory: dir, Logger: quiet()})

	env.ExecuteWorkflow(workflows.WorkflowType, workflows.AccessRequestInput{
		GrantID: "grt_1", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1",
		TechnicianEmail: "alice@msp.example", Duration: time.Hour,
	})
	require.NoError(t, env.GetWorkflowError())

	for _, s := range []string{"pending", "provisioning", "active", "revoking", "expired"} {
		assert.Equal(t, 1.0, testutil.ToFloat64(m.transitions.WithLabelValues(s)), s)
	}
	assert.Equal(t, 1.0, testutil.ToFloat64(m.disableFailures.WithLabelValues(activities.ErrTypeAuthorizationLost)))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.authLost), "the successful retry cleared it")

	assert.Equal(t, 1.0, testutil.ToFloat64(m.directoryCalls.WithLabelValues(activities.AssignRolesName, "ok")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.directoryCalls.WithLabelValues(activities.DisableAccountName, activities.ErrTypeAuthorizationLost)))
}

// An expired grant's lateness (disabled − expires_at) feeds the dashboard's expiry panel;
// revoked grants and failed writes do not count.
func TestMetricsExpiryLateness(t *testing.T) {
	m := NewMetrics(prometheus.NewPedanticRegistry(), quiet())
	exp := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	rec := func(status string, ended time.Time) []any {
		return []any{activities.RecordGrantInput{GrantUpdate: store.GrantUpdate{Status: status, ExpiresAt: exp, EndedAt: ended}}}
	}
	m.observe(activities.RecordGrantName, rec(store.StatusExpired, exp.Add(1500*time.Millisecond)), 0, nil)
	m.observe(activities.RecordGrantName, rec(store.StatusExpired, exp.Add(-time.Second)), 0, nil) // clock skew: 0, never negative
	m.observe(activities.RecordGrantName, rec(store.StatusRevoked, exp.Add(time.Hour)), 0, nil)
	m.observe(activities.RecordGrantName, rec(store.StatusExpired, exp.Add(time.Hour)), 0, errors.New("db down"))
	var out dto.Metric
	require.NoError(t, m.expiryLateness.Write(&out))
	assert.Equal(t, uint64(2), out.GetHistogram().GetSampleCount())
	assert.InDelta(t, 1.5, out.GetHistogram().GetSampleSum(), 1e-9)
}
