package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store"
)

func TestTokensRevokeExpireAndDeactivate(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		now := time.Now()
		clock := func() time.Time { return now }
		st = st.WithClock(func() time.Time { return clock() })
		tech, first, err := st.CreateTechnician(ctx, "tok@msp.example", "Tok", "")
		require.NoError(t, err)

		clock = func() time.Time { return now.Add(time.Second) }
		short, shortPlain, err := st.CreateToken(ctx, store.NewToken{TechnicianID: tech.ID, Name: "ci", ExpiresAt: now.Add(time.Hour)})
		require.NoError(t, err)
		require.Equal(t, "ci", short.Name)
		_, err = st.Authenticate(ctx, shortPlain)
		require.NoError(t, err)
		toks, err := st.Tokens(ctx, tech.ID)
		require.NoError(t, err)
		require.Len(t, toks, 2)
		require.Equal(t, short.ID, toks[0].ID)
		require.False(t, toks[0].LastUsedAt.IsZero(), "last used is recorded")

		// Expired: refused from the expiry on.
		clock = func() time.Time { return now.Add(time.Hour) }
		_, err = st.Authenticate(ctx, shortPlain)
		require.ErrorIs(t, err, store.ErrUnauthenticated)

		// Revoked: refused at once.
		_, err = st.Authenticate(ctx, first)
		require.NoError(t, err)
		revoked, err := st.RevokeToken(ctx, toks[1].ID)
		require.NoError(t, err)
		require.False(t, revoked.RevokedAt.IsZero())
		_, err = st.Authenticate(ctx, first)
		require.ErrorIs(t, err, store.ErrUnauthenticated)

		// Deactivated: every token and session ends; reactivating does not bring them back.
		_, live, err := st.CreateToken(ctx, store.NewToken{TechnicianID: tech.ID, Name: "laptop"})
		require.NoError(t, err)
		sid, _, err := st.CreateSession(ctx, tech.ID, time.Hour, "127.0.0.1", "test")
		require.NoError(t, err)
		_, _, err = st.Session(ctx, sid, time.Hour)
		require.NoError(t, err)
		off, err := st.SetTechnicianActive(ctx, tech.ID, false)
		require.NoError(t, err)
		require.False(t, off.Active)
		require.False(t, off.DeactivatedAt.IsZero())
		_, err = st.Authenticate(ctx, live)
		require.ErrorIs(t, err, store.ErrUnauthenticated)
		_, _, err = st.Session(ctx, sid, time.Hour)
		require.ErrorIs(t, err, store.ErrNotFound)
		on, err := st.SetTechnicianActive(ctx, tech.ID, true)
		require.NoError(t, err)
		require.True(t, on.Active)
		_, err = st.Authenticate(ctx, live)
		require.ErrorIs(t, err, store.ErrUnauthenticated)
		_, err = st.SetTechnicianActive(ctx, "tec_missing", false)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

// TestDeactivatedStaffIsNotEntitled: the authoritative check the worker runs refuses a
// deactivated person whatever the rules say.
func TestDeactivatedStaffIsNotEntitled(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		_, err := st.CreateRule(ctx, store.Rule{TenantID: f.tenant.ID, Name: "all", ConditionType: "group", GroupID: store.AllAdminsGroupID, ApplicationID: f.app.ID})
		require.NoError(t, err)
		ent, err := st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.True(t, ent.Allowed, ent.Reason)
		_, err = st.SetTechnicianActive(ctx, f.tech.ID, false)
		require.NoError(t, err)
		ent, err = st.CheckEntitlement(ctx, f.tenant.ID, f.app.ID, f.tech.ID)
		require.NoError(t, err)
		require.False(t, ent.Allowed)
		require.Contains(t, ent.Reason, "deactivated")

		// A token narrowed to technician acts as one, whoever holds it.
		_, plain, err := st.CreateToken(ctx, store.NewToken{TechnicianID: f.admin.ID, Name: "ext", Role: store.RoleTechnician})
		require.NoError(t, err)
		who, err := st.Authenticate(ctx, plain)
		require.NoError(t, err)
		require.Equal(t, store.RoleTechnician, who.Role)
	})
}

func TestStaffForSignInLinksTidOid(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		alice, _, err := st.CreateTechnician(ctx, "alice@msp.example", "Alice", "")
		require.NoError(t, err)

		// First sign-in links the record to (tid, oid).
		got, err := st.StaffForSignIn(ctx, store.SignInIdentity{TenantID: "tid-msp", ObjectID: "oid-alice", Emails: []string{"Alice@msp.example"}})
		require.NoError(t, err)
		require.Equal(t, alice.ID, got.ID)
		// Afterwards the identity finds her whatever her e-mail says.
		got, err = st.StaffForSignIn(ctx, store.SignInIdentity{TenantID: "tid-msp", ObjectID: "oid-alice", Emails: []string{"alice.renamed@msp.example"}})
		require.NoError(t, err)
		require.Equal(t, alice.ID, got.ID)
		// Another user renamed to alice's e-mail does not become alice.
		_, err = st.StaffForSignIn(ctx, store.SignInIdentity{TenantID: "tid-msp", ObjectID: "oid-mallory", Emails: []string{"alice@msp.example"}})
		require.ErrorIs(t, err, store.ErrIdentityMismatch)
		// Nor does the same object id from another tenant.
		_, err = st.StaffForSignIn(ctx, store.SignInIdentity{TenantID: "tid-other", ObjectID: "oid-alice", Emails: []string{"alice@msp.example"}})
		require.ErrorIs(t, err, store.ErrIdentityMismatch)
		_, err = st.StaffForSignIn(ctx, store.SignInIdentity{TenantID: "tid-msp", ObjectID: "oid-nobody", Emails: []string{"nobody@msp.example"}})
		require.ErrorIs(t, err, store.ErrNotFound)

		_, err = st.SetTechnicianActive(ctx, alice.ID, false)
		require.NoError(t, err)
		_, err = st.StaffForSignIn(ctx, store.SignInIdentity{TenantID: "tid-msp", ObjectID: "oid-alice"})
		require.ErrorIs(t, err, store.ErrInactive)

		has, err := st.HasAdmin(ctx)
		require.NoError(t, err)
		require.False(t, has)
		_, err = st.EnsureAdmin(ctx, "root@msp.example", "Root")
		require.NoError(t, err)
		has, err = st.HasAdmin(ctx)
		require.NoError(t, err)
		require.True(t, has)
	})
}

func TestPortalLoginSealedSingleUseBounded(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, db *bun.DB) {
		ctx := context.Background()
		verifier := strings.Repeat("v", 43)
		state, err := st.CreatePortalLogin(ctx, "nonce-1", verifier, "/my", time.Minute, 2)
		require.NoError(t, err)
		var row schema.PortalLogin
		require.NoError(t, db.NewSelect().Model(&row).Limit(1).Scan(ctx))
		require.NotContains(t, row.CodeVerifierSealed, verifier, "the PKCE verifier is sealed at rest")
		require.NotContains(t, row.StateHash, state)

		_, err = st.CreatePortalLogin(ctx, "nonce-2", verifier, "/", time.Minute, 2)
		require.NoError(t, err)
		_, err = st.CreatePortalLogin(ctx, "nonce-3", verifier, "/", time.Minute, 2)
		require.ErrorIs(t, err, store.ErrTooManySignIns, "pending sign-ins are bounded")

		login, err := st.ConsumePortalLogin(ctx, state)
		require.NoError(t, err)
		require.Equal(t, store.PortalLogin{Nonce: "nonce-1", CodeVerifier: verifier, ReturnTo: "/my"}, login)
		_, err = st.ConsumePortalLogin(ctx, state)
		require.ErrorIs(t, err, store.ErrInvalidState)

		// Expired sign-ins are swept, which makes room again.
		later := st.WithClock(func() time.Time { return time.Now().Add(2 * time.Minute) })
		_, err = later.CreatePortalLogin(ctx, "nonce-4", verifier, "/", time.Minute, 1)
		require.NoError(t, err)
	})
}
