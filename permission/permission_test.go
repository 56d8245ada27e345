package permission_test

import (
	"fmt"
	"testing"

	"github.com/jitaccess/jitaccess/permission"
)

func TestMatrix(t *testing.T) {
	admin := permission.Principal{Role: permission.RoleAdmin}
	tech := permission.Principal{Role: permission.RoleTechnician}
	auditorAll := permission.Principal{Role: permission.RoleAuditor, Scope: permission.Scope{All: true}}
	auditorA := permission.Principal{Role: permission.RoleAuditor, Scope: permission.Scope{Tenants: []string{"ten_a"}}}
	auditorNone := permission.Principal{Role: permission.RoleAuditor}
	stranger := permission.Principal{Role: "owner"}

	// Columns: admin, technician, auditor (all tenants), auditor of ten_a asking about ten_a,
	// the same auditor asking about ten_b, an auditor given no tenant, an unknown role.
	type row struct {
		action permission.Action
		want   [7]bool
	}
	matrix := []row{
		{permission.ReadGrants, [7]bool{true, true, true, true, false, false, false}},
		{permission.ReadAudit, [7]bool{true, false, true, true, false, false, false}},
		{permission.VerifyAudit, [7]bool{true, false, true, true, false, false, false}},
		{permission.ReadReports, [7]bool{true, false, true, true, false, false, false}},
		{permission.GenerateReport, [7]bool{true, false, true, true, false, false, false}},
		{permission.ReadTenants, [7]bool{true, false, true, true, false, false, false}},
		{permission.ReadHistory, [7]bool{true, false, true, true, false, false, false}},
		{permission.ReadConfig, [7]bool{true, false, false, false, false, false, false}},
		{permission.ChangeConfig, [7]bool{true, false, false, false, false, false, false}},
		{permission.ManageExport, [7]bool{true, false, false, false, false, false, false}},
		{permission.AssignAuditors, [7]bool{true, false, false, false, false, false, false}},
		{permission.ReadTemporalLink, [7]bool{true, false, false, false, false, false, false}},
		{permission.RequestAccess, [7]bool{true, true, false, false, false, false, false}},
		{permission.ReadCredentials, [7]bool{true, true, false, false, false, false, false}},
		{permission.RevokeGrant, [7]bool{true, true, false, false, false, false, false}},
		{permission.Action("made.up"), [7]bool{false, false, false, false, false, false, false}},
	}
	type ask struct {
		who    permission.Principal
		tenant string
	}
	asks := [7]ask{{admin, "ten_b"}, {tech, "ten_b"}, {auditorAll, "ten_b"}, {auditorA, "ten_a"}, {auditorA, "ten_b"}, {auditorNone, "ten_a"}, {stranger, "ten_a"}}
	for _, r := range matrix {
		for i, a := range asks {
			t.Run(fmt.Sprintf("%s/%d", r.action, i), func(t *testing.T) {
				if got := permission.Allowed(a.who, r.action, a.tenant); got != r.want[i] {
					t.Fatalf("Allowed(%s %+v, %s, %q) = %v, want %v", a.who.Role, a.who.Scope, r.action, a.tenant, got, r.want[i])
				}
			})
		}
	}
}

func TestAuditorNeverCredentialsNorChanges(t *testing.T) {
	p := permission.Principal{Role: permission.RoleAuditor, Scope: permission.Scope{All: true}}
	for _, a := range []permission.Action{permission.ReadCredentials, permission.ChangeConfig, permission.RequestAccess,
		permission.RevokeGrant, permission.ManageExport, permission.ReadConfig, permission.AssignAuditors} {
		for _, tenant := range []string{"", "ten_a"} {
			if permission.Allowed(p, a, tenant) {
				t.Errorf("auditor may %s on %q", a, tenant)
			}
		}
	}
}
