package schema

// sessionsMigration creates the portal's server-side sessions and its pending sign-ins.
// Both are keyed by the SHA-256 of a random value the browser holds, never the value itself.
func sessionsMigration() migration {
	return migration{
		name: "20260601000003_sessions",
		up: []string{
			`CREATE TABLE portal_sessions (
				id_hash TEXT PRIMARY KEY,
				technician_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
				csrf_token TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				last_seen_at {{ts}} NOT NULL,
				expires_at {{ts}} NOT NULL,
				client_ip TEXT NOT NULL DEFAULT '',
				user_agent TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE INDEX portal_sessions_technician_idx ON portal_sessions (technician_id)`,
			`CREATE INDEX portal_sessions_expires_idx ON portal_sessions (expires_at)`,
			`CREATE TABLE portal_logins (
				state_hash TEXT PRIMARY KEY,
				nonce TEXT NOT NULL,
				code_verifier TEXT NOT NULL,
				return_to TEXT NOT NULL DEFAULT '',
				created_at {{ts}} NOT NULL,
				expires_at {{ts}} NOT NULL
			)`,
			`CREATE INDEX portal_logins_expires_idx ON portal_logins (expires_at)`,
		},
		down: []string{
			`DROP TABLE IF EXISTS portal_logins`,
			`DROP TABLE IF EXISTS portal_sessions`,
		},
	}
}
