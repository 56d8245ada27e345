package schema

import "strings"

// grantClaimsMigration lets the API create a grant's row before its run exists and the run
// claim it: run_id may be empty until then, first_run_id records the run chain that claimed
// the row (stable across Reset and continue-as-new), requested_seconds the duration asked for.
// account_lock holds the account name of a live grant (unique: one account, one live grant;
// rows of earlier versions keep it empty). Statuses gain pending_approval, expired_unapproved
// and terminated (SPEC §10).
func grantClaimsMigration() migration {
	return migration{
		name: "20261130000004_grant_claims",
		up: []string{
			`ALTER TABLE grants DROP CONSTRAINT grants_status_check`,
			`ALTER TABLE grants ADD CONSTRAINT grants_status_check CHECK (status IN (` + grantStatusesV4 + `))`,
			`ALTER TABLE grants ALTER COLUMN run_id DROP NOT NULL`,
			`ALTER TABLE grants ADD COLUMN first_run_id TEXT`,
			`ALTER TABLE grants ADD COLUMN requested_seconds BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE grants ADD COLUMN account_lock TEXT`,
			`UPDATE grants SET first_run_id = run_id`,
			`CREATE UNIQUE INDEX grants_first_run_idx ON grants (first_run_id)`,
			`CREATE UNIQUE INDEX grants_account_lock_idx ON grants (account_lock)`,
		},
		down: []string{
			`DROP INDEX grants_account_lock_idx`,
			`DROP INDEX grants_first_run_idx`,
			`ALTER TABLE grants DROP COLUMN account_lock`,
			`ALTER TABLE grants DROP COLUMN requested_seconds`,
			`ALTER TABLE grants DROP COLUMN first_run_id`,
			`UPDATE grants SET run_id = id WHERE run_id IS NULL`,
			`ALTER TABLE grants ALTER COLUMN run_id SET NOT NULL`,
			`UPDATE grants SET status = 'failed' WHERE status IN ('pending_approval', 'expired_unapproved', 'terminated')`,
			`ALTER TABLE grants DROP CONSTRAINT grants_status_check`,
			`ALTER TABLE grants ADD CONSTRAINT grants_status_check CHECK (status IN (` + grantStatusesV2 + `))`,
		},
		sqliteUp: rebuildGrantsSQLite(grantsTableV4, grantColumnsV2+", first_run_id, requested_seconds",
			grantColumnsV2+", run_id, 0", `CREATE UNIQUE INDEX grants_first_run_idx ON grants (first_run_id)`,
			`CREATE UNIQUE INDEX grants_account_lock_idx ON grants (account_lock)`),
		sqliteDown: rebuildGrantsSQLite(grantsTableV2, grantColumnsV2,
			strings.Replace(grantColumnsV2, "status", "CASE WHEN status IN ('pending_approval', 'expired_unapproved', 'terminated') THEN 'failed' ELSE status END", 1)),
	}
}

const (
	grantStatusesV2 = `'pending', 'provisioning', 'active', 'revoking', 'expired', 'revoked', 'denied', 'failed'`
	grantStatusesV4 = grantStatusesV2 + `, 'pending_approval', 'expired_unapproved', 'terminated'`
	grantColumnsV2  = `id, workflow_id, run_id, tenant_id, application_id, technician_id, status, justification, requested_at, ` +
		`activated_at, expires_at, ended_at, account_upn, account_id, roles, failure, revoked_by, updated_at`
	grantsTableV2 = `CREATE TABLE grants (
		id TEXT PRIMARY KEY,
		workflow_id TEXT NOT NULL,
		run_id TEXT NOT NULL,
		tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
		application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
		technician_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
		status TEXT NOT NULL CHECK (status IN (` + grantStatusesV2 + `)),
		justification TEXT NOT NULL DEFAULT '',
		requested_at {{ts}} NOT NULL,
		activated_at {{ts}},
		expires_at {{ts}},
		ended_at {{ts}},
		account_upn TEXT,
		account_id TEXT,
		roles TEXT NOT NULL DEFAULT '[]',
		failure TEXT,
		revoked_by TEXT,
		updated_at {{ts}} NOT NULL,
		CONSTRAINT grants_workflow_run_unique UNIQUE (workflow_id, run_id)
	)`
	grantsTableV4 = `CREATE TABLE grants (
		id TEXT PRIMARY KEY,
		workflow_id TEXT NOT NULL,
		run_id TEXT,
		tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
		application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
		technician_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
		status TEXT NOT NULL CHECK (status IN (` + grantStatusesV4 + `)),
		justification TEXT NOT NULL DEFAULT '',
		requested_at {{ts}} NOT NULL,
		activated_at {{ts}},
		expires_at {{ts}},
		ended_at {{ts}},
		account_upn TEXT,
		account_id TEXT,
		roles TEXT NOT NULL DEFAULT '[]',
		failure TEXT,
		revoked_by TEXT,
		updated_at {{ts}} NOT NULL,
		first_run_id TEXT,
		requested_seconds BIGINT NOT NULL DEFAULT 0,
		account_lock TEXT,
		CONSTRAINT grants_workflow_run_unique UNIQUE (workflow_id, run_id)
	)`
)

// rebuildGrantsSQLite replaces the grants table by one made with create (SQLite cannot alter
// a constraint), copying into columns the values of selected, and rebuilds grant_credentials
// with it so that no foreign key cascade deletes a credential. The renamed old tables carry
// the references and indexes away and are dropped once empty of dependents.
func rebuildGrantsSQLite(create, columns, selected string, indexes ...string) []string {
	stmts := []string{
		`ALTER TABLE grant_credentials RENAME TO grant_credentials_old`,
		`ALTER TABLE grants RENAME TO grants_old`,
		create,
		`INSERT INTO grants (` + columns + `) SELECT ` + selected + ` FROM grants_old`,
		`CREATE TABLE grant_credentials (
			grant_id TEXT PRIMARY KEY REFERENCES grants (id) ON DELETE CASCADE,
			upn TEXT NOT NULL,
			password_sealed TEXT NOT NULL,
			key_id TEXT NOT NULL,
			created_at {{ts}} NOT NULL
		)`,
		`INSERT INTO grant_credentials (grant_id, upn, password_sealed, key_id, created_at)
			SELECT grant_id, upn, password_sealed, key_id, created_at FROM grant_credentials_old`,
		`DROP TABLE grant_credentials_old`,
		`DROP TABLE grants_old`,
		`CREATE INDEX grants_requested_idx ON grants (requested_at, id)`,
		`CREATE INDEX grants_technician_idx ON grants (technician_id, requested_at)`,
		`CREATE INDEX grants_tenant_idx ON grants (tenant_id, requested_at)`,
		`CREATE INDEX grants_application_idx ON grants (application_id)`,
		`CREATE INDEX grants_status_idx ON grants (status)`,
	}
	return append(stmts, indexes...)
}
