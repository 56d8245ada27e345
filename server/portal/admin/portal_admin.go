package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// The admin pages. Each POST calls the same access.Service method as the JSON API and, when that
// refuses, shows the page again with the refusal beside the field it is about.

func (s *Pages) portalAdminHome(c *gin.Context) { portal.Redirect(c, "/admin/tenants") }

func (s *Pages) portalTenants(c *gin.Context) { s.renderTenants(c, http.StatusOK, "", nil) }

func (s *Pages) renderTenants(c *gin.Context, status int, name string, p *access.Error) {
	ts, _, err := s.Deps.Store.Tenants(c.Request.Context(), store.Page{Limit: store.MaxLimit})
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.Render(c, status, "tenants.html", portal.PageData{Title: "Customer tenants", Nav: "tenants", Problem: p,
		Data: map[string]any{"Tenants": ts, "Name": name}})
}

func (s *Pages) portalCreateTenant(c *gin.Context) {
	t, err := s.Svc.CreateTenant(c.Request.Context(), s.Actor(c), c.PostForm("name"))
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderTenants(c, status, c.PostForm("name"), p) })
		return
	}
	portal.Redirect(c, "/admin/tenants/"+url.PathEscape(t.ID)+"?done=tenant_created")
}

// allStaff lists the MSP's staff by e-mail.
func (s *Pages) allStaff(ctx context.Context) ([]store.Technician, error) {
	var out []store.Technician
	p := store.Page{Limit: store.MaxLimit}
	for {
		ts, next, err := s.Deps.Store.Technicians(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out, nil
}

// tenantGroupView is a group with its members resolved.
type tenantGroupView struct {
	store.Group
	People    []store.Technician
	Addable   []store.Technician
	IsBuiltin bool
}

func (s *Pages) portalTenant(c *gin.Context) { s.renderTenant(c, http.StatusOK, nil) }

func (s *Pages) renderTenant(c *gin.Context, status int, p *access.Error) {
	ctx := c.Request.Context()
	t, err := s.Svc.Tenant(ctx, c.Param("tenant_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	members, err := s.Deps.Store.Members(ctx, t.ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	staff, err := s.allStaff(ctx)
	if err != nil {
		s.Fail(c, err)
		return
	}
	byID := map[string]store.Technician{}
	for _, m := range staff {
		byID[m.ID] = m
	}
	isMember := map[string]bool{}
	for _, m := range members {
		isMember[m.ID] = true
	}
	var addable []store.Technician
	for _, m := range staff {
		if !isMember[m.ID] {
			addable = append(addable, m)
		}
	}
	gs, err := s.Deps.Store.Groups(ctx, t.ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	groups := make([]tenantGroupView, 0, len(gs))
	for _, g := range gs {
		v := tenantGroupView{Group: g, IsBuiltin: g.Builtin}
		for _, id := range g.Members {
			v.People = append(v.People, byID[id])
		}
		for _, m := range members {
			if !slices.Contains(g.Members, m.ID) {
				v.Addable = append(v.Addable, m)
			}
		}
		groups = append(groups, v)
	}
	s.Render(c, status, "tenant.html", portal.PageData{Title: t.Name, Nav: "tenants", Problem: p,
		Data: map[string]any{"Tenant": t, "Members": members, "Addable": addable, "Groups": groups, "Tab": "overview"}})
}

func (s *Pages) tenantPath(c *gin.Context) string {
	return "/admin/tenants/" + url.PathEscape(c.Param("tenant_id"))
}

func (s *Pages) portalAddMember(c *gin.Context) {
	err := s.Svc.SetMember(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.PostForm("technician_id"), true)
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	portal.Redirect(c, s.tenantPath(c)+"?done=member_added")
}

func (s *Pages) portalRemoveMember(c *gin.Context) {
	err := s.Svc.SetMember(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("technician_id"), false)
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	portal.Redirect(c, s.tenantPath(c)+"?done=member_removed")
}

func (s *Pages) portalCreateGroup(c *gin.Context) {
	_, err := s.Svc.CreateGroup(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.PostForm("name"))
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	portal.Redirect(c, s.tenantPath(c)+"?done=group_created")
}

func (s *Pages) portalAddGroupMember(c *gin.Context) {
	err := s.Svc.SetGroupMember(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("group_id"), c.PostForm("technician_id"), true)
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	portal.Redirect(c, s.tenantPath(c)+"?done=group_member")
}

func (s *Pages) portalRemoveGroupMember(c *gin.Context) {
	err := s.Svc.SetGroupMember(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("group_id"), c.Param("technician_id"), false)
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	portal.Redirect(c, s.tenantPath(c)+"?done=group_member")
}

// --- Staff ---

func (s *Pages) portalStaff(c *gin.Context) { s.renderStaff(c, http.StatusOK, nil) }

func (s *Pages) renderStaff(c *gin.Context, status int, p *access.Error) {
	staff, err := s.allStaff(c.Request.Context())
	if err != nil {
		s.Fail(c, err)
		return
	}
	data, err := s.auditorStaffData(c.Request.Context(), web.CurrentUser(c).ID, staff)
	if err != nil {
		s.Fail(c, err)
		return
	}
	data["Staff"], data["Email"], data["DisplayName"], data["Role"] = staff, c.PostForm("email"), c.PostForm("display_name"), c.PostForm("role")
	s.Render(c, status, "staff.html", portal.PageData{Title: "MSP staff", Nav: "staff", Problem: p, Data: data})
}

func (s *Pages) portalCreateStaff(c *gin.Context) {
	// The API token CreateTechnician makes is not shown: portal users sign in with Microsoft.
	_, _, err := s.Svc.CreateTechnician(c.Request.Context(), s.Actor(c), c.PostForm("email"), c.PostForm("display_name"), c.PostForm("role"))
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderStaff(c, status, p) })
		return
	}
	portal.Redirect(c, "/admin/staff?done=staff_created")
}

// --- Applications ---

func (s *Pages) portalApplications(c *gin.Context) { s.renderApplications(c, http.StatusOK, nil) }

func (s *Pages) renderApplications(c *gin.Context, status int, p *access.Error) {
	ctx := c.Request.Context()
	t, err := s.Svc.Tenant(ctx, c.Param("tenant_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	apps, _, err := s.Deps.Store.Applications(ctx, t.ID, store.Page{Limit: store.MaxLimit})
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.Render(c, status, "applications.html", portal.PageData{Title: "Applications – " + t.Name, Nav: "tenants", Problem: p,
		Data: map[string]any{"Tenant": t, "Applications": apps, "Name": c.PostForm("name"), "Tab": "applications"}})
}

func (s *Pages) portalCreateApplication(c *gin.Context) {
	a, err := s.Svc.CreateApplication(c.Request.Context(), s.Actor(c), c.Param("tenant_id"),
		c.PostForm("name"), c.PostForm("type"), c.PostForm("credentials"))
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderApplications(c, status, p) })
		return
	}
	portal.Redirect(c, portal.ApplicationPath(a.TenantID, a.ID)+"?done=app_created")
}

// applicationForm is what the vendor form shows: the saved application, or the values just
// submitted when the save was refused.
type applicationForm struct {
	Name           string
	AccessDuration string
	Domain         string
	Roles          []string
}

func (s *Pages) portalApplication(c *gin.Context) { s.renderApplication(c, http.StatusOK, nil, nil) }

// portalApplicationOf reads the application of the path and its tenant; on failure it has
// rendered the error page.
func (s *Pages) portalApplicationOf(c *gin.Context) (store.Application, store.Tenant, bool) {
	ctx := c.Request.Context()
	a, err := s.Svc.Application(ctx, c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.Fail(c, err)
		return a, store.Tenant{}, false
	}
	t, err := s.Svc.Tenant(ctx, a.TenantID)
	if err != nil {
		s.Fail(c, err)
		return a, t, false
	}
	return a, t, true
}

func (s *Pages) renderApplication(c *gin.Context, status int, form *applicationForm, p *access.Error) {
	ctx := c.Request.Context()
	a, t, ok := s.portalApplicationOf(c)
	if !ok {
		return
	}
	if form == nil {
		form = &applicationForm{Name: a.Name, AccessDuration: a.AccessDuration.String(), Domain: a.Domain, Roles: a.Roles}
	}
	current, _ := time.ParseDuration(form.AccessDuration)
	data := map[string]any{"Tenant": t, "App": a, "Form": form, "Tab": "applications",
		"Durations": portal.DurationChoices(s.Deps.MinAccessDuration, s.Deps.MaxAccessDuration, current)}
	// Domains and roles come live from the customer's directory once it is authorized;
	// only managed, verified domains are offered.
	if a.Authorization != nil {
		actor := s.Actor(c)
		if ds, err := s.Svc.ApplicationDomains(ctx, actor, a.TenantID, a.ID); err != nil {
			data["DirectoryError"] = s.directoryMessage(c, err)
		} else {
			var ok []directory.Domain
			for _, d := range ds {
				if d.Supported() {
					ok = append(ok, d)
				}
			}
			data["Domains"] = ok
		}
		if rs, err := s.Svc.ApplicationRoles(ctx, actor, a.TenantID, a.ID); err != nil {
			data["DirectoryError"] = s.directoryMessage(c, err)
		} else {
			sort.Slice(rs, func(i, j int) bool { return rs[i].DisplayName < rs[j].DisplayName })
			data["Roles"] = rs
		}
	}
	s.Render(c, status, "application.html", portal.PageData{Title: a.Name, Nav: "tenants", Problem: p, Data: data})
}

// directoryMessage is what the page says when the directory could not be read.
func (s *Pages) directoryMessage(c *gin.Context, err error) string {
	if p := access.AsError(err); p != nil {
		return p.Message
	}
	s.Log.ErrorContext(c.Request.Context(), "portal: directory", "request_id", web.RequestID(c), "error", err)
	return "The customer's directory could not be read."
}

func (s *Pages) portalSaveApplication(c *gin.Context) {
	ctx := c.Request.Context()
	a, err := s.Svc.Application(ctx, c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	form := &applicationForm{Name: c.PostForm("name"), AccessDuration: c.PostForm("access_duration"),
		Domain: c.PostForm("domain"), Roles: c.PostFormArray("roles")}
	patch := access.ApplicationPatch{Name: &form.Name, AccessDuration: &form.AccessDuration}
	// The domain and roles exist on the form only once the application is authorized.
	if a.Authorization != nil {
		if form.Domain != "" {
			patch.Domain = &form.Domain
		}
		roles := form.Roles
		if roles == nil {
			roles = []string{}
		}
		patch.Roles = &roles
	}
	if _, err := s.Svc.UpdateApplication(ctx, s.Actor(c), a.TenantID, a.ID, patch); err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderApplication(c, status, form, p) })
		return
	}
	portal.Redirect(c, portal.ApplicationPath(a.TenantID, a.ID)+"?done=app_saved")
}

// portalAuthorize starts the admin consent and sends the browser to Entra ID; the callback
// (/oauth/callback) links back to this application's page.
func (s *Pages) portalAuthorize(c *gin.Context) {
	u, err := s.Svc.StartAuthorization(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("application_id"), "")
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderApplication(c, status, nil, p) })
		return
	}
	portal.Redirect(c, u)
}

// --- Entitlements ---

type ruleView struct {
	store.Rule
	Condition   string
	Application string
}

func (s *Pages) portalEntitlements(c *gin.Context) { s.renderEntitlements(c, http.StatusOK, nil) }

func (s *Pages) renderEntitlements(c *gin.Context, status int, p *access.Error) {
	ctx := c.Request.Context()
	t, err := s.Svc.Tenant(ctx, c.Param("tenant_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	rules, _, err := s.Deps.Store.Rules(ctx, t.ID, store.Page{Limit: store.MaxLimit})
	if err != nil {
		s.Fail(c, err)
		return
	}
	apps, _, err := s.Deps.Store.Applications(ctx, t.ID, store.Page{Limit: store.MaxLimit})
	if err != nil {
		s.Fail(c, err)
		return
	}
	groups, err := s.Deps.Store.Groups(ctx, t.ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	members, err := s.Deps.Store.Members(ctx, t.ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	appNames, groupNames, techNames := map[string]string{}, map[string]string{}, map[string]string{}
	for _, a := range apps {
		appNames[a.ID] = a.Name
	}
	for _, g := range groups {
		groupNames[g.ID] = g.Name
	}
	for _, m := range members {
		techNames[m.ID] = m.Email
	}
	views := make([]ruleView, len(rules))
	for i, r := range rules {
		v := ruleView{Rule: r, Application: appNames[r.ApplicationID]}
		if r.ConditionType == store.ConditionGroup {
			v.Condition = "Group " + portal.NameOr(groupNames[r.GroupID], r.GroupID)
		} else {
			v.Condition = "Technician " + portal.NameOr(techNames[r.TechnicianID], r.TechnicianID)
		}
		views[i] = v
	}
	form := map[string]string{"name": c.PostForm("name"), "condition_type": c.DefaultPostForm("condition_type", store.ConditionGroup),
		"group_id": c.DefaultPostForm("group_id", store.AllAdminsGroupID), "technician_id": c.PostForm("technician_id"),
		"application_id": c.PostForm("application_id")}
	s.Render(c, status, "entitlements.html", portal.PageData{Title: "Entitlements – " + t.Name, Nav: "tenants", Problem: p,
		Data: map[string]any{"Tenant": t, "Rules": views, "Applications": apps, "Groups": groups, "Members": members,
			"Form": form, "Tab": "entitlements"}})
}

func (s *Pages) portalCreateEntitlement(c *gin.Context) {
	in := access.EntitlementInput{Name: c.PostForm("name"), ApplicationID: c.PostForm("application_id"),
		Condition: &access.ConditionInput{Type: c.PostForm("condition_type")}}
	// The form shows both pickers; the IF choice says which one counts.
	switch in.Condition.Type {
	case store.ConditionGroup:
		in.Condition.GroupID = c.PostForm("group_id")
	case store.ConditionTechnician:
		in.Condition.TechnicianID = c.PostForm("technician_id")
	}
	if _, err := s.Svc.CreateEntitlement(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), in); err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderEntitlements(c, status, p) })
		return
	}
	portal.Redirect(c, s.tenantPath(c)+"/entitlements?done=rule_created")
}

func (s *Pages) portalDeleteEntitlement(c *gin.Context) {
	if err := s.Svc.DeleteEntitlement(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("entitlement_id")); err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderEntitlements(c, status, p) })
		return
	}
	portal.Redirect(c, s.tenantPath(c)+"/entitlements?done=rule_deleted")
}

// portalSetStaffActive deactivates or reactivates a member of staff (admins).
func (s *Pages) portalSetStaffActive(c *gin.Context) {
	active := c.PostForm("active") == "true"
	if _, err := s.Svc.SetTechnicianActive(c.Request.Context(), s.Actor(c), c.Param("technician_id"), active); err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderStaff(c, status, p) })
		return
	}
	done := "staff_reactivated"
	if !active {
		done = "staff_deactivated"
	}
	portal.Redirect(c, "/admin/staff?done="+done)
}
