package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture runs AccessRequest in the SDK's test environment (time skipping) with the real
// activities over fake Store and Directory, and records every activity payload and search
// attribute upsert.
type fixture struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	st  *activitiestest.Store
	dir *activitiestest.Directory

	mu        sync.Mutex
	payloads  []string          // activity inputs and results, JSON
	started   []string          // activity types in start order (local ones included)
	summaries []string          // activity summaries in schedule order (local ones included)
	sa        []map[string]any  // search attribute upserts
	statuses  []workflows.State // status query answers taken by callbacks
	schedules []string          // activity types as the workflow scheduled them (not attempts)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	f := &fixture{
		t:   t,
		env: suite.NewTestWorkflowEnvironment(),
		st: &activitiestest.Store{Entitlement: store.Entitlement{
			Allowed: true, RuleID: "ent_1", RuleName: "All admins",
			Application: store.ApplicationConfig{ID: "app_1", TenantID: "tnt_1", Name: "Contoso", Status: "ready",
				Domain: "contoso.com", Roles: []string{"role-a", "role-b", "role-c"}, AccessDuration: 2 * time.Hour},
			Technician: store.Technician{ID: "tec_1", Email: "alice@msp.example", DisplayName: "Alice Smith"},
		}, Admins: []string{"tec_admin"}},
		dir: &activitiestest.Directory{},
	}
	f.env.SetStartTime(start)
	f.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&summaryRecorder{f: f}}})
	f.env.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowType})
	f.env.RegisterActivity(&activities.Activities{Store: f.st, Directory: f.dir, MaxAccessDuration: 4 * time.Hour})
	f.env.RegisterActivity(&activities.SignIn{Store: f.st, Directory: f.dir, Now: f.env.Now})
	f.dir.Now = f.env.Now
	f.st.AddGrant(store.Grant{ID: "grt_1", WorkflowID: "default-test-workflow-id", TenantID: "tnt_1", ApplicationID: "app_1",
		TechnicianID: "tec_1", RequestedAt: start, RequestedDuration: time.Hour})

	f.env.SetOnActivityStartedListener(func(info *activity.Info, ctx context.Context, args converter.EncodedValues) {
		var raw json.RawMessage
		_ = args.Get(&raw)
		f.add(info.ActivityType.Name, string(raw))
	})
	f.env.SetOnActivityCompletedListener(func(info *activity.Info, result converter.EncodedValue, err error) {
		f.addResult(result, err)
	})
	f.env.SetOnLocalActivityStartedListener(func(info *activity.Info, ctx context.Context, args []any) {
		b, _ := json.Marshal(args)
		f.add(info.ActivityType.Name, string(b))
	})
	f.env.SetOnLocalActivityCompletedListener(func(info *activity.Info, result converter.EncodedValue, err error) {
		f.addResult(result, err)
	})
	f.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		m := map[string]any{}
		for k, v := range sa.GetUntypedValues() {
			m[k.GetName()] = v
		}
		f.mu.Lock()
		f.sa = append(f.sa, m)
		f.mu.Unlock()
	}).Return(nil)
	return f
}

func (f *fixture) add(activityType, payload string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, activityType)
	f.payloads = append(f.payloads, payload)
}

func (f *fixture) addResult(result converter.EncodedValue, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.payloads = append(f.payloads, err.Error())
	}
	if result != nil && result.HasValue() {
		var raw json.RawMessage
		_ = result.Get(&raw)
		f.payloads = append(f.payloads, string(raw))
	}
}

// summaryRecorder reads the Summary of every activity the workflow schedules.
type summaryRecorder struct {
	interceptor.WorkerInterceptorBase
	f *fixture
}

func (r *summaryRecorder) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &summaryInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, f: r.f}
}

type summaryInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	f *fixture
}

func (i *summaryInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&summaryOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, f: i.f})
}

type summaryOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	f *fixture
}

func (o *summaryOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.f.addSummary(workflow.GetActivityOptions(ctx).Summary)
	o.f.mu.Lock()
	o.f.schedules = append(o.f.schedules, activityType)
	o.f.mu.Unlock()
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

func (o *summaryOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.f.addSummary(workflow.GetLocalActivityOptions(ctx).Summary)
	return o.Next.ExecuteLocalActivity(ctx, activityType, args...)
}

func (f *fixture) addSummary(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.summaries = append(f.summaries, s)
}

func input() workflows.AccessRequestInput {
	return workflows.AccessRequestInput{GrantID: "grt_1", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1"}
}

// run executes the workflow and returns its result.
func (f *fixture) run(in workflows.AccessRequestInput) workflows.Result {
	f.t.Helper()
	f.env.ExecuteWorkflow(workflows.WorkflowType, in)
	require.True(f.t, f.env.IsWorkflowCompleted())
	require.NoError(f.t, f.env.GetWorkflowError())
	var res workflows.Result
	require.NoError(f.t, f.env.GetWorkflowResult(&res))
	f.assertNoSecrets()
	return res
}

// queryAt takes a status snapshot at the given workflow time.
func (f *fixture) queryAt(d time.Duration) {
	f.env.RegisterDelayedCallback(func() {
		v, err := f.env.QueryWorkflow(workflows.StatusQueryName)
		require.NoError(f.t, err)
		var s workflows.State
		require.NoError(f.t, v.Get(&s))
		f.mu.Lock()
		f.statuses = append(f.statuses, s)
		f.mu.Unlock()
	}, d)
}

// assertNoSecrets checks that no password the directory ever received appears in any
// activity input or result, nor in a search attribute.
func (f *fixture) assertNoSecrets() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	all := strings.Join(f.payloads, "\n")
	sa, _ := json.Marshal(f.sa)
	for _, pw := range f.dir.Passwords() {
		require.NotContains(f.t, all, pw, "a password reached an activity payload")
		require.NotContains(f.t, string(sa), pw, "a password reached a search attribute")
	}
	// Marshalled passwords may escape characters; check the JSON form too.
	for _, pw := range f.dir.Passwords() {
		b, _ := json.Marshal(pw)
		require.NotContains(f.t, all, strings.Trim(string(b), `"`))
	}
}

func (f *fixture) lastSA() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	merged := map[string]any{}
	for _, m := range f.sa {
		for k, v := range m {
			merged[k] = v
		}
	}
	return merged
}

func (f *fixture) saStatuses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.sa {
		if s, ok := m["JitStatus"].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

const upn = "jit-alice_msp.example@contoso.com"

func TestHappyPathToExpiry(t *testing.T) {
	f := newFixture(t)
	f.queryAt(30 * time.Minute)
	res := f.run(input())

	assert.Equal(t, workflows.StatusExpired, res.Status)
	assert.Equal(t, upn, res.AccountUPN)
	assert.Equal(t, time.Hour, res.ExpiresAt.Sub(res.ActivatedAt), "the duration requested in the database row")
	assert.Equal(t, start, res.RequestedAt)
	assert.Equal(t, []string{"BeginGrant", "PrepareAccount", "EnsureAccount", "AssignRoles", "RecordGrant", "RecordGrant", "DisableAccount", "RecordGrant"}, f.started)
	assert.Equal(t, []string{workflows.ActionRequested, workflows.ActionActivated, workflows.ActionExpired}, f.st.Actions())
	assert.Equal(t, []string{"provisioning", "active", "revoking", "expired"}, f.saStatuses(), "pending is set at start")
	require.Len(t, f.statuses, 1)
	assert.Equal(t, workflows.StatusActive, f.statuses[0].Status)
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
	assert.Empty(t, acct.Assignments)
	row, _ := f.st.Row("grt_1")
	assert.Equal(t, "expired", row.Status)
}

// A run the API did not create (no row) is refused: no Entra call, an audit event, no row.
func TestRunWithoutGrantRowIsRefused(t *testing.T) {
	tests := []struct {
		name string
		in   workflows.AccessRequestInput
	}{
		{"unknown grant id", workflows.AccessRequestInput{GrantID: "grt_forged", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1"}},
		{"another technician's grant", workflows.AccessRequestInput{GrantID: "grt_1", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_2"}},
		{"forged continuation", func() workflows.AccessRequestInput {
			in := input()
			in.Carry = &workflows.Carry{State: workflows.State{Status: workflows.StatusActive, ExpiresAt: start.Add(365 * 24 * time.Hour)}}
			return in
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			res := f.run(tc.in)
			assert.NotEmpty(t, res.Refused)
			assert.Empty(t, res.Status)
			assert.Empty(t, f.dir.Calls(), "no Entra call")
			assert.Equal(t, []string{workflows.ActionRefused}, f.st.Actions())
			row, _ := f.st.Row("grt_1")
			assert.Equal(t, "pending", row.Status, "the API's row is untouched")
		})
	}
}

func TestEntitlementDenied(t *testing.T) {
	f := newFixture(t)
	f.st.Entitlement = store.Entitlement{Allowed: false, Reason: "no entitlement rule grants Contoso to alice@msp.example"}
	res := f.run(input())
	assert.Equal(t, workflows.StatusDenied, res.Status)
	assert.Contains(t, res.Failure, "no entitlement rule")
	assert.Empty(t, f.dir.Calls())
	assert.Equal(t, []string{workflows.ActionRequested, workflows.ActionDenied}, f.st.Actions())
}

func TestRevokeWhileActiveByAdmin(t *testing.T) {
	f := newFixture(t)
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_admin", ByKind: "admin", Reason: "incident over"})
	}, 10*time.Minute)
	res := f.run(input())
	assert.Equal(t, workflows.StatusRevoked, res.Status)
	assert.Equal(t, "tec_admin", res.RevokedBy)
	ev := f.auditOf(workflows.ActionRevoke)
	assert.Equal(t, "admin", ev.ActorKind)
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
}

// A revoke from someone the database does not know is honoured (ending access is always
// safe) but logged as unverified with the claimed name.
func TestUnverifiedRevokeIsHonouredAndMarked(t *testing.T) {
	f := newFixture(t)
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "mallory", ByKind: "admin"})
	}, 10*time.Minute)
	res := f.run(input())
	assert.Equal(t, workflows.StatusRevoked, res.Status)
	ev := f.auditOf(workflows.ActionRevoke)
	assert.Equal(t, "mallory", ev.ActorID)
	assert.Equal(t, "unverified", ev.ActorKind)
	assert.Equal(t, false, ev.Details["actor_verified"])
}

// A revoke while the account is being created cancels the attempt (heartbeats carry the
// cancel) and ends revoked, with whatever provisioning touched disabled.
func TestRevokeDuringProvisioning(t *testing.T) {
	for _, step := range []string{"EnsureAccount", "AssignRoles"} {
		t.Run(step, func(t *testing.T) {
			f := newFixture(t)
			// The step is throttled for a while; the revoke arrives meanwhile.
			throttled := &directory.ThrottledError{Op: step, RetryAfter: time.Minute}
			if step == "EnsureAccount" {
				f.dir.EnsureErrs = []error{throttled, throttled}
			} else {
				f.dir.AssignErrs = []error{throttled, throttled}
			}
			f.env.RegisterDelayedCallback(func() {
				f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_1", Reason: "not needed"})
			}, 30*time.Second)
			res := f.run(input())
			assert.Equal(t, workflows.StatusRevoked, res.Status, res.Failure)
			assert.Empty(t, res.Failure)
			assert.Contains(t, f.dir.Ops(), "DisableAccount", "what provisioning touched is disabled")
			if acct, ok := f.dir.Account(upn); ok {
				assert.False(t, acct.Enabled)
				assert.Empty(t, acct.Assignments)
			}
			_, ok := f.st.Credential("grt_1")
			assert.False(t, ok)
		})
	}
}

func TestRevokeBeforeProvisioning(t *testing.T) {
	f := newFixture(t)
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_1"})
	}, 0)
	res := f.run(input())
	assert.Equal(t, workflows.StatusRevoked, res.Status)
	for _, op := range f.dir.Ops() {
		assert.NotEqual(t, "AssignRoles", op)
	}
}

// Role assignment fails for good after assigning one role: compensation disables the account
// and removes that role too (listed from the directory, not only remembered).
func TestHalfFailedProvisioningLeavesNoRole(t *testing.T) {
	f := newFixture(t)
	f.dir.AssignPartially = true
	f.dir.AssignErrs = []error{&directory.GraphError{Op: "assign", Status: 400, Code: "Request_BadRequest"}}
	res := f.run(input())
	assert.Equal(t, workflows.StatusFailed, res.Status)
	assert.Contains(t, res.Failure, "assign roles")
	acct, ok := f.dir.Account(upn)
	require.True(t, ok)
	assert.False(t, acct.Enabled)
	assert.Empty(t, acct.Assignments, "no role left on the account")
}

// A consent withdrawn for four days: the disable is retried by the server (one scheduled
// activity, no workflow loop, so no history growth), the run stays alive and revoking with the
// reason recorded once, and the account is disabled as soon as authorization returns.
func TestConsentWithdrawnForFourDays(t *testing.T) {
	f := newFixture(t)
	f.env.RegisterDelayedCallback(func() { f.dir.SetDisableErr(directory.ErrAuthorizationLost) }, 59*time.Minute)
	f.queryAt(3 * 24 * time.Hour)
	f.env.RegisterDelayedCallback(func() { f.dir.SetDisableErr(nil) }, time.Hour+4*24*time.Hour)
	res := f.run(input())

	require.Len(t, f.statuses, 1)
	assert.Equal(t, workflows.StatusRevoking, f.statuses[0].Status, "alive after three days")
	assert.Equal(t, workflows.StatusExpired, res.Status)
	assert.Less(t, res.EndedAt.Sub(res.ExpiresAt), 4*24*time.Hour+2*time.Minute, "disabled within a minute of authorization returning")
	assert.Greater(t, res.EndedAt.Sub(res.ExpiresAt), 4*24*time.Hour-time.Minute)
	assert.Contains(t, res.Failure, "disabled late")
	// The test environment caps an unlimited retry policy at 10 attempts, after which the
	// workflow schedules the disable again; the server does not cap it (TestRealServer shows one
	// scheduled disable in the history of a blocked grant).
	assert.GreaterOrEqual(t, countOf(f.dir.Ops(), "ListAssignments"), 10*countOf(f.schedules, "DisableAccount")-10, "attempts are retries of one activity")
	assert.Equal(t, 1, countOf(f.st.Actions(), workflows.ActionDisableBlocked), "the alarm is raised once")
	assert.Greater(t, countOf(f.dir.Ops(), "ListAssignments"), 1000, "attempts kept going")
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
}

func TestWorkflowCancelledDisables(t *testing.T) {
	f := newFixture(t)
	f.env.RegisterDelayedCallback(f.env.CancelWorkflow, 10*time.Minute)
	res := f.run(input())
	assert.Equal(t, workflows.StatusRevoked, res.Status)
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
}

// Database outages do not block the grant and lose nothing: the record waits in the outbox.
func TestProjectionOutageLosesNoRecord(t *testing.T) {
	f := newFixture(t)
	errs := make([]error, 100) // well over the minute a write is tried before it is kept
	for i := range errs {
		errs[i] = errors.New("database down")
	}
	f.env.RegisterDelayedCallback(func() { f.st.RecordGrantErrs = errs }, 30*time.Minute)
	res := f.run(input())
	assert.Equal(t, workflows.StatusExpired, res.Status, res.Refused)
	assert.Equal(t, []string{workflows.ActionRequested, workflows.ActionActivated, workflows.ActionExpired}, f.st.Actions(), "every record written, in order")
	row, _ := f.st.Row("grt_1")
	assert.Equal(t, "expired", row.Status, "the database ends equal to the history")
}

func (f *fixture) auditOf(action string) store.AuditEvent {
	f.t.Helper()
	for _, e := range f.st.Audits {
		if e.Action == action {
			return e
		}
	}
	f.t.Fatalf("no %s audit event in %v", action, f.st.Actions())
	return store.AuditEvent{}
}

func countOf(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}
