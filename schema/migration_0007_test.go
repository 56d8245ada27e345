package schema_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/testenv"
)

// TestGrantStatusesWidened checks, on both databases, that the grants table accepts the
// statuses of SPEC §10 after migration 07 and still refuses an unknown one.
func TestGrantStatusesWidened(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db := testenv.MigratedDB(t, d)
			now := time.Now().UTC()
			for _, q := range []string{
				`INSERT INTO tenants (id, name, created_at) VALUES ('tnt_1', 'T', ?)`,
				`INSERT INTO technicians (id, email, display_name, role, created_at) VALUES ('tec_1', 'a@b.c', 'A', 'technician', ?)`,
				`INSERT INTO applications (id, tenant_id, name, type, credentials, access_duration, roles, status, created_at, updated_at)
				 VALUES ('app_1', 'tnt_1', 'A', 'web', 'entra_oidc', 1, '[]', 'unauthorized', ?, ?)`,
			} {
				args := make([]any, strings.Count(q, "?"))
				for i := range args {
					args[i] = now
				}
				_, err := db.ExecContext(ctx, q, args...)
				require.NoError(t, err, q)
			}
			insert := func(id, status string) error {
				_, err := db.ExecContext(ctx, `INSERT INTO grants (id, workflow_id, run_id, tenant_id, application_id, technician_id, status, requested_at, updated_at)
					VALUES (?, ?, 'r', 'tnt_1', 'app_1', 'tec_1', ?, ?, ?)`, id, "wf-"+id, status, now, now)
				return err
			}
			for _, st := range []string{"active", "terminated", "pending_approval", "expired_unapproved"} {
				require.NoError(t, insert("grt_"+st, st), st)
			}
			require.Error(t, insert("grt_bogus", "bogus"), "an unknown status must still be refused")
		})
	}
}
