package schema

// governanceMigration adds per-application policies, ticket references, approval decisions
// and the notification destinations with their delivery outbox.
func governanceMigration() migration {
	return migration{
		name: "20261130000008_governance",
		up: []string{
			// NULL: the default policy, derived from the application's roles.
			`ALTER TABLE applications ADD COLUMN policy TEXT`,
			`ALTER TABLE grants ADD COLUMN ticket_reference TEXT NOT NULL DEFAULT ''`,
			// No foreign key to grants: like the audit log, decisions outlive the projection row.
			`CREATE TABLE grant_approvals (
				id TEXT PRIMARY KEY,
				grant_id TEXT NOT NULL,
				tenant_id TEXT NOT NULL,
				approver_id TEXT NOT NULL,
				decision TEXT NOT NULL CHECK (decision IN ('approved', 'denied')),
				comment TEXT NOT NULL DEFAULT '',
				created_at {{ts}} NOT NULL,
				CONSTRAINT grant_approvals_one_per_approver UNIQUE (grant_id, approver_id)
			)`,
			`CREATE INDEX grant_approvals_grant_idx ON grant_approvals (grant_id, created_at)`,
			`CREATE TABLE notification_destinations (
				id TEXT PRIMARY KEY,
				name TEXT NOT NULL,
				type TEXT NOT NULL CHECK (type IN ('webhook', 'teams', 'slack', 'email')),
				tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
				events TEXT NOT NULL DEFAULT '[]',
				config TEXT NOT NULL DEFAULT '{}',
				secrets_sealed TEXT NOT NULL DEFAULT '',
				key_id TEXT NOT NULL DEFAULT '',
				created_by TEXT NOT NULL DEFAULT '',
				created_at {{ts}} NOT NULL
			)`,
			`CREATE TABLE notification_deliveries (
				id TEXT PRIMARY KEY,
				destination_id TEXT NOT NULL REFERENCES notification_destinations (id) ON DELETE CASCADE,
				event_id TEXT NOT NULL,
				event_type TEXT NOT NULL,
				grant_id TEXT NOT NULL DEFAULT '',
				seq BIGINT NOT NULL,
				payload TEXT NOT NULL,
				status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
				attempts INTEGER NOT NULL DEFAULT 0,
				last_error TEXT NOT NULL DEFAULT '',
				next_attempt_at {{ts}} NOT NULL,
				locked_until {{ts}},
				created_at {{ts}} NOT NULL,
				delivered_at {{ts}},
				CONSTRAINT notification_deliveries_once UNIQUE (destination_id, event_id)
			)`,
			`CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (status, next_attempt_at)`,
			`CREATE INDEX notification_deliveries_order_idx ON notification_deliveries (destination_id, grant_id, seq)`,
		},
		down: []string{
			`DROP TABLE IF EXISTS notification_deliveries`,
			`DROP TABLE IF EXISTS notification_destinations`,
			`DROP TABLE IF EXISTS grant_approvals`,
			`ALTER TABLE grants DROP COLUMN ticket_reference`,
			`ALTER TABLE applications DROP COLUMN policy`,
		},
	}
}
