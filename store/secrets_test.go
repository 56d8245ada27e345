package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// dumpTables reads every column of every row of the tables that hold secrets, as text.
func dumpTables(t *testing.T, db *bun.DB) string {
	t.Helper()
	var sb strings.Builder
	for _, table := range []string{"api_tokens", "application_authorizations", "oauth_states", "grant_credentials", "technicians", "audit_events"} {
		rows, err := db.QueryContext(context.Background(), "SELECT * FROM "+table)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					sb.Write(x)
				case string:
					sb.WriteString(x)
				}
				sb.WriteByte('|')
			}
			sb.WriteByte('\n')
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
	}
	return sb.String()
}

func TestSecretsAreNotReadableAtRest(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, db *bun.DB) {
		ctx := context.Background()
		const (
			refreshToken = "refresh-token-SECRET-0123456789"
			password     = "Password-SECRET-!9876543210"
			verifier     = "code-verifier-SECRET-abcdefghijklmnop"
		)
		tn, err := st.CreateTenant(ctx, "Contoso")
		require.NoError(t, err)
		admin, apiToken, err := st.CreateTechnician(ctx, "admin@msp.example", "Admin", store.RoleAdmin)
		require.NoError(t, err)
		app, err := st.CreateApplication(ctx, tn.ID, store.NewApplication{Name: "Entra", Type: "web", Credentials: "entra_oidc"})
		require.NoError(t, err)
		_, err = st.SaveAuthorization(ctx, app.ID, directory.Consent{RefreshToken: refreshToken, Account: "admin@contoso.onmicrosoft.com", EntraTenantID: "tid"}, admin.ID)
		require.NoError(t, err)
		state, err := st.CreateOAuthState(ctx, app.ID, admin.ID, verifier, time.Minute)
		require.NoError(t, err)
		g, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "wf", TenantID: tn.ID, ApplicationID: app.ID, TechnicianID: admin.ID})
		require.NoError(t, err)
		require.NoError(t, st.SaveCredential(ctx, g.ID, "admin@contoso.com", password))

		raw := dumpTables(t, db)
		for name, secret := range map[string]string{"refresh token": refreshToken, "password": password, "code verifier": verifier,
			"API token": apiToken, "OAuth state": state} {
			require.NotContains(t, raw, secret, name)
			require.NotContains(t, raw, secret[4:20], name+" (fragment)")
		}
		require.Contains(t, raw, seal.HashToken(apiToken), "tokens are stored as their hash")
		require.Contains(t, raw, "v1.", "sealed values are present")

		// A sealed value moved to another row does not open: the additional data binds it.
		other, err := st.CreateApplication(ctx, tn.ID, store.NewApplication{Name: "Other", Type: "web", Credentials: "entra_oidc"})
		require.NoError(t, err)
		_, err = st.SaveAuthorization(ctx, other.ID, directory.Consent{RefreshToken: "x", Account: "a", EntraTenantID: "tid"}, admin.ID)
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, `UPDATE application_authorizations SET refresh_token_sealed = (SELECT refresh_token_sealed FROM application_authorizations WHERE application_id = ?) WHERE application_id = ?`, app.ID, other.ID)
		require.NoError(t, err)
		_, _, err = st.RefreshToken(ctx, other.ID)
		require.ErrorIs(t, err, seal.ErrOpen)
	})
}
