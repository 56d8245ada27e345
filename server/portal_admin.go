package server

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
	"github.com/jitaccess/jitaccess/store"
)

// The admin pages. Each POST calls the same *Server method as the JSON API and, when that
// refuses, shows the page again with the refusal beside the field it is about.

// formFailed shows a refusal with rerender, and anything else as an error page.
func (s *Server) formFailed(c *gin.Context, err error, rerender func(status int, p *access.Error)) {
	if p := access.AsError(err); p != nil {
		rerender(statusOf(p), p)
		return
	}
	s.portalFail(c, err)
}

func (s *Server) portalAdminHome(c *gin.Context) { redirect(c, "/admin/tenants") }

func (s *Server) portalTenants(c *gin.Context) { s.renderTenants(c, http.StatusOK, "", nil) }

func (s *Server) renderTenants(c *gin.Context, status int, name string, p *access.Error) {
	ts, _, err := s.deps.Store.Tenants(c.Request.Context(), store.Page{Limit: store.MaxLimit})
	if err != nil {
		s.portalFail(c, err)
		return
	}
	s.render(c, status, "tenants.html", pageData{Title: "Customer tenants", Nav: "tenants", Problem: p,
		Data: map[string]any{"Tenants": ts, "Name": name}})
}

func (s *Server) portalCreateTenant(c *gin.Context) {
	t, err := s.svc.CreateTenant(c.Request.Context(), s.actor(c), c.PostForm("name"))
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderTenants(c, status, c.PostForm("name"), p) })
		return
	}
	redirect(c, "/admin/tenants/"+url.PathEscape(t.ID)+"?done=tenant_created")
}

// allStaff lists the MSP's staff by e-mail.
func (s *Server) allStaff(ctx context.Context) ([]store.Technician, error) {
	var out []store.Technician
	p := store.Page{Limit: store.MaxLimit}
	for {
		ts, next, err := s.deps.Store.Technicians(ctx, p)
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

func (s *Server) portalTenant(c *gin.Context) { s.renderTenant(c, http.StatusOK, nil) }

func (s *Server) renderTenant(c *gin.Context, status int, p *access.Error) {
	ctx := c.Request.Context()
	t, err := s.svc.Tenant(ctx, c.Param("tenant_id"))
	if err != nil {
		s.portalFail(c, err)
		return
	}
	members, err := s.deps.Store.Members(ctx, t.ID)
	if err != nil {
		s.portalFail(c, err)
		return
	}
	staff, err := s.allStaff(ctx)
	if err != nil {
		s.portalFail(c, err)
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
	gs, err := s.deps.Store.Groups(ctx, t.ID)
	if err != nil {
		s.portalFail(c, err)
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
	s.render(c, status, "tenant.html", pageData{Title: t.Name, Nav: "tenants", Problem: p,
		Data: map[string]any{"Tenant": t, "Members": members, "Addable": addable, "Groups": groups, "Tab": "overview"}})
}

func (s *Server) tenantPath(c *gin.Context) string {
	return "/admin/tenants/" + url.PathEscape(c.Param("tenant_id"))
}

func (s *Server) portalAddMember(c *gin.Context) {
	err := s.svc.SetMember(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.PostForm("technician_id"), true)
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	redirect(c, s.tenantPath(c)+"?done=member_added")
}

func (s *Server) portalRemoveMember(c *gin.Context) {
	err := s.svc.SetMember(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("technician_id"), false)
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	redirect(c, s.tenantPath(c)+"?done=member_removed")
}

func (s *Server) portalCreateGroup(c *gin.Context) {
	_, err := s.svc.CreateGroup(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.PostForm("name"))
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	redirect(c, s.tenantPath(c)+"?done=group_created")
}

func (s *Server) portalAddGroupMember(c *gin.Context) {
	err := s.svc.SetGroupMember(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("group_id"), c.PostForm("technician_id"), true)
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	redirect(c, s.tenantPath(c)+"?done=group_member")
}

func (s *Server) portalRemoveGroupMember(c *gin.Context) {
	err := s.svc.SetGroupMember(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("group_id"), c.Param("technician_id"), false)
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderTenant(c, status, p) })
		return
	}
	redirect(c, s.tenantPath(c)+"?done=group_member")
}

// --- Staff ---

func (s *Server) portalStaff(c *gin.Context) { s.renderStaff(c, http.StatusOK, nil) }

func (s *Server) renderStaff(c *gin.Context, status int, p *access.Error) {
	staff, err := s.allStaff(c.Request.Context())
	if err != nil {
		s.portalFail(c, err)
		return
	}
	data, err := s.auditorStaffData(c.Request.Context(), currentUser(c).ID, staff)
	if err != nil {
		s.portalFail(c, err)
		return
	}
	data["Staff"], data["Email"], data["DisplayName"], data["Role"] = staff, c.PostForm("email"), c.PostForm("display_name"), c.PostForm("role")
	s.render(c, status, "staff.html", pageData{Title: "MSP staff", Nav: "staff", Problem: p, Data: data})
}

func (s *Server) portalCreateStaff(c *gin.Context) {
	// The API token CreateTechnician makes is not shown: portal users sign in with Microsoft.
	_, _, err := s.svc.CreateTechnician(c.Request.Context(), s.actor(c), c.PostForm("email"), c.PostForm("display_name"), c.PostForm("role"))
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderStaff(c, status, p) })
		return
	}
	redirect(c, "/admin/staff?done=staff_created")
}

// --- Applications ---

func (s *Server) portalApplications(c *gin.Context) { s.renderApplications(c, http.StatusOK, nil) }

func (s *Server) renderApplications(c *gin.Context, status int, p *access.Error) {
	ctx := c.Request.Context()
	t, err := s.svc.Tenant(ctx, c.Param("tenant_id"))
	if err != nil {
		s.portalFail(c, err)
		return
	}
	apps, _, err := s.deps.Store.Applications(ctx, t.ID, store.Page{Limit: store.MaxLimit})
	if err != nil {
		s.portalFail(c, err)
		return
	}
	s.render(c, status, "applications.html", pageData{Title: "Applications – " + t.Name, Nav: "tenants", Problem: p,
		Data: map[string]any{"Tenant": t, "Applications": apps, "Name": c.PostForm("name"), "Tab": "applications"}})
}

func (s *Server) portalCreateApplication(c *gin.Context) {
	a, err := s.svc.CreateApplication(c.Request.Context(), s.actor(c), c.Param("tenant_id"),
		c.PostForm("name"), c.PostForm("type"), c.PostForm("credentials"))
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderApplications(c, status, p) })
		return
	}
	redirect(c, portalApplicationPath(a.TenantID, a.ID)+"?done=app_created")
}

// durationChoice is one option of an access-duration picker.
type durationChoice struct {
	Value, Label string
	Selected     bool
}

// durationChoices offers the usual durations within [lo, hi], plus current.
func durationChoices(lo, hi, current time.Duration) []durationChoice {
	ds := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	if current > 0 && !slices.Contains(ds, current) {
		ds = append(ds, current)
		slices.Sort(ds)
	}
	var out []durationChoice
	for _, d := range ds {
		if d < lo || d > hi {
			continue
		}
		out = append(out, durationChoice{Value: d.String(), Label: formatDuration(d), Selected: d == current})
	}
	return out
}

// applicationForm is what the vendor form shows: the saved application, or the values just
// submitted when the save was refused.
type applicationForm struct {
	Name           string
	AccessDuration string
	Domain         string
	Roles          []string
}

func (s *Server) portalApplication(c *gin.Context) { s.renderApplication(c, http.StatusOK, nil, nil) }

// portalApplicationOf reads the application of the path and its tenant; on failure it has
// rendered the error page.
func (s *Server) portalApplicationOf(c *gin.Context) (store.Application, store.Tenant, bool) {
	ctx := c.Request.Context()
	a, err := s.svc.Application(ctx, c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.portalFail(c, err)
		return a, store.Tenant{}, false
	}
	t, err := s.svc.Tenant(ctx, a.TenantID)
	if err != nil {
		s.portalFail(c, err)
		return a, t, false
	}
	return a, t, true
}

func (s *Server) renderApplication(c *gin.Context, status int, form *applicationForm, p *access.Error) {
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
		"Durations": durationChoices(s.deps.MinAccessDuration, s.deps.MaxAccessDuration, current)}
	// Domains and roles come live from the customer's directory once it is authorized;
	// only managed, verified domains are offered.
	if a.Authorization != nil {
		actor := s.actor(c)
		if ds, err := s.svc.ApplicationDomains(ctx, actor, a.TenantID, a.ID); err != nil {
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
		if rs, err := s.svc.ApplicationRoles(ctx, actor, a.TenantID, a.ID); err != nil {
			data["DirectoryError"] = s.directoryMessage(c, err)
		} else {
			sort.Slice(rs, func(i, j int) bool { return rs[i].DisplayName < rs[j].DisplayName })
			data["Roles"] = rs
		}
	}
	s.render(c, status, "application.html", pageData{Title: a.Name, Nav: "tenants", Problem: p, Data: data})
}

// directoryMessage is what the page says when the directory could not be read.
func (s *Server) directoryMessage(c *gin.Context, err error) string {
	if p := access.AsError(err); p != nil {
		return p.Message
	}
	s.log.ErrorContext(c.Request.Context(), "portal: directory", "request_id", c.GetString(requestIDKey), "error", err)
	return "The customer's directory could not be read."
}

func (s *Server) portalSaveApplication(c *gin.Context) {
	ctx := c.Request.Context()
	a, err := s.svc.Application(ctx, c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.portalFail(c, err)
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
	if _, err := s.svc.UpdateApplication(ctx, s.actor(c), a.TenantID, a.ID, patch); err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderApplication(c, status, form, p) })
		return
	}
	redirect(c, portalApplicationPath(a.TenantID, a.ID)+"?done=app_saved")
}

// portalAuthorize starts the admin consent and sends the browser to Entra ID; the callback
// (/oauth/callback) links back to this application's page.
func (s *Server) portalAuthorize(c *gin.Context) {
	u, err := s.svc.StartAuthorization(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("application_id"), "")
	if err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderApplication(c, status, nil, p) })
		return
	}
	redirect(c, u)
}

// --- Entitlements ---

type ruleView struct {
	store.Rule
	Condition   string
	Application string
}

func (s *Server) portalEntitlements(c *gin.Context) { s.renderEntitlements(c, http.StatusOK, nil) }

func (s *Server) renderEntitlements(c *gin.Context, status int, p *access.Error) {
	ctx := c.Request.Context()
	t, err := s.svc.Tenant(ctx, c.Param("tenant_id"))
	if err != nil {
		s.portalFail(c, err)
		return
	}
	rules, _, err := s.deps.Store.Rules(ctx, t.ID, store.Page{Limit: store.MaxLimit})
	if err != nil {
		s.portalFail(c, err)
		return
	}
	apps, _, err := s.deps.Store.Applications(ctx, t.ID, store.Page{Limit: store.MaxLimit})
	if err != nil {
		s.portalFail(c, err)
		return
	}
	groups, err := s.deps.Store.Groups(ctx, t.ID)
	if err != nil {
		s.portalFail(c, err)
		return
	}
	members, err := s.deps.Store.Members(ctx, t.ID)
	if err != nil {
		s.portalFail(c, err)
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
			v.Condition = "Group " + nameOr(groupNames[r.GroupID], r.GroupID)
		} else {
			v.Condition = "Technician " + nameOr(techNames[r.TechnicianID], r.TechnicianID)
		}
		views[i] = v
	}
	form := map[string]string{"name": c.PostForm("name"), "condition_type": c.DefaultPostForm("condition_type", store.ConditionGroup),
		"group_id": c.DefaultPostForm("group_id", store.AllAdminsGroupID), "technician_id": c.PostForm("technician_id"),
		"application_id": c.PostForm("application_id")}
	s.render(c, status, "entitlements.html", pageData{Title: "Entitlements – " + t.Name, Nav: "tenants", Problem: p,
		Data: map[string]any{"Tenant": t, "Rules": views, "Applications": apps, "Groups": groups, "Members": members,
			"Form": form, "Tab": "entitlements"}})
}

func nameOr(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

func (s *Server) portalCreateEntitlement(c *gin.Context) {
	in := access.EntitlementInput{Name: c.PostForm("name"), ApplicationID: c.PostForm("application_id"),
		Condition: &access.ConditionInput{Type: c.PostForm("condition_type")}}
	// The form shows both pickers; the IF choice says which one counts.
	switch in.Condition.Type {
	case store.ConditionGroup:
		in.Condition.GroupID = c.PostForm("group_id")
	case store.ConditionTechnician:
		in.Condition.TechnicianID = c.PostForm("technician_id")
	}
	if _, err := s.svc.CreateEntitlement(c.Request.Context(), s.actor(c), c.Param("tenant_id"), in); err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderEntitlements(c, status, p) })
		return
	}
	redirect(c, s.tenantPath(c)+"/entitlements?done=rule_created")
}

func (s *Server) portalDeleteEntitlement(c *gin.Context) {
	if err := s.svc.DeleteEntitlement(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("entitlement_id")); err != nil {
		s.formFailed(c, err, func(status int, p *access.Error) { s.renderEntitlements(c, status, p) })
		return
	}
	redirect(c, s.tenantPath(c)+"/entitlements?done=rule_deleted")
}
