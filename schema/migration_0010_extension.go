package schema

// extensionMigration adds the browser extension's connect codes (one-time, short-lived,
// bound to a technician, a PKCE challenge and an extension id; only their hash is stored)
// and a kind on API tokens, so extension sessions are tokens of kind "extension".
func extensionMigration() migration {
	return migration{
		name: "20261130000010_extension",
		up: []string{
			`ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT ''`,
			`CREATE TABLE extension_codes (
				code_hash TEXT PRIMARY KEY,
				technician_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
				extension_id TEXT NOT NULL,
				code_challenge TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				expires_at {{ts}} NOT NULL,
				used_at {{ts}}
			)`,
		},
		down: []string{
			`DROP TABLE IF EXISTS extension_codes`,
			`ALTER TABLE api_tokens DROP COLUMN kind`,
		},
	}
}
