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
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// *store.Store is what cmd/jitaccess wires in.
var _ activities.Store = (*store.Store)(nil)

func newActs() (*activities.Activities, *activitiestest.Store, *activitiestest.Directory) {
	st := &activitiestest.Store{Entitlement: store.Entitlement{
		Allowed: true, RuleID: "ent_1", RuleName: "All admins",
		Application: store.ApplicationConfig{ID: "app_1", Name: "Contoso", Domain: "contoso.com", Roles: []string{"r1", "r2"}},
		Technician:  store.Technician{ID: "tec_1", Email: "alice@msp.example", DisplayName: "Alice"},
	}}
	dir := &activitiestest.Directory{}
	return &activities.Activities{Store: st, Directory: dir}, st, dir
}

func TestCheckEntitlement(t *testing.T) {
	ctx := context.Background()
	a, st, _ := newActs()

	res, err := a.CheckEntitlement(ctx, activities.CheckEntitlementInput{TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1"})
	require.NoError(t, err)
	assert.Equal(t, activities.EntitlementResult{
		Allowed: true, RuleID: "ent_1", RuleName: "All admins", ApplicationName: "Contoso",
		Domain: "contoso.com", Roles: []string{"r1", "r2"},
		TechnicianEmail: "alice@msp.example", TechnicianDisplayName: "Alice",
	}, res)

	// A denial is a result, not an error.
	st.Entitlement = store.Entitlement{Allowed: false, Reason: "no rule"}
	res, err = a.CheckEntitlement(ctx, activities.CheckEntitlementInput{})
	require.NoError(t, err)
	assert.False(t, res.Allowed)
	assert.Equal(t, "no rule", res.Reason)

	// Entitled but not provisionable.
	st.Entitlement = store.Entitlement{Allowed: true, Technician: store.Technician{Email: "a@b.c"}}
	res, err = a.CheckEntitlement(ctx, activities.CheckEntitlementInput{})
	require.NoError(t, err)
	assert.False(t, res.Allowed)
	assert.Contains(t, res.Reason, "not ready")

	st.EntitlementErr = errors.New("db down")
	_, err = a.CheckEntitlement(ctx, activities.CheckEntitlementInput{})
	require.ErrorContains(t, err, "db down")
}

func TestRecordGrantWritesProjectionAndAudit(t *testing.T) {
	a, st, _ := newActs()
	exp := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	err := a.RecordGrant(context.Background(), activities.RecordGrantInput{
		GrantUpdate: store.GrantUpdate{GrantID: "grt_1", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_1",
			Status: store.StatusRevoked, ExpiresAt: exp, RevokedBy: "tec_2"},
		Action: activities.ActionRevoked, ActorID: "tec_2", ActorKind: "admin", Reason: "done",
	})
	require.NoError(t, err)
	require.Len(t, st.Grants, 1)
	assert.Equal(t, store.StatusRevoked, st.Grants[0].Status)
	assert.Equal(t, exp, st.Grants[0].ExpiresAt)
	require.Len(t, st.Audits, 1)
	ev := st.Audits[0]
	assert.Equal(t, "tnt_1", ev.TenantID)
	assert.Equal(t, "tec_2", ev.ActorID)
	assert.Equal(t, "admin", ev.ActorKind)
	assert.Equal(t, "grant.revoked", ev.Action)
	assert.Equal(t, "grt_1", ev.Target)
	assert.Equal(t, "done", ev.Details["reason"])

	// No action: projection only. System actor by default.
	require.NoError(t, a.RecordGrant(context.Background(), activities.RecordGrantInput{GrantUpdate: store.GrantUpdate{GrantID: "grt_1", Status: store.StatusProvisioning}}))
	assert.Len(t, st.Audits, 1)
	require.NoError(t, a.RecordGrant(context.Background(), activities.RecordGrantInput{GrantUpdate: store.GrantUpdate{GrantID: "grt_1", Status: store.StatusExpired}, Action: activities.ActionExpired}))
	assert.Equal(t, "system", st.Audits[1].ActorKind)

	st.RecordGrantErrs = []error{errors.New("db down")}
	require.ErrorContains(t, a.RecordGrant(context.Background(), activities.RecordGrantInput{GrantUpdate: store.GrantUpdate{GrantID: "grt_1"}}), "db down")
}

func TestEnsureAccountKeepsPasswordOut(t *testing.T) {
	a, st, dir := newActs()
	in := activities.EnsureAccountInput{GrantID: "grt_1", ApplicationID: "app_1", TechnicianEmail: "alice@msp.example", TechnicianDisplayName: "Alice", Domain: "contoso.com"}
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
	require.NoError(t, st.RecordTransition(context.Background(), store.GrantUpdate{GrantID: "grt_0", Status: store.StatusExpired,
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
	_, err = a.EnsureAccount(context.Background(), activities.EnsureAccountInput{TechnicianEmail: "nope", Domain: "contoso.com"})
	assertAppError(t, err, activities.ErrTypeInvalidAccount, true, 0)
}

func TestAssignAndDisable(t *testing.T) {
	ctx := context.Background()
	a, st, dir := newActs()
	acct, err := a.EnsureAccount(ctx, activities.EnsureAccountInput{GrantID: "grt_1", ApplicationID: "app_1", TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
	require.NoError(t, err)
	got, err := a.AssignRoles(ctx, activities.AssignRolesInput{GrantID: "grt_1", ApplicationID: "app_1", ObjectID: acct.ObjectID, RoleIDs: []string{"r1", "r2", "r3"}})
	require.NoError(t, err)
	assert.Len(t, got.AssignmentIDs, 3)

	require.NoError(t, a.DisableAccount(ctx, activities.DisableAccountInput{GrantID: "grt_1", ApplicationID: "app_1", ObjectID: acct.ObjectID, AssignmentIDs: got.AssignmentIDs}))
	d, _ := dir.Account(acct.ObjectID)
	assert.False(t, d.Enabled)
	assert.Empty(t, d.Assignments)
	_, ok := st.Credential("grt_1")
	assert.False(t, ok, "credential deleted")
	pws := dir.Passwords()
	assert.NotEqual(t, pws[0], pws[len(pws)-1], "scrambled to a new password")

	// Compensation without an object id finds the account by its UPN.
	_, err = a.EnsureAccount(ctx, activities.EnsureAccountInput{GrantID: "grt_2", ApplicationID: "app_1", TechnicianEmail: "bob@msp.example", Domain: "contoso.com"})
	require.NoError(t, err)
	require.NoError(t, a.DisableAccount(ctx, activities.DisableAccountInput{GrantID: "grt_2", ApplicationID: "app_1", TechnicianEmail: "bob@msp.example", Domain: "contoso.com"}))
	d, _ = dir.Account("jit-bob_msp.example@contoso.com")
	assert.False(t, d.Enabled)

	// Nothing to disable is success.
	require.NoError(t, a.DisableAccount(ctx, activities.DisableAccountInput{GrantID: "grt_3", ApplicationID: "app_1", TechnicianEmail: "carol@msp.example", Domain: "contoso.com"}))
	assert.Contains(t, st.Deleted, "grt_3")
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
			acct, err := a.EnsureAccount(ctx, activities.EnsureAccountInput{GrantID: "g", ApplicationID: "app_1", TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
			require.NoError(t, err)

			dir.AssignErrs = []error{tc.err}
			_, err = a.AssignRoles(ctx, activities.AssignRolesInput{ObjectID: acct.ObjectID, RoleIDs: []string{"r"}})
			checkMapped(t, err, tc.typ, tc.nonRetryable, tc.delay)

			dir.EnsureErrs = []error{tc.err}
			_, err = a.EnsureAccount(ctx, activities.EnsureAccountInput{GrantID: "g", TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
			checkMapped(t, err, tc.typ, tc.nonRetryable, tc.delay)

			dir.DisableErrs = []error{tc.err}
			err = a.DisableAccount(ctx, activities.DisableAccountInput{GrantID: "g", ObjectID: acct.ObjectID})
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

	v, err := env.ExecuteActivity(activities.EnsureAccountName, activities.EnsureAccountInput{GrantID: "g", ApplicationID: "app_1", TechnicianEmail: "alice@msp.example", Domain: "contoso.com"})
	require.NoError(t, err)
	var res activities.AccountResult
	require.NoError(t, v.Get(&res))
	assert.True(t, strings.HasPrefix(res.UPN, "jit-alice"))

	dir.AssignErrs = []error{directory.ErrAuthorizationLost}
	_, err = env.ExecuteActivity(a.AssignRoles, activities.AssignRolesInput{ObjectID: res.ObjectID, RoleIDs: []string{"r"}})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, activities.ErrTypeAuthorizationLost, appErr.Type())
	assert.True(t, appErr.NonRetryable())
}
