package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// *store.Store is what cmd/jitaccess wires in.
var _ activities.Store = (*store.Store)(nil)

// The store names the final statuses as strings; they must be the workflow's.
func TestFinalStatusesAgree(t *testing.T) {
	var want []string
	for _, s := range workflows.FinalStatuses() {
		want = append(want, string(s))
	}
	assert.ElementsMatch(t, want, store.TerminalStatuses())
	for _, s := range workflows.Statuses() {
		assert.True(t, store.IsValidStatus(string(s)), s)
	}
}

func newActs() (*activities.Activities, *activitiestest.Store, *activitiestest.Directory) {
	st := &activitiestest.Store{Entitlement: store.Entitlement{
		Allowed: true, RuleID: "ent_1", RuleName: "All admins",
		Application: store.ApplicationConfig{ID: "app_1", Name: "Contoso", Domain: "contoso.com", Roles: []string{"r1", "r2"},
			AccessDuration: 4 * time.Hour},
		Technician: store.Technician{ID: "tec_1", Email: "alice@msp.example", DisplayName: "Alice"},
	}}
	dir := &activitiestest.Directory{}
	return &activities.Activities{Store: st, Directory: dir, MaxAccessDuration: 8 * time.Hour}, st, dir
}

func pending(id string, d time.Duration) store.Grant {
	return store.Grant{ID: id, TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1", RequestedDuration: d}
}

func begin(id, firstRun string) workflows.BeginInput {
	return workflows.BeginInput{GrantID: id, TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1",
		WorkflowID: "access/tnt_1/app_1/tec_1", RunID: firstRun, FirstRunID: firstRun}
}

// The database decides: a run with no row of its own is refused and writes only an audit event.
func TestBeginGrant(t *testing.T) {
	tests := []struct {
		name      string
		rows      []store.Grant
		in        workflows.BeginInput
		deny      string // entitlement refusal
		wantPlan  workflows.Plan
		wantRow   string // status of the row afterwards
		wantAudit string
	}{
		{name: "no row: refused", in: begin("grt_x", "run1"), wantPlan: workflows.Plan{Refused: true}, wantAudit: workflows.ActionRefused},
		{name: "another run's row: refused", rows: []store.Grant{func() store.Grant { g := pending("grt_1", time.Hour); g.FirstRunID = "run0"; return g }()},
			in: begin("grt_1", "run1"), wantPlan: workflows.Plan{Refused: true}, wantRow: "pending", wantAudit: workflows.ActionRefused},
		{name: "row of another technician: refused", rows: []store.Grant{func() store.Grant { g := pending("grt_1", time.Hour); g.TechnicianID = "tec_2"; return g }()},
			in: begin("grt_1", "run1"), wantPlan: workflows.Plan{Refused: true}, wantRow: "pending", wantAudit: workflows.ActionRefused},
		{name: "allowed, duration as requested", rows: []store.Grant{pending("grt_1", time.Hour)}, in: begin("grt_1", "run1"),
			wantPlan: workflows.Plan{Duration: time.Hour, MaxStep: 4 * time.Hour, MaxTotal: 8 * time.Hour, AccountUPN: "jit-alice_msp.example@contoso.com"},
			wantRow:  "provisioning", wantAudit: workflows.ActionRequested},
		{name: "requested beyond the application's duration: bounded", rows: []store.Grant{pending("grt_1", 100*time.Hour)}, in: begin("grt_1", "run1"),
			wantPlan: workflows.Plan{Duration: 4 * time.Hour, MaxStep: 4 * time.Hour, MaxTotal: 8 * time.Hour, AccountUPN: "jit-alice_msp.example@contoso.com"},
			wantRow:  "provisioning", wantAudit: workflows.ActionRequested},
		{name: "reset run of the same chain: claimed again", rows: []store.Grant{func() store.Grant { g := pending("grt_1", time.Hour); g.FirstRunID = "run1"; return g }()},
			in:       func() workflows.BeginInput { b := begin("grt_1", "run1"); b.RunID = "run2"; return b }(),
			wantPlan: workflows.Plan{Duration: time.Hour, MaxStep: 4 * time.Hour, MaxTotal: 8 * time.Hour, AccountUPN: "jit-alice_msp.example@contoso.com"},
			wantRow:  "provisioning", wantAudit: workflows.ActionRequested},
		{name: "not entitled: denied", rows: []store.Grant{pending("grt_1", time.Hour)}, in: begin("grt_1", "run1"), deny: "no rule",
			wantPlan: workflows.Plan{Denied: true}, wantRow: "pending", wantAudit: workflows.ActionRequested},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, st, dir := newActs()
			for _, g := range tc.rows {
				st.AddGrant(g)
			}
			if tc.deny != "" {
				st.Entitlement.Allowed, st.Entitlement.Reason = false, tc.deny
			}
			plan, err := a.BeginGrant(context.Background(), tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.wantPlan.Refused, plan.Refused, plan.Reason)
			assert.Equal(t, tc.wantPlan.Denied, plan.Denied, plan.Reason)
			if !plan.Refused && !plan.Denied {
				assert.Equal(t, tc.wantPlan.Duration, plan.Duration)
				assert.Equal(t, tc.wantPlan.MaxStep, plan.MaxStep)
				assert.Equal(t, tc.wantPlan.MaxTotal, plan.MaxTotal)
				assert.Equal(t, tc.wantPlan.AccountUPN, plan.AccountUPN)
				assert.Equal(t, []string{"r1", "r2"}, plan.Roles)
			}
			if row, ok := st.Row(tc.in.GrantID); ok {
				assert.Equal(t, tc.wantRow, row.Status)
			}
			require.Equal(t, []string{tc.wantAudit}, st.Actions())
			assert.Empty(t, dir.Calls(), "no directory call")
		})
	}
}

// One account, one live grant: a second application on the same domain is denied while the
// first grant lives, and allowed once it ended.
func TestBeginGrantLocksTheAccount(t *testing.T) {
	ctx := context.Background()
	a, st, _ := newActs()
	st.AddGrant(pending("grt_1", time.Hour))
	g2 := pending("grt_2", time.Hour)
	g2.ApplicationID = "app_2"
	st.AddGrant(g2)
	p1, err := a.BeginGrant(ctx, begin("grt_1", "run1"))
	require.NoError(t, err)
	require.False(t, p1.Denied)
	in2 := begin("grt_2", "run2")
	in2.ApplicationID = "app_2"
	p2, err := a.BeginGrant(ctx, in2)
	require.NoError(t, err)
	assert.True(t, p2.Denied)
	assert.Contains(t, p2.Reason, "grt_1")

	require.NoError(t, a.RecordGrant(ctx, []workflows.Record{{GrantID: "grt_1", Status: workflows.StatusExpired, Action: workflows.ActionExpired, Key: "final"}}))
	st.AddGrant(func() store.Grant { g := pending("grt_3", time.Hour); g.ApplicationID = "app_2"; return g }())
	in3 := begin("grt_3", "run3")
	in3.ApplicationID = "app_2"
	p3, err := a.BeginGrant(ctx, in3)
	require.NoError(t, err)
	assert.False(t, p3.Denied, p3.Reason)
}

func TestRecordGrantWritesProjectionAndAudit(t *testing.T) {
	ctx := context.Background()
	a, st, _ := newActs()
	st.AddGrant(pending("grt_1", time.Hour))
	rec := workflows.Record{GrantID: "grt_1", RunID: "run1", TenantID: "tnt_1", Status: workflows.StatusRevoking,
		Action: workflows.ActionRevoke, Key: "revoking", Actor: workflows.Actor{ID: "tec_9", Kind: "admin"}, Reason: "left"}
	// The same record twice (a retried write) is logged once.
	require.NoError(t, a.RecordGrant(ctx, []workflows.Record{rec, rec}))
	require.Len(t, st.Audits, 1)
	e := st.Audits[0]
	assert.Equal(t, "unverified", e.ActorKind, "an actor the database did not verify is logged as such")
	assert.Equal(t, "tec_9", e.ActorID, "with the name it claimed")
	assert.Equal(t, false, e.Details["actor_verified"])
	row, _ := st.Row("grt_1")
	assert.Equal(t, "revoking", row.Status)

	// A grant whose row is gone is skipped, not retried for ever.
	require.NoError(t, a.RecordGrant(ctx, []workflows.Record{{GrantID: "grt_gone", Status: workflows.StatusExpired}}))
	// A failing write fails the activity (the workflow keeps the record).
	st.RecordGrantErrs = []error{errors.New("db down")}
	require.ErrorContains(t, a.RecordGrant(ctx, []workflows.Record{rec}), "db down")
}

func TestVerifyActorAndCheckExtend(t *testing.T) {
	ctx := context.Background()
	a, st, _ := newActs()
	st.AddGrant(pending("grt_1", time.Hour))
	st.Admins = []string{"tec_admin"}
	tests := []struct {
		actor    string
		verified bool
		kind     string
	}{
		{"tec_1", true, "technician"}, {"tec_admin", true, "admin"}, {"tec_other", false, ""}, {"", false, ""},
	}
	for _, tc := range tests {
		got, err := a.VerifyActor(ctx, workflows.VerifyActorInput{GrantID: "grt_1", ActorID: tc.actor})
		require.NoError(t, err)
		assert.Equal(t, tc.verified, got.Verified, tc.actor)
		assert.Equal(t, tc.kind, got.Kind, tc.actor)
	}
	chk, err := a.CheckExtend(ctx, workflows.CheckExtendInput{GrantID: "grt_1", ActorID: "tec_1"})
	require.NoError(t, err)
	assert.True(t, chk.Entitled && chk.Actor.Verified)
	assert.Equal(t, 4*time.Hour, chk.MaxStep)
	assert.Equal(t, 8*time.Hour, chk.MaxTotal)
	st.Entitlement.Allowed, st.Entitlement.Reason = false, "removed from the tenant"
	chk, err = a.CheckExtend(ctx, workflows.CheckExtendInput{GrantID: "grt_1", ActorID: "tec_1"})
	require.NoError(t, err)
	assert.False(t, chk.Entitled)
	assert.Equal(t, "removed from the tenant", chk.Reason)
}

func TestEnsureAccountKeepsPasswordOut(t *testing.T) {
	a, st, dir := newActs()
	in := workflows.EnsureAccountInput{GrantID: "grt_1", ApplicationID: "app_1", TechnicianEmail: "alice@msp.example", TechnicianDisplayName: "Alice", Domain: "contoso.com"}
	res, err := a.EnsureAccount(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, "jit-alice_msp.example@contoso.com", res.UPN)
	assert.True(t, res.Created)
	assert.NotEmpty(t, res.ObjectID)

	cred, ok := st.Credential("grt_1")
	require.True(t, ok)
	assert.Equal(t, res.UPN, cred.UPN)
	require.NoError(t, directory.ValidPassword(cred.Password))
	acct, _ := dir.Account(res.UPN)
	assert.Equal(t, cred.Password, acct.Password, "the stored password is the one set in the directory")

	// The result carries no password, in any encoding.
	b, _ := json.Marshal(res)
	assert.NotContains(t, string(b), cred.Password)

	// A second grant re-enables with a fresh password, by the id the first one recorded.
	st.AddGrant(pending("grt_0", time.Hour))
	require.NoError(t, st.RecordTransition(context.Background(), store.GrantUpdate{GrantID: "grt_0", Status: "expired",
		AccountUPN: res.UPN, AccountID: res.ObjectID}, nil))
	res2, err := a.EnsureAccount(context.Background(), in)
	require.NoError(t, err)
	assert.False(t, res2.Created)
	assert.Equal(t, res.ObjectID, res2.ObjectID)
	calls := dir.Calls()
	assert.Empty(t, calls[0].Known, "nothing known before the first grant")
	assert.Equal(t, res.ObjectID, calls[len(calls)-1].Known, "the id recorded by the earlier grant is handed to the directory")
	cred2, _ := st.Credential("grt_1")
	assert.NotEqual(t, cred.Password, cred2.Password)

	// An e-mail that cannot make a UPN fails for good.
	_, err = a.EnsureAccount(context.Background(), workflows.EnsureAccountInput{TechnicianEmail: "nope", Domain: "contoso.com"})
	assertAppError(t, err, activities.ErrTypeInvalidAccount, true, 0)
}

func TestAssignAndDisableRemovesEveryAssignment(t *testing.T) {
	ctx := context.Background()
	a, st, dir := newActs()
	acct, err := a.EnsureAccount(ctx, workflows.EnsureAccountInput{GrantID: "grt_1", ApplicationID: "app_1", TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
	require.NoError(t, err)
	got, err := a.AssignRoles(ctx, workflows.AssignRolesInput{GrantID: "grt_1", ApplicationID: "app_1", ObjectID: acct.ObjectID, RoleIDs: []string{"r1", "r2", "r3"}})
	require.NoError(t, err)
	assert.Len(t, got.AssignmentIDs, 3)
	dir.AddAssignment(acct.ObjectID, "ra-out-of-band")

	// The grant remembers one assignment; the disable removes all four.
	res, err := a.DisableAccount(ctx, workflows.DisableAccountInput{GrantID: "grt_1", ApplicationID: "app_1", ObjectID: acct.ObjectID, AssignmentIDs: got.AssignmentIDs[:1]})
	require.NoError(t, err)
	assert.Equal(t, 4, res.AssignmentsRemoved)
	assert.False(t, res.WasBlocked)
	d, _ := dir.Account(acct.ObjectID)
	assert.False(t, d.Enabled)
	assert.Empty(t, d.Assignments)
	_, ok := st.Credential("grt_1")
	assert.False(t, ok, "credential deleted")
	pws := dir.Passwords()
	assert.NotEqual(t, pws[0], pws[len(pws)-1], "scrambled to a new password")

	// Compensation without an object id finds the account by its UPN.
	_, err = a.EnsureAccount(ctx, workflows.EnsureAccountInput{GrantID: "grt_2", ApplicationID: "app_1", TechnicianEmail: "bob@msp.example", Domain: "contoso.com"})
	require.NoError(t, err)
	_, err = a.DisableAccount(ctx, workflows.DisableAccountInput{GrantID: "grt_2", ApplicationID: "app_1", UPN: "jit-bob_msp.example@contoso.com"})
	require.NoError(t, err)
	d, _ = dir.Account("jit-bob_msp.example@contoso.com")
	assert.False(t, d.Enabled)

	// Nothing to disable is success.
	_, err = a.DisableAccount(ctx, workflows.DisableAccountInput{GrantID: "grt_3", ApplicationID: "app_1", UPN: "jit-carol_msp.example@contoso.com"})
	require.NoError(t, err)
	assert.Contains(t, st.Deleted, "grt_3")
}

// A disable blocked by lost authorization records itself once, from the attempt that found
// it (the heartbeat carries the fact to later attempts), and reports the late disable.
func TestDisableBlockedIsRecordedOnce(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	a, st, dir := newActs()
	st.AddGrant(pending("grt_1", time.Hour))
	acct, err := a.EnsureAccount(context.Background(), workflows.EnsureAccountInput{GrantID: "grt_1", ApplicationID: "app_1", TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
	require.NoError(t, err)
	dir.SetDisableErr(directory.ErrAuthorizationLost)
	in := workflows.DisableAccountInput{GrantID: "grt_1", TenantID: "tnt_1", ApplicationID: "app_1", ObjectID: acct.ObjectID}

	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	var beats []bool
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var p struct{ Blocked bool }
		require.NoError(t, details.Get(&p))
		beats = append(beats, p.Blocked)
	})
	_, err = env.ExecuteActivity(workflows.DisableAccountActivity, in)
	assertAppError(t, err, activities.ErrTypeAuthorizationLost, false, time.Minute)
	assert.Equal(t, []string{workflows.ActionDisableBlocked}, st.Actions())
	assert.Equal(t, []bool{true}, beats, "the blocked state is heartbeaten at once, for the next attempt")
	// The event names its history (the store no longer looks the ids up).
	assert.NotEmpty(t, st.Audits[0].WorkflowID, "workflow id of the disable_blocked event")
	assert.NotEmpty(t, st.Audits[0].RunID, "run id of the disable_blocked event")
	row, _ := st.Row("grt_1")
	assert.Equal(t, "revoking", row.Status)
	assert.Contains(t, row.Failure, "authorization to the customer tenant was lost")

	// A later attempt (heartbeat details of the blocked one) records nothing more.
	env = ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	env.SetHeartbeatDetails(struct{ Blocked bool }{true})
	_, err = env.ExecuteActivity(workflows.DisableAccountActivity, in)
	require.Error(t, err)
	assert.Len(t, st.Actions(), 1, "recorded once, not on every attempt")

	dir.SetDisableErr(nil)
	v, err := env.ExecuteActivity(workflows.DisableAccountActivity, in)
	require.NoError(t, err)
	var res workflows.DisableAccountResult
	require.NoError(t, v.Get(&res))
	assert.True(t, res.WasBlocked)
}

func assertAppError(t *testing.T, err error, typ string, nonRetryable bool, delay time.Duration) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, typ, appErr.Type())
	assert.Equal(t, nonRetryable, appErr.NonRetryable(), "non-retryable")
	assert.Equal(t, delay, appErr.NextRetryDelay())
}

// Error mapping at the Temporal boundary, for provisioning and for disabling.
func TestDirectoryErrorMapping(t *testing.T) {
	tests := []struct {
		name string
		err  error
		// provisioning (EnsureAccount, AssignRoles)
		typ          string // "" = plain retryable error
		nonRetryable bool
		delay        time.Duration
		// disabling (DisableAccount): always retryable
		disableDelay time.Duration
	}{
		{name: "authorization lost", err: directory.ErrAuthorizationLost, typ: activities.ErrTypeAuthorizationLost, nonRetryable: true, disableDelay: time.Minute},
		{name: "wrapped authorization lost", err: fmt.Errorf("token: %w", directory.ErrAuthorizationLost), typ: activities.ErrTypeAuthorizationLost, nonRetryable: true, disableDelay: time.Minute},
		{name: "not authorized", err: directory.ErrNotAuthorized, typ: activities.ErrTypeNotAuthorized, nonRetryable: true, disableDelay: time.Minute},
		{name: "throttled with retry-after", err: &directory.ThrottledError{Op: "x", RetryAfter: 7 * time.Second}, typ: activities.ErrTypeThrottled, delay: 7 * time.Second, disableDelay: 7 * time.Second},
		{name: "throttled without retry-after", err: &directory.ThrottledError{Op: "x"}, typ: activities.ErrTypeThrottled},
		{name: "replication lag", err: &directory.ReplicationLagError{Op: "x", ObjectID: "o"}, typ: activities.ErrTypeReplicationLag},
		{name: "graph 400", err: &directory.GraphError{Op: "x", Status: 400, Code: "Request_BadRequest"}, typ: activities.ErrTypeGraphRejected, nonRetryable: true},
		{name: "graph 403", err: &directory.GraphError{Op: "x", Status: 403, Code: "Authorization_RequestDenied"}, typ: activities.ErrTypeGraphRejected, nonRetryable: true},
		{name: "graph 429", err: &directory.GraphError{Op: "x", Status: 429, Code: "TooManyRequests"}, typ: activities.ErrTypeThrottled},
		{name: "graph 503", err: &directory.GraphError{Op: "x", Status: 503}, typ: activities.ErrTypeGraphUnavailable},
		{name: "network", err: errors.New("connection refused")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a, _, dir := newActs()
			acct, err := a.EnsureAccount(ctx, workflows.EnsureAccountInput{GrantID: "g", ApplicationID: "app_1", TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
			require.NoError(t, err)

			dir.AssignErrs = []error{tc.err}
			_, err = a.AssignRoles(ctx, workflows.AssignRolesInput{ObjectID: acct.ObjectID, RoleIDs: []string{"r"}})
			checkMapped(t, err, tc.typ, tc.nonRetryable, tc.delay)

			dir.EnsureErrs = []error{tc.err}
			_, err = a.EnsureAccount(ctx, workflows.EnsureAccountInput{GrantID: "g", TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
			checkMapped(t, err, tc.typ, tc.nonRetryable, tc.delay)

			dir.DisableErrs = []error{tc.err}
			_, err = a.DisableAccount(ctx, workflows.DisableAccountInput{GrantID: "g", ObjectID: acct.ObjectID})
			checkMapped(t, err, tc.typ, false, tc.disableDelay)
		})
	}
}

func checkMapped(t *testing.T, err error, typ string, nonRetryable bool, delay time.Duration) {
	t.Helper()
	require.Error(t, err)
	if typ == "" {
		var appErr *temporal.ApplicationError
		assert.False(t, errors.As(err, &appErr), "plain error stays a plain (retryable) error")
		return
	}
	assertAppError(t, err, typ, nonRetryable, delay)
}

// Through the SDK's activity environment: registration by method name, and the error type
// and non-retryable flag survive serialization.
func TestActivityEnvironment(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	a, _, dir := newActs()
	env.RegisterActivity(a)

	v, err := env.ExecuteActivity(workflows.EnsureAccountActivity, workflows.EnsureAccountInput{GrantID: "g", ApplicationID: "app_1", TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
	require.NoError(t, err)
	var res workflows.AccountResult
	require.NoError(t, v.Get(&res))
	assert.True(t, strings.HasPrefix(res.UPN, "jit-alice"))

	dir.AssignErrs = []error{directory.ErrAuthorizationLost}
	_, err = env.ExecuteActivity(a.AssignRoles, workflows.AssignRolesInput{ObjectID: res.ObjectID, RoleIDs: []string{"r"}})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, activities.ErrTypeAuthorizationLost, appErr.Type())
	assert.True(t, appErr.NonRetryable())
}

// An attempt that ends within a heartbeat period sends no heartbeat: the SDK's first one is a
// synchronous server round trip and a write of the workflow's state, on the path to active.
func TestQuickAttemptsSendNoHeartbeat(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	a, st, _ := newActs()
	st.AddGrant(pending("grt_1", time.Hour))
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	beats := 0
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats++ })

	v, err := env.ExecuteActivity(workflows.EnsureAccountActivity, workflows.EnsureAccountInput{GrantID: "grt_1", ApplicationID: "app_1",
		TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
	require.NoError(t, err)
	var acct workflows.AccountResult
	require.NoError(t, v.Get(&acct))
	_, err = env.ExecuteActivity(workflows.AssignRolesActivity, workflows.AssignRolesInput{GrantID: "grt_1", ApplicationID: "app_1",
		ObjectID: acct.ObjectID, RoleIDs: []string{"role-1"}})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(workflows.DisableAccountActivity, workflows.DisableAccountInput{GrantID: "grt_1", ApplicationID: "app_1",
		ObjectID: acct.ObjectID})
	require.NoError(t, err)
	assert.Zero(t, beats, "heartbeats sent by attempts that took milliseconds")
}
