package schema

// adminUnitMigration adds the application setting restricted_admin_unit (JIT accounts go into a
// restricted-management administrative unit, issue #16) and the id of that unit once created.
func adminUnitMigration() migration {
	return migration{
		name: "20261207000012_admin_unit",
		up: []string{
			`ALTER TABLE applications ADD COLUMN restricted_admin_unit BOOLEAN NOT NULL DEFAULT FALSE`,
			`ALTER TABLE applications ADD COLUMN admin_unit_id TEXT NOT NULL DEFAULT ''`,
		},
		down: []string{
			`ALTER TABLE applications DROP COLUMN admin_unit_id`,
			`ALTER TABLE applications DROP COLUMN restricted_admin_unit`,
		},
	}
}
