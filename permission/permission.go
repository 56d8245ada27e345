// Package permission decides what a member of MSP staff may do, by role and tenant scope:
// a pure function the API and the portal both ask. Ownership (a technician's own grant) is
// checked by the caller after Allowed says yes.
package permission

import "slices"

// Roles of MSP staff.
const (
	RoleAdmin      = "admin"
	RoleTechnician = "technician"
	RoleAuditor    = "auditor"
)

// Action is something staff do.
type Action string

// The actions the matrix decides.
const (
	ReadGrants       Action = "grants.read"      // grant records (no credentials)
	ReadAudit        Action = "audit.read"       // audit events
	VerifyAudit      Action = "audit.verify"     // run the chain verification
	ReadReports      Action = "reports.read"     // download kept reports
	GenerateReport   Action = "reports.generate" // build a report on demand
	ReadTenants      Action = "tenants.read"     // tenant names and ids
	ReadConfig       Action = "config.read"      // applications, groups, rules, staff
	ChangeConfig     Action = "config.write"     // any configuration change
	RequestAccess    Action = "access.request"   // start or extend a grant
	ReadCredentials  Action = "credentials.read" // the password or TAP of a grant
	RevokeGrant      Action = "grants.revoke"    // end a grant early
	ManageExport     Action = "export.manage"    // SIEM destinations, retention
	ReadTemporalLink Action = "grants.temporal"  // links into the Temporal UI
	ReadHistory      Action = "grants.history"   // replayable histories
	AssignAuditors   Action = "auditors.assign"  // make staff auditors of tenants
)

// Scope is the set of customer tenants a principal may look at.
type Scope struct {
	All     bool
	Tenants []string
}

// Contains reports whether tenantID is in the scope ("" means "not about one tenant").
func (s Scope) Contains(tenantID string) bool {
	return s.All || tenantID == "" || slices.Contains(s.Tenants, tenantID)
}

// Principal is who asks: their role and, for an auditor, the tenants given to them.
type Principal struct {
	Role  string
	Scope Scope
}

// auditorActions are everything an auditor may do: read, never credentials, never a change.
var auditorActions = []Action{ReadGrants, ReadAudit, VerifyAudit, ReadReports, GenerateReport, ReadTenants, ReadHistory}

// technicianActions are a technician's (on their own grants; the caller checks ownership).
var technicianActions = []Action{RequestAccess, ReadGrants, ReadCredentials, RevokeGrant}

// Allowed decides whether p may do a on tenantID ("" for actions not about one tenant).
// Unknown roles and actions are refused.
func Allowed(p Principal, a Action, tenantID string) bool {
	switch p.Role {
	case RoleAdmin:
		return known(a)
	case RoleTechnician:
		return slices.Contains(technicianActions, a)
	case RoleAuditor:
		return slices.Contains(auditorActions, a) && p.Scope.Contains(tenantID)
	}
	return false
}

func known(a Action) bool {
	switch a {
	case ReadGrants, ReadAudit, VerifyAudit, ReadReports, GenerateReport, ReadTenants, ReadConfig, ChangeConfig,
		RequestAccess, ReadCredentials, RevokeGrant, ManageExport, ReadTemporalLink, ReadHistory, AssignAuditors:
		return true
	}
	return false
}
