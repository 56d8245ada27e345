package admin

import (
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// JSON shapes of the API. Times are RFC 3339 in UTC; absent values are null.

type tenantView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func viewTenant(t store.Tenant) tenantView {
	return tenantView{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
}

type technicianView struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Role        string    `json:"role"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	// DeactivatedAt is set while the person is deactivated.
	DeactivatedAt *time.Time `json:"deactivated_at"`
	Token         string     `json:"token,omitempty"`
}

func viewTechnician(t store.Technician) technicianView {
	var off *time.Time
	if !t.Active {
		off = web.OptTime(t.DeactivatedAt)
	}
	return technicianView{ID: t.ID, Email: t.Email, DisplayName: t.DisplayName, Role: t.Role, Active: t.Active, CreatedAt: t.CreatedAt, DeactivatedAt: off}
}

type groupView struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id"`
	Name      string    `json:"name"`
	Builtin   bool      `json:"builtin"`
	Members   []string  `json:"members"`
	CreatedAt time.Time `json:"created_at"`
}

func viewGroup(g store.Group) groupView {
	members := g.Members
	if members == nil {
		members = []string{}
	}
	return groupView{ID: g.ID, TenantID: g.TenantID, Name: g.Name, Builtin: g.Builtin, Members: members, CreatedAt: g.CreatedAt}
}

type authorizationView struct {
	Status        string     `json:"status"`
	Account       *string    `json:"account"`
	EntraTenantID *string    `json:"entra_tenant_id"`
	AuthorizedAt  *time.Time `json:"authorized_at"`
}

type applicationView struct {
	ID             string   `json:"id"`
	TenantID       string   `json:"tenant_id"`
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	Credentials    string   `json:"credentials"`
	Status         string   `json:"status"`
	AccessDuration string   `json:"access_duration"`
	Domain         *string  `json:"domain"`
	Roles          []string `json:"roles"`
	SignInMethod   string   `json:"sign_in_method"`
	// RestrictedAdminUnit: JIT accounts are placed in a restricted-management administrative unit.
	RestrictedAdminUnit bool              `json:"restricted_admin_unit"`
	Authorization       authorizationView `json:"authorization"`
	CreatedAt           time.Time         `json:"created_at"`
	UpdatedAt           time.Time         `json:"updated_at"`
}

func viewApplication(a store.Application) applicationView {
	v := applicationView{ID: a.ID, TenantID: a.TenantID, Name: a.Name, Type: a.Type, Credentials: a.Credentials, Status: a.Status,
		AccessDuration: a.AccessDuration.String(), Roles: a.Roles, SignInMethod: a.SignInMethod, RestrictedAdminUnit: a.RestrictedAdminUnit, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		Authorization: authorizationView{Status: "unauthorized"}}
	if v.Roles == nil {
		v.Roles = []string{}
	}
	if a.Domain != "" {
		d := a.Domain
		v.Domain = &d
	}
	if au := a.Authorization; au != nil {
		acc, tid, at := au.Account, au.EntraTenantID, au.AuthorizedAt
		v.Authorization = authorizationView{Status: "authorized", Account: &acc, EntraTenantID: &tid, AuthorizedAt: &at}
	}
	return v
}

type conditionView struct {
	Type         string `json:"type"`
	GroupID      string `json:"group_id,omitempty"`
	TechnicianID string `json:"technician_id,omitempty"`
}

type entitlementView struct {
	ID            string        `json:"id"`
	TenantID      string        `json:"tenant_id"`
	Name          string        `json:"name"`
	Condition     conditionView `json:"condition"`
	ApplicationID string        `json:"application_id"`
	CreatedAt     time.Time     `json:"created_at"`
}

func viewRule(r store.Rule) entitlementView {
	return entitlementView{ID: r.ID, TenantID: r.TenantID, Name: r.Name, ApplicationID: r.ApplicationID, CreatedAt: r.CreatedAt,
		Condition: conditionView{Type: r.ConditionType, GroupID: r.GroupID, TechnicianID: r.TechnicianID}}
}

type domainView struct {
	ID                 string `json:"id"`
	AuthenticationType string `json:"authentication_type"`
	IsVerified         bool   `json:"is_verified"`
	IsDefault          bool   `json:"is_default"`
	Supported          bool   `json:"supported"`
}

func viewDomain(d directory.Domain) domainView {
	return domainView{ID: d.ID, AuthenticationType: d.AuthenticationType, IsVerified: d.IsVerified, IsDefault: d.IsDefault, Supported: d.Supported()}
}

type roleView struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
}

func viewRole(r directory.Role) roleView {
	return roleView{ID: r.ID, DisplayName: r.DisplayName, Description: r.Description}
}
