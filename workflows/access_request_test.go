package workflows_test

import (
	"context"
	"encoding/json"
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
	payloads  []string           // activity inputs and results, JSON
	started   []string           // activity types in start order (local ones included)
	summaries []string           // activity summaries in schedule order (local ones included)
	sa        []map[string]any   // search attribute upserts
	statuses  []workflows.Status // status query answers taken by callbacks
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
				Domain: "contoso.com", Roles: []string{"role-a", "role-b", "role-c"}},
			Technician: store.Technician{ID: "tec_1", Email: "alice@msp.example", DisplayName: "Alice Smith"},
		}},
		dir: &activitiestest.Directory{},
	}
	f.env.SetStartTime(start)
	f.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&summaryRecorder{f: f}}})
	f.env.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowType})
	f.env.RegisterActivity(&activities.Activities{Store: f.st, Directory: f.dir})

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
	return workflows.AccessRequestInput{
		GrantID: "grt_1", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1",
		TechnicianEmail: "alice@msp.example", Justification: "ticket 42",
		Duration: time.Hour, MaxDuration: 4 * time.Hour, RequestedAt: start,
	}
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
		var s workflows.Status
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
	f.queryAt(31 * time.Minute)
	res := f.run(input())

	assert.Equal(t, store.StatusExpired, res.Status)
	assert.Equal(t, upn, res.AccountUPN)
	assert.NotEmpty(t, res.AccountID)
	assert.Equal(t, []string{"role-a", "role-b", "role-c"}, res.Roles)
	assert.Equal(t, time.Hour, res.ExpiresAt.Sub(res.ActivatedAt))
	assert.WithinDuration(t, res.ExpiresAt, res.EndedAt, 5*time.Second, "disabled right at expiry")
	assert.Empty(t, res.Failure)

	assert.Equal(t, []string{"provisioning", "active", "expired"}, f.st.Statuses(), "BeginGrant records the request as provisioning; a plain expiry records no revoking")
	assert.Equal(t, []string{activities.ActionRequested, activities.ActionActivated, activities.ActionExpired}, f.st.Actions())
	assert.Equal(t, []string{"EnsureAccount", "AssignRoles", "DisableAccount"}, f.dir.Ops())
	assert.Equal(t, []string{"BeginGrant", "EnsureAccount", "AssignRoles", "RecordGrant", "DisableAccount", "RecordGrant"}, f.started)

	acct, ok := f.dir.Account(upn)
	require.True(t, ok)
	assert.False(t, acct.Enabled, "disabled")
	assert.Empty(t, acct.Assignments, "role assignments removed")
	_, ok = f.st.Credential("grt_1")
	assert.False(t, ok, "credential deleted")

	// Repeated queries while active answer the same.
	require.Len(t, f.statuses, 2)
	assert.Equal(t, store.StatusActive, f.statuses[0].Status)
	assert.Equal(t, f.statuses[0], f.statuses[1])
	assert.Equal(t, res.ExpiresAt, f.statuses[0].ExpiresAt)
	assert.Equal(t, upn, f.statuses[0].AccountUPN)

	// Search attributes kept current.
	sa := f.lastSA()
	assert.Equal(t, "tnt_1", sa["JitTenantId"])
	assert.Equal(t, "app_1", sa["JitApplicationId"])
	assert.Equal(t, "alice@msp.example", sa["JitTechnicianEmail"])
	assert.Equal(t, "expired", sa["JitStatus"])
	assert.Equal(t, res.ExpiresAt, sa["JitExpiresAt"])
	// Started without the API's attributes, the run sets them at once; after that only the
	// transitions an admin searches for are upserted (fewer-visibility-writes).
	assert.Equal(t, []string{"provisioning", "active", "expired"}, f.saStatuses())

	// Projection carries the grant's facts.
	last := f.st.LastGrant()
	assert.Equal(t, workflows.GrantIDForRun(last.RunID), last.GrantID, "the grant id is derived from the run id")
	assert.Equal(t, workflows.WorkflowID("tnt_1", "app_1", "tec_1"), workflows.WorkflowID(last.TenantID, last.ApplicationID, last.TechnicianID))
	assert.Equal(t, upn, last.AccountUPN)
	assert.Equal(t, res.EndedAt, last.EndedAt)
}

// A run started by the API already carries the identity attributes and JitStatus=pending:
// it upserts only when the grant becomes active and when it ends.
func TestSearchAttributesOfARunStartedByTheAPI(t *testing.T) {
	f := newFixture(t)
	in := input()
	require.NoError(t, f.env.SetTypedSearchAttributesOnStart(workflows.StartOptions(in, "").TypedSearchAttributes))
	f.env.RegisterDelayedCallback(func() {
		f.env.UpdateWorkflow(workflows.ExtendUpdateName, "ext-1", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("extension rejected: %v", err) }, OnComplete: func(any, error) {},
		}, workflows.ExtendRequest{Duration: 30 * time.Minute, By: "tec_1"})
	}, 10*time.Minute)
	res := f.run(in)

	assert.Equal(t, store.StatusExpired, res.Status)
	assert.Equal(t, []string{"active", "active", "expired"}, f.saStatuses(), "active, the extension's new expiry, the end")
	for _, sa := range f.sa {
		assert.NotContains(t, sa, "JitTenantId", "identity attributes come from the start request")
	}
	assert.Equal(t, res.ExpiresAt, f.lastSA()["JitExpiresAt"])
}

func TestRevokeWhileActive(t *testing.T) {
	f := newFixture(t)
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_9", ByKind: "admin", Reason: "incident closed"})
	}, 10*time.Minute)
	f.env.RegisterDelayedCallback(func() {
		// A second revoke changes nothing.
		f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_1"})
	}, 10*time.Minute+time.Second)
	res := f.run(input())

	assert.Equal(t, store.StatusRevoked, res.Status)
	assert.Equal(t, "tec_9", res.RevokedBy)
	assert.WithinDuration(t, start.Add(10*time.Minute), res.EndedAt, 5*time.Second)
	assert.Equal(t, []string{"provisioning", "active", "revoking", "revoked"}, f.st.Statuses())
	assert.Equal(t, []string{"provisioning", "active", "revoking", "revoked"}, f.saStatuses(), "an early revoke shows as JitStatus=revoking")
	assert.Equal(t, []string{activities.ActionRequested, activities.ActionActivated, activities.ActionRevoke, activities.ActionRevoked}, f.st.Actions())
	rev := f.st.Audits[2]
	assert.Equal(t, "tec_9", rev.ActorID)
	assert.Equal(t, "admin", rev.ActorKind)
	assert.Equal(t, "incident closed", rev.Details["reason"])
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
	assert.Equal(t, "tec_9", f.st.LastGrant().RevokedBy)
}

func TestRevokeDuringAccountCreation(t *testing.T) {
	f := newFixture(t)
	// Graph throttles the creation; the revoke arrives while it waits to retry.
	f.dir.EnsureErrs = []error{
		&directory.ThrottledError{Op: "create", RetryAfter: 30 * time.Second},
		&directory.ThrottledError{Op: "create", RetryAfter: 30 * time.Second},
	}
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_1", Reason: "not needed"})
	}, 10*time.Second)
	res := f.run(input())

	assert.Equal(t, store.StatusRevoked, res.Status)
	assert.True(t, res.ActivatedAt.IsZero(), "never active")
	assert.NotContains(t, f.dir.Ops(), "AssignRoles")
	assert.Equal(t, "DisableAccount", f.dir.Ops()[len(f.dir.Ops())-1], "whatever may exist is disabled last")
	// The disable found the account by its UPN, although creation never answered.
	assert.Equal(t, upn, f.dir.Calls()[len(f.dir.Calls())-1].Ref)
	if acct, ok := f.dir.Account(upn); ok {
		assert.False(t, acct.Enabled)
	}
	assert.Equal(t, []string{"provisioning", "revoking", "revoked"}, f.st.Statuses())
}

func TestRevokeDuringRoleAssignment(t *testing.T) {
	f := newFixture(t)
	f.dir.AssignErrs = []error{&directory.ReplicationLagError{Op: "assign", ObjectID: "x"}, &directory.ThrottledError{Op: "assign", RetryAfter: 20 * time.Second}}
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_1"})
	}, 2*time.Second)
	res := f.run(input())

	assert.Equal(t, store.StatusRevoked, res.Status)
	assert.Equal(t, []string{"EnsureAccount", "AssignRoles", "AssignRoles", "AssignRoles", "DisableAccount"}, f.dir.Ops(),
		"role assignment finishes, so the disable removes every assignment it made")
	last := f.dir.Calls()[len(f.dir.Calls())-1]
	assert.Len(t, last.IDs, 3)
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
	assert.Empty(t, acct.Assignments)
}

func TestRevokeBeforeProvisioning(t *testing.T) {
	f := newFixture(t)
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_1"})
	}, 0)
	res := f.run(input())
	assert.Equal(t, store.StatusRevoked, res.Status)
	assert.Empty(t, f.dir.Ops(), "no directory call")
}

func TestExtendAccepted(t *testing.T) {
	f := newFixture(t)
	var got workflows.ExtendResult
	f.env.RegisterDelayedCallback(func() {
		f.env.UpdateWorkflow(workflows.ExtendUpdateName, "ext-1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("rejected: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); got = v.(workflows.ExtendResult) },
		}, workflows.ExtendRequest{Duration: 30 * time.Minute, By: "tec_1"})
	}, 40*time.Minute)
	f.queryAt(50 * time.Minute)
	res := f.run(input())

	assert.Equal(t, store.StatusExpired, res.Status)
	assert.Equal(t, res.ActivatedAt.Add(90*time.Minute), res.ExpiresAt, "old expiry + 30m")
	assert.Equal(t, res.ExpiresAt, got.ExpiresAt)
	assert.WithinDuration(t, res.ExpiresAt, res.EndedAt, 5*time.Second, "timer restarted at the new expiry")
	require.Len(t, res.Extensions, 1)
	assert.Equal(t, workflows.Extension{By: "tec_1", Duration: 30 * time.Minute, At: res.Extensions[0].At, ExpiresAt: res.ExpiresAt}, res.Extensions[0])
	require.Len(t, f.statuses, 1)
	assert.Equal(t, res.ExpiresAt, f.statuses[0].ExpiresAt)
	assert.Contains(t, f.st.Actions(), activities.ActionExtended)
	assert.Equal(t, res.ExpiresAt, f.lastSA()["JitExpiresAt"])
}

func TestExtendRefused(t *testing.T) {
	f := newFixture(t)
	// Provisioning is slow (throttled), and the disable at the end waits on Graph.
	f.dir.AssignErrs = []error{&directory.ThrottledError{Op: "assign", RetryAfter: time.Minute}}
	f.dir.DisableErrs = []error{&directory.ThrottledError{Op: "disable", RetryAfter: 5 * time.Minute}}
	rejected := map[string]string{}
	update := func(id string, req workflows.ExtendRequest) {
		f.env.UpdateWorkflow(workflows.ExtendUpdateName, id, &testsuite.TestUpdateCallback{
			OnReject: func(err error) {
				var appErr *temporal.ApplicationError
				if assert.ErrorAs(t, err, &appErr) {
					rejected[id] = appErr.Type()
				}
			},
			OnAccept:   func() { t.Errorf("%s accepted", id) },
			OnComplete: func(any, error) {},
		}, req)
	}
	f.env.RegisterDelayedCallback(func() { update("provisioning", workflows.ExtendRequest{Duration: time.Minute}) }, 30*time.Second)
	f.env.RegisterDelayedCallback(func() {
		update("too-long", workflows.ExtendRequest{Duration: 3*time.Hour + time.Minute})
		update("zero", workflows.ExtendRequest{Duration: 0})
		update("negative", workflows.ExtendRequest{Duration: -time.Minute})
	}, 10*time.Minute)
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(workflows.RevokeSignalName, workflows.RevokeSignal{By: "tec_1"})
	}, 20*time.Minute)
	f.env.RegisterDelayedCallback(func() { update("revoking", workflows.ExtendRequest{Duration: time.Minute}) }, 22*time.Minute)
	res := f.run(input())

	assert.Equal(t, map[string]string{
		"provisioning": workflows.ErrTypeNotActive,
		"too-long":     workflows.ErrTypeDurationExceedsMaximum,
		"zero":         workflows.ErrTypeInvalidDuration,
		"negative":     workflows.ErrTypeInvalidDuration,
		"revoking":     workflows.ErrTypeNotActive,
	}, rejected)
	assert.Equal(t, store.StatusRevoked, res.Status)
	assert.Equal(t, time.Hour, res.ExpiresAt.Sub(res.ActivatedAt), "unchanged")
	assert.Empty(t, res.Extensions)
	assert.NotContains(t, f.st.Actions(), activities.ActionExtended)
}

func TestExtendUpToMaximum(t *testing.T) {
	f := newFixture(t)
	accepted := 0
	f.env.RegisterDelayedCallback(func() {
		f.env.UpdateWorkflow(workflows.ExtendUpdateName, "max", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("rejected: %v", err) },
			OnAccept:   func() { accepted++ },
			OnComplete: func(any, error) {},
		}, workflows.ExtendRequest{Duration: 3 * time.Hour})
	}, time.Minute)
	res := f.run(input())
	assert.Equal(t, 1, accepted)
	assert.Equal(t, 4*time.Hour, res.ExpiresAt.Sub(res.ActivatedAt), "exactly MaxDuration is allowed")
}

func TestEntitlementDenied(t *testing.T) {
	f := newFixture(t)
	f.st.Entitlement = store.Entitlement{Allowed: false, Reason: "no entitlement rule grants Contoso to alice@msp.example"}
	res := f.run(input())

	assert.Equal(t, store.StatusDenied, res.Status)
	assert.Equal(t, "no entitlement rule grants Contoso to alice@msp.example", res.Failure)
	assert.Empty(t, f.dir.Ops(), "no Entra call")
	assert.Equal(t, []string{"pending", "denied"}, f.st.Statuses())
	assert.Equal(t, []string{activities.ActionRequested, activities.ActionDenied}, f.st.Actions())
	assert.Equal(t, "denied", f.lastSA()["JitStatus"])
	assert.NotContains(t, f.lastSA(), "JitExpiresAt")
}

func TestRoleAssignmentFailsForGood(t *testing.T) {
	f := newFixture(t)
	f.dir.AssignErrs = []error{&directory.GraphError{Op: "assign roles", Status: 400, Code: "Request_BadRequest", Message: "role not found"}}
	res := f.run(input())

	assert.Equal(t, store.StatusFailed, res.Status)
	assert.Contains(t, res.Failure, "assign roles")
	assert.Contains(t, res.Failure, "role not found")
	assert.Equal(t, []string{"EnsureAccount", "AssignRoles", "DisableAccount"}, f.dir.Ops(), "compensation, no retry of a rejected request")
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled, "compensation disabled the account")
	_, ok := f.st.Credential("grt_1")
	assert.False(t, ok)
	assert.Equal(t, []string{"provisioning", "revoking", "failed"}, f.st.Statuses())
	assert.Equal(t, activities.ActionFailed, f.st.Actions()[len(f.st.Actions())-1])
	assert.Equal(t, "failed", f.lastSA()["JitStatus"])
}

func TestAuthorizationLostBeforeAnyChange(t *testing.T) {
	f := newFixture(t)
	f.dir.EnsureErrs = []error{directory.ErrAuthorizationLost}
	res := f.run(input())
	assert.Equal(t, store.StatusFailed, res.Status)
	assert.Contains(t, res.Failure, "authorize the application again")
	assert.Equal(t, []string{"EnsureAccount"}, f.dir.Ops(), "not retried, nothing to undo")
}

func TestDisableRetriedUntilItSucceeds(t *testing.T) {
	f := newFixture(t)
	unavailable := &directory.GraphError{Op: "disable", Status: 503, Code: "ServiceUnavailable"}
	f.dir.DisableErrs = []error{unavailable, unavailable, &directory.ThrottledError{Op: "disable", RetryAfter: 2 * time.Minute}, unavailable}
	// Expiry at ~1h; the retries (1s, 2s, 2m, 4s) end a little after 1h02m.
	f.queryAt(time.Hour + time.Minute)
	res := f.run(input())

	assert.Equal(t, store.StatusExpired, res.Status)
	assert.Equal(t, 5, countOf(f.dir.Ops(), "DisableAccount"))
	assert.Greater(t, res.EndedAt.Sub(res.ExpiresAt), 2*time.Minute)
	require.Len(t, f.statuses, 1)
	assert.Equal(t, store.StatusRevoking, f.statuses[0].Status, "revoking while the disable retries")
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
}

func TestAuthorizationLostDuringDisableKeepsRetrying(t *testing.T) {
	f := newFixture(t)
	// A quarter of an hour without authorization. (The test environment caps an activity
	// at 10 attempts; the workflow schedules it again, as it would any failure.)
	lost := make([]error, 15)
	for i := range lost {
		lost[i] = directory.ErrAuthorizationLost
	}
	f.dir.DisableErrs = lost
	f.queryAt(time.Hour + 10*time.Minute)
	res := f.run(input())

	assert.Equal(t, store.StatusExpired, res.Status)
	assert.Equal(t, 16, countOf(f.dir.Ops(), "DisableAccount"))
	assert.InDelta(t, 15*time.Minute, res.EndedAt.Sub(res.ExpiresAt), float64(2*time.Minute), "a minute between attempts")
	require.Len(t, f.statuses, 1)
	assert.Equal(t, store.StatusRevoking, f.statuses[0].Status)
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled, "disabled once authorization is back")
}

func TestEntitlementCheckFailsForGood(t *testing.T) {
	f := newFixture(t)
	f.st.EntitlementErr = assert.AnError
	res := f.run(input())
	assert.Equal(t, store.StatusFailed, res.Status)
	assert.Contains(t, res.Failure, "check entitlement")
	assert.Empty(t, f.dir.Ops())
}

// Once the request is recorded, a database that stops taking writes never keeps the grant
// from running to its end: the account is still disabled on time.
func TestProjectionOutageDoesNotBlockTheGrant(t *testing.T) {
	f := newFixture(t)
	errs := make([]error, 201)
	for i := 1; i < len(errs); i++ {
		errs[i] = assert.AnError // every write after BeginGrant's
	}
	f.st.RecordGrantErrs = errs
	res := f.run(input())
	assert.Equal(t, store.StatusExpired, res.Status)
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
}

// A request that cannot be recorded fails before anything reaches the directory: without the
// database the password could not be kept for the technician anyway.
func TestRequestNotRecordedFailsBeforeTheDirectory(t *testing.T) {
	f := newFixture(t)
	errs := make([]error, 200)
	for i := range errs {
		errs[i] = assert.AnError
	}
	f.st.RecordGrantErrs = errs
	res := f.run(input())
	assert.Equal(t, store.StatusFailed, res.Status)
	assert.Contains(t, res.Failure, "check entitlement")
	assert.Empty(t, f.dir.Ops(), "nothing was provisioned")
}

func TestWorkflowCancelledDisables(t *testing.T) {
	f := newFixture(t)
	f.env.RegisterDelayedCallback(f.env.CancelWorkflow, 10*time.Minute)
	f.env.ExecuteWorkflow(workflows.WorkflowType, input())
	require.True(t, f.env.IsWorkflowCompleted())
	acct, _ := f.dir.Account(upn)
	assert.False(t, acct.Enabled)
	assert.Equal(t, "revoked", f.st.LastGrant().Status)
}

func TestInvalidDuration(t *testing.T) {
	f := newFixture(t)
	in := input()
	in.Duration = 5 * time.Hour
	res := f.run(in)
	assert.Equal(t, store.StatusFailed, res.Status)
	assert.Empty(t, f.dir.Ops())
}

func TestSummaries(t *testing.T) {
	f := newFixture(t)
	f.env.RegisterDelayedCallback(func() {
		f.env.UpdateWorkflow(workflows.ExtendUpdateName, "e", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Error(err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, workflows.ExtendRequest{Duration: time.Minute})
	}, time.Minute)
	f.run(input())
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, []string{
		"Check that alice@msp.example may use application app_1 and record the request",
		"Create or re-enable account for alice@msp.example in contoso.com",
		"Assign 3 roles to " + upn,
		"Record grant active",
		"Record extension by 1m0s until 2026-03-02T10:01:00Z",
		"Disable account " + upn + " and remove 3 role assignments",
		"Record grant expired",
	}, f.summaries)
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func TestIdentifiers(t *testing.T) {
	assert.Equal(t, "access/tnt_1/app_1/tec_1", workflows.WorkflowID("tnt_1", "app_1", "tec_1"))
	opts := workflows.StartOptions(input(), "")
	assert.Equal(t, "access/tnt_1/app_1/tec_1", opts.ID)
	assert.Equal(t, "jit-access", opts.TaskQueue)
	sa := opts.TypedSearchAttributes
	v, ok := sa.GetKeyword(workflows.StatusKey)
	assert.True(t, ok)
	assert.Equal(t, "pending", v)
	v, _ = sa.GetKeyword(workflows.TechnicianEmailKey)
	assert.Equal(t, "alice@msp.example", v)

	var names []string
	for _, d := range workflows.SearchAttributeDefinitions() {
		names = append(names, d.Name+"="+d.Type)
	}
	assert.Equal(t, []string{"JitTenantId=Keyword", "JitApplicationId=Keyword", "JitTechnicianEmail=Keyword", "JitStatus=Keyword", "JitExpiresAt=Datetime"}, names)
}
