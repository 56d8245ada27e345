package sqlstore

import "slices"

// finalStatuses are the grant statuses a row never leaves (workflows.FinalStatuses; the
// store names them as strings to stay free of the workflow engine).
var finalStatuses = []string{"expired", "revoked", "denied", "failed", "expired_unapproved", "terminated"}

var liveStatuses = []string{"pending", "pending_approval", "provisioning", "active", "revoking"}

// TerminalStatuses are the statuses a grant never leaves.
func TerminalStatuses() []string { return slices.Clone(finalStatuses) }

// IsTerminal reports whether a grant in status has ended for good.
func IsTerminal(status string) bool { return slices.Contains(finalStatuses, status) }

// IsValidStatus reports whether status is one of the grant statuses.
func IsValidStatus(status string) bool {
	return slices.Contains(liveStatuses, status) || IsTerminal(status)
}
