package schema

// signInMigration adds what Temporary Access Passes and tenant pinning need: each
// application's sign-in method (new applications default to password_and_tap, which works
// under Microsoft's mandatory MFA; existing ones keep password, which needs no new consent)
// and the Entra tenant it is pinned to at first consent; the Entra tenant each grant was made
// in; and a grant's sealed Temporary Access Pass beside its password.
func signInMigration() migration {
	return migration{
		name: "20261130000006_signin",
		up: []string{
			`ALTER TABLE applications ADD COLUMN sign_in_method TEXT NOT NULL DEFAULT 'password_and_tap'
				CHECK (sign_in_method IN ('password', 'tap', 'password_and_tap'))`,
			`UPDATE applications SET sign_in_method = 'password'`,
			`ALTER TABLE applications ADD COLUMN entra_tenant_id TEXT`,
			`UPDATE applications SET entra_tenant_id =
				(SELECT a.entra_tenant_id FROM application_authorizations a WHERE a.application_id = applications.id)`,
			`ALTER TABLE grants ADD COLUMN entra_tenant_id TEXT`,
			`UPDATE grants SET entra_tenant_id =
				(SELECT p.entra_tenant_id FROM applications p WHERE p.id = grants.application_id)`,
			`ALTER TABLE grant_credentials ADD COLUMN temporary_access_pass_sealed TEXT`,
			`ALTER TABLE grant_credentials ADD COLUMN tap_id TEXT`,
			`ALTER TABLE grant_credentials ADD COLUMN tap_expires_at {{ts}}`,
		},
		down: []string{
			`ALTER TABLE grant_credentials DROP COLUMN tap_expires_at`,
			`ALTER TABLE grant_credentials DROP COLUMN tap_id`,
			`ALTER TABLE grant_credentials DROP COLUMN temporary_access_pass_sealed`,
			`ALTER TABLE grants DROP COLUMN entra_tenant_id`,
			`ALTER TABLE applications DROP COLUMN entra_tenant_id`,
			`ALTER TABLE applications DROP COLUMN sign_in_method`,
		},
	}
}
