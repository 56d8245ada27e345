package schema

// initialMigration creates the MSP's configuration: tenants, staff and their tokens,
// memberships, groups, applications with their consent, OAuth states and entitlement rules.
func initialMigration() migration {
	return migration{
		name: "20260601000001_initial",
		up: []string{
			`CREATE TABLE tenants (
				id TEXT PRIMARY KEY,
				name TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				CONSTRAINT tenants_name_unique UNIQUE (name)
			)`,
			`CREATE TABLE technicians (
				id TEXT PRIMARY KEY,
				email TEXT NOT NULL,
				display_name TEXT NOT NULL,
				role TEXT NOT NULL CHECK (role IN ('admin', 'technician')),
				created_at {{ts}} NOT NULL,
				CONSTRAINT technicians_email_unique UNIQUE (email)
			)`,
			`CREATE TABLE api_tokens (
				id TEXT PRIMARY KEY,
				technician_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
				hash TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				last_used_at {{ts}},
				CONSTRAINT api_tokens_hash_unique UNIQUE (hash)
			)`,
			`CREATE INDEX api_tokens_technician_idx ON api_tokens (technician_id)`,
			`CREATE TABLE tenant_members (
				tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
				technician_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
				created_at {{ts}} NOT NULL,
				PRIMARY KEY (tenant_id, technician_id)
			)`,
			`CREATE INDEX tenant_members_technician_idx ON tenant_members (technician_id)`,
			`CREATE TABLE "groups" (
				id TEXT PRIMARY KEY,
				tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
				name TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				CONSTRAINT groups_tenant_name_unique UNIQUE (tenant_id, name)
			)`,
			`CREATE TABLE group_members (
				group_id TEXT NOT NULL REFERENCES "groups" (id) ON DELETE CASCADE,
				technician_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
				created_at {{ts}} NOT NULL,
				PRIMARY KEY (group_id, technician_id)
			)`,
			`CREATE INDEX group_members_technician_idx ON group_members (technician_id)`,
			`CREATE TABLE applications (
				id TEXT PRIMARY KEY,
				tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
				name TEXT NOT NULL,
				type TEXT NOT NULL,
				credentials TEXT NOT NULL,
				access_duration BIGINT NOT NULL,
				domain TEXT,
				roles TEXT NOT NULL DEFAULT '[]',
				status TEXT NOT NULL CHECK (status IN ('unauthorized', 'authorized', 'ready')),
				created_at {{ts}} NOT NULL,
				updated_at {{ts}} NOT NULL,
				CONSTRAINT applications_tenant_name_unique UNIQUE (tenant_id, name)
			)`,
			`CREATE TABLE application_authorizations (
				application_id TEXT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
				refresh_token_sealed TEXT NOT NULL,
				key_id TEXT NOT NULL,
				account TEXT NOT NULL,
				display_name TEXT NOT NULL,
				entra_tenant_id TEXT NOT NULL,
				authorized_at {{ts}} NOT NULL,
				authorized_by TEXT REFERENCES technicians (id) ON DELETE SET NULL,
				updated_at {{ts}} NOT NULL
			)`,
			`CREATE TABLE oauth_states (
				state_hash TEXT PRIMARY KEY,
				application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
				admin_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
				code_verifier_sealed TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				expires_at {{ts}} NOT NULL,
				used_at {{ts}}
			)`,
			`CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at)`,
			`CREATE TABLE entitlements (
				id TEXT PRIMARY KEY,
				tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
				name TEXT NOT NULL,
				condition_type TEXT NOT NULL,
				group_id TEXT REFERENCES "groups" (id) ON DELETE CASCADE,
				builtin_group TEXT,
				technician_id TEXT REFERENCES technicians (id) ON DELETE CASCADE,
				application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
				created_at {{ts}} NOT NULL,
				CONSTRAINT entitlements_tenant_name_unique UNIQUE (tenant_id, name),
				CONSTRAINT entitlements_condition_check CHECK (
					(condition_type = 'group' AND technician_id IS NULL
						AND ((group_id IS NOT NULL AND builtin_group IS NULL) OR (group_id IS NULL AND builtin_group = 'all-admins')))
					OR (condition_type = 'technician' AND technician_id IS NOT NULL AND group_id IS NULL AND builtin_group IS NULL)
				)
			)`,
			`CREATE INDEX entitlements_application_idx ON entitlements (application_id)`,
		},
		down: []string{
			`DROP TABLE IF EXISTS entitlements`,
			`DROP TABLE IF EXISTS oauth_states`,
			`DROP TABLE IF EXISTS application_authorizations`,
			`DROP TABLE IF EXISTS applications`,
			`DROP TABLE IF EXISTS group_members`,
			`DROP TABLE IF EXISTS "groups"`,
			`DROP TABLE IF EXISTS tenant_members`,
			`DROP TABLE IF EXISTS api_tokens`,
			`DROP TABLE IF EXISTS technicians`,
			`DROP TABLE IF EXISTS tenants`,
		},
	}
}
