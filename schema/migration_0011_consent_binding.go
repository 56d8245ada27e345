package schema

// consentBindingMigration binds a pending admin consent to the portal session that started it
// (the session id's hash; empty when it was started through the API with a token), so the
// callback is refused in another browser.
func consentBindingMigration() migration {
	return migration{
		name: "20261207000011_consent_binding",
		up:   []string{`ALTER TABLE oauth_states ADD COLUMN session_hash TEXT NOT NULL DEFAULT ''`},
		down: []string{`ALTER TABLE oauth_states DROP COLUMN session_hash`},
	}
}
