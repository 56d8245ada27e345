package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// grantStatusesV1 are the statuses the grants table accepted before this step; grantStatusesV2
// adds those of SPEC §10 (the reconciler's `terminated`, and the approval statuses, so that no
// later step has to widen the check again).
const (
	grantStatusesV1 = `'pending', 'provisioning', 'active', 'revoking', 'expired', 'revoked', 'denied', 'failed'`
	grantStatusesV2 = grantStatusesV1 + `, 'pending_approval', 'expired_unapproved', 'terminated'`
)

// reconcileMigration widens the grants' status check to the statuses of SPEC §10 and indexes
// grants by directory account, so that the reconciler's sweep of the accounts jitaccess
// created costs O(accounts created), not a scan of every grant.
func reconcileMigration() migration {
	return migration{
		name: "20261130000007_reconcile",
		up: []string{
			`CREATE INDEX grants_account_idx ON grants (account_id, application_id)`,
		},
		upTx: func(ctx context.Context, tx bun.Tx) error {
			return setGrantStatuses(ctx, tx, grantStatusesV1, grantStatusesV2)
		},
		down: []string{
			`DROP INDEX IF EXISTS grants_account_idx`,
		},
		downTx: func(ctx context.Context, tx bun.Tx) error {
			return setGrantStatuses(ctx, tx, grantStatusesV2, grantStatusesV1)
		},
	}
}

// setGrantStatuses replaces the grants' status check. PostgreSQL alters the named
// constraint; SQLite cannot alter a constraint, so the table's definition is edited in
// sqlite_schema, the procedure SQLite documents for changing a CHECK constraint
// (sqlite.org/lang_altertable.html, "making other kinds of table schema changes"): the rows
// are untouched, which is safe here because the new check accepts every value the old did
// (and the down step runs only on a database without the new statuses).
func setGrantStatuses(ctx context.Context, tx bun.Tx, from, to string) error {
	if IsPostgres(tx) {
		for _, s := range []string{
			`ALTER TABLE grants DROP CONSTRAINT IF EXISTS grants_status_check`,
			`ALTER TABLE grants ADD CONSTRAINT grants_status_check CHECK (status IN (` + to + `))`,
		} {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	}
	var version int64
	if err := tx.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&version); err != nil {
		return fmt.Errorf("read schema_version: %w", err)
	}
	var def string
	if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'grants'`).Scan(&def); err != nil {
		return fmt.Errorf("read the grants table's definition: %w", err)
	}
	old, repl := `CHECK (status IN (`+from+`))`, `CHECK (status IN (`+to+`))`
	if !strings.Contains(def, old) {
		return fmt.Errorf("the grants table's status check is not the expected one")
	}
	for _, s := range []string{
		`PRAGMA writable_schema = ON`,
		fmt.Sprintf(`UPDATE sqlite_schema SET sql = '%s' WHERE type = 'table' AND name = 'grants'`, strings.ReplaceAll(strings.Replace(def, old, repl, 1), "'", "''")),
		fmt.Sprintf(`PRAGMA schema_version = %d`, version+1),
		`PRAGMA writable_schema = OFF`,
	} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s), err)
		}
	}
	var check string
	if err := tx.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		return fmt.Errorf("integrity check after widening the status check: %q %v", check, err)
	}
	return nil
}
