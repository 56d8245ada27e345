package schema

// staffIdentityMigration links staff to their Entra identity (tenant id, object id), lets
// staff be deactivated, gives API tokens a name, a role (at most the holder's), an expiry and a revocation time, and drops
// pending portal sign-ins whose PKCE verifier was stored in clear (they live 10 minutes; from
// now on the column holds the sealed verifier).
func staffIdentityMigration() migration {
	return migration{
		name: "20261130000005_staff_identity",
		up: []string{
			`ALTER TABLE technicians ADD COLUMN entra_tenant_id TEXT`,
			`ALTER TABLE technicians ADD COLUMN entra_object_id TEXT`,
			`ALTER TABLE technicians ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE`,
			`ALTER TABLE technicians ADD COLUMN deactivated_at {{ts}}`,
			`CREATE UNIQUE INDEX technicians_entra_identity_idx ON technicians (entra_tenant_id, entra_object_id)`,
			`ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE api_tokens ADD COLUMN expires_at {{ts}}`,
			`ALTER TABLE api_tokens ADD COLUMN revoked_at {{ts}}`,
			`DELETE FROM portal_logins`,
		},
		down: []string{
			`ALTER TABLE api_tokens DROP COLUMN revoked_at`,
			`ALTER TABLE api_tokens DROP COLUMN expires_at`,
			`ALTER TABLE api_tokens DROP COLUMN role`,
			`ALTER TABLE api_tokens DROP COLUMN name`,
			`DROP INDEX IF EXISTS technicians_entra_identity_idx`,
			`ALTER TABLE technicians DROP COLUMN deactivated_at`,
			`ALTER TABLE technicians DROP COLUMN active`,
			`ALTER TABLE technicians DROP COLUMN entra_object_id`,
			`ALTER TABLE technicians DROP COLUMN entra_tenant_id`,
		},
	}
}
