package schema

// reconcileMigration indexes grants by directory account, so that the reconciler's sweep of
// the accounts jitaccess created costs O(accounts created), not a scan of every grant. (The
// statuses of SPEC §10, `terminated` among them, came with migration 04.)
func reconcileMigration() migration {
	return migration{
		name: "20261130000007_reconcile",
		up: []string{
			`CREATE INDEX grants_account_idx ON grants (account_id, application_id)`,
		},
		down: []string{
			`DROP INDEX IF EXISTS grants_account_idx`,
		},
	}
}
