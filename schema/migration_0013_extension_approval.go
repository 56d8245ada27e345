package schema

// extensionApprovalMigration adds the extension awaiting approval to the grant's projection
// and the approvers' decisions on extension requests (issue #18).
func extensionApprovalMigration() migration {
	return migration{
		name: "20261207000013_extension_approval",
		up: []string{
			`ALTER TABLE grants ADD COLUMN pending_extension_request TEXT`,
			`ALTER TABLE grants ADD COLUMN pending_extension_seconds BIGINT`,
			`ALTER TABLE grants ADD COLUMN pending_extension_by TEXT`,
			`ALTER TABLE grants ADD COLUMN pending_extension_at {{ts}}`,
			// No foreign key to grants: like the audit log, decisions outlive the projection row.
			`CREATE TABLE extension_approvals (
				id TEXT PRIMARY KEY,
				grant_id TEXT NOT NULL,
				request TEXT NOT NULL,
				tenant_id TEXT NOT NULL,
				approver_id TEXT NOT NULL,
				decision TEXT NOT NULL CHECK (decision IN ('approved', 'denied')),
				comment TEXT NOT NULL DEFAULT '',
				created_at {{ts}} NOT NULL,
				CONSTRAINT extension_approvals_one_per_approver UNIQUE (grant_id, request, approver_id)
			)`,
		},
		down: []string{
			`DROP TABLE IF EXISTS extension_approvals`,
			`ALTER TABLE grants DROP COLUMN pending_extension_at`,
			`ALTER TABLE grants DROP COLUMN pending_extension_by`,
			`ALTER TABLE grants DROP COLUMN pending_extension_seconds`,
			`ALTER TABLE grants DROP COLUMN pending_extension_request`,
		},
	}
}
