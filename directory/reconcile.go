package directory

import "time"

// AccountState is what the directory says of an account, read by object id: whether it
// exists, is enabled, and every directory role assignment it holds (any scope).
type AccountState struct {
	ObjectID    string
	UPN         string
	Exists      bool
	Enabled     bool
	Assignments []RoleAssignment
	// SessionsValidFrom is signInSessionsValidFromDateTime: sessions and refresh tokens issued
	// before it are void (Graph gives whole seconds; zero when Graph gave none).
	SessionsValidFrom time.Time
}
