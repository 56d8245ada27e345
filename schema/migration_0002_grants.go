package schema

// grantsMigration creates the grants projection, the sealed credentials of live grants and
// the audit log.
func grantsMigration() migration {
	return migration{
		name: "20260601000002_grants",
		up: []string{
			`CREATE TABLE grants (
				id TEXT PRIMARY KEY,
				workflow_id TEXT NOT NULL,
				run_id TEXT NOT NULL,
				tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
				application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
				technician_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
				status TEXT NOT NULL CHECK (status IN ('pending', 'provisioning', 'active', 'revoking', 'expired', 'revoked', 'denied', 'failed')),
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
			)`,
			`CREATE INDEX grants_requested_idx ON grants (requested_at, id)`,
			`CREATE INDEX grants_technician_idx ON grants (technician_id, requested_at)`,
			`CREATE INDEX grants_tenant_idx ON grants (tenant_id, requested_at)`,
			`CREATE INDEX grants_application_idx ON grants (application_id)`,
			`CREATE INDEX grants_status_idx ON grants (status)`,
			`CREATE TABLE grant_credentials (
				grant_id TEXT PRIMARY KEY REFERENCES grants (id) ON DELETE CASCADE,
				upn TEXT NOT NULL,
				password_sealed TEXT NOT NULL,
				key_id TEXT NOT NULL,
				created_at {{ts}} NOT NULL
			)`,
			`CREATE TABLE audit_events (
				id TEXT PRIMARY KEY,
				created_at {{ts}} NOT NULL,
				tenant_id TEXT,
				actor_id TEXT NOT NULL,
				actor_kind TEXT NOT NULL,
				action TEXT NOT NULL,
				target TEXT NOT NULL,
				details TEXT NOT NULL DEFAULT '{}'
			)`,
			`CREATE INDEX audit_events_created_idx ON audit_events (created_at, id)`,
			`CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, created_at)`,
		},
		down: []string{
			`DROP TABLE IF EXISTS audit_events`,
			`DROP TABLE IF EXISTS grant_credentials`,
			`DROP TABLE IF EXISTS grants`,
		},
	}
}
