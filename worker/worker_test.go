package worker

import (
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

func TestMetricsCountWhatTheActivitiesReport(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg, quiet())
	m.Transition("active")
	m.Extended()
	m.Refused()
	m.DisableBlocked()
	assert.Equal(t, 1.0, testutil.ToFloat64(m.transitions.WithLabelValues("active")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.extensions))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.refused))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.disableBlocked))

	m.DirectoryOutcome("app_1", activities.ErrTypeAuthorizationLost)
	m.DirectoryOutcome("app_2", activities.ErrTypeAuthorizationLost)
	m.DirectoryOutcome("app_1", activities.ErrTypeAuthorizationLost)
	assert.Equal(t, 2.0, testutil.ToFloat64(m.authLost), "two applications lost their authorization")
	m.DirectoryOutcome("app_1", "ok")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.authLost), "app_1 is back")
	m.DirectoryOutcome("app_2", activities.ErrTypeThrottled)
	assert.Equal(t, 1.0, testutil.ToFloat64(m.authLost), "throttling says nothing of authorization")
}

// End to end through the SDK: the activities count transitions and refusals, the
// interceptor times directory calls, over a whole grant run in the test environment.
func TestMetricsInWorkflow(t *testing.T) {
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
	st.AddGrant(store.Grant{ID: "grt_1", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1", RequestedDuration: time.Hour})
	dir := &activitiestest.Directory{DisableErrs: []error{directory.ErrAuthorizationLost}}
	Register(env, &activities.Activities{Store: st, Directory: dir, Metrics: m, Logger: quiet()})

	env.ExecuteWorkflow(workflows.WorkflowType, workflows.AccessRequestInput{GrantID: "grt_1", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1"})
	require.NoError(t, env.GetWorkflowError())

	for _, s := range []string{"provisioning", "active", "revoking", "expired"} {
		assert.Equal(t, 1.0, testutil.ToFloat64(m.transitions.WithLabelValues(s)), s)
	}
	assert.Equal(t, 1.0, testutil.ToFloat64(m.disableFailures.WithLabelValues(activities.ErrTypeAuthorizationLost)))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.disableBlocked))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.authLost), "the successful retry cleared it")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.directoryCalls.WithLabelValues(workflows.AssignRolesActivity, "ok")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.directoryCalls.WithLabelValues(workflows.DisableAccountActivity, activities.ErrTypeAuthorizationLost)))

	// A run with no grant row of its own is refused and counted.
	env = suite.NewTestWorkflowEnvironment()
	Register(env, &activities.Activities{Store: st, Directory: dir, Metrics: m, Logger: quiet()})
	env.ExecuteWorkflow(workflows.WorkflowType, workflows.AccessRequestInput{GrantID: "grt_forged", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1"})
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, 1.0, testutil.ToFloat64(m.refused))
}

// An expired grant's lateness (disabled − expires_at) feeds the dashboard's expiry panel;
// clock skew never makes it negative.
func TestMetricsExpiryLateness(t *testing.T) {
	m := NewMetrics(prometheus.NewPedanticRegistry(), quiet())
	m.ExpiryLateness(1500 * time.Millisecond)
	m.ExpiryLateness(-time.Second)
	var out dto.Metric
	require.NoError(t, m.expiryLateness.Write(&out))
	assert.Equal(t, uint64(2), out.GetHistogram().GetSampleCount())
	assert.InDelta(t, 1.5, out.GetHistogram().GetSampleSum(), 1e-9)
}
