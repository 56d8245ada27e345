package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

// What an Entra ID application is made of (the vendor's form: type Web, Entra ID OIDC).
const (
	appTypeWeb      = "web"
	credsEntraOIDC  = "entra_oidc"
	maxRolesPerApp  = 50
	maxRoleIDLength = 64
	maxDomainLength = 253
)

func (s *Server) applicationRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/applications", s.listApplications)
	g.POST("/tenants/:tenant_id/applications", s.createApplication)
	g.GET("/tenants/:tenant_id/applications/:application_id", s.getApplication)
	g.PATCH("/tenants/:tenant_id/applications/:application_id", s.patchApplication)
	g.DELETE("/tenants/:tenant_id/applications/:application_id", s.deleteApplication)
	g.POST("/tenants/:tenant_id/applications/:application_id/authorize", s.authorizeApplication)
}

// CreateApplication adds an Entra ID application to a customer tenant (the vendor's form:
// type Web, credentials Entra ID OIDC), unauthorized, with the default access duration.
func (s *Server) CreateApplication(ctx context.Context, a Actor, tenantID, name, typ, creds string) (store.Application, error) {
	name, err := checkName("name", name)
	if err != nil {
		return store.Application{}, err
	}
	if typ != appTypeWeb {
		return store.Application{}, access.FieldError("type", `must be "web".`)
	}
	if creds != credsEntraOIDC {
		return store.Application{}, access.FieldError("credentials", `must be "entra_oidc".`)
	}
	app, err := s.deps.Store.CreateApplication(ctx, tenantID, store.NewApplication{
		Name: name, Type: typ, Credentials: creds, AccessDuration: s.defaultAccessDuration()})
	if errors.Is(err, store.ErrConflict) {
		return app, access.Refuse(access.Conflict, "already_exists", "The tenant already has an application with this name.")
	}
	if err != nil {
		return app, refProblem(err)
	}
	s.auditAs(ctx, a, store.AuditEvent{TenantID: app.TenantID, Action: "application.created", Target: app.ID, Details: map[string]any{"name": app.Name}})
	return app, nil
}

func (s *Server) createApplication(c *gin.Context) {
	var in struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Credentials string `json:"credentials"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	a, err := s.CreateApplication(c.Request.Context(), s.actor(c), c.Param("tenant_id"), in.Name, in.Type, in.Credentials)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewApplication(a))
}

// defaultAccessDuration is 4 hours, kept within the configured bounds.
func (s *Server) defaultAccessDuration() time.Duration {
	d := store.DefaultAccessDuration
	d = min(d, s.deps.MaxAccessDuration)
	return max(d, s.deps.MinAccessDuration)
}

func (s *Server) listApplications(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	as, next, err := s.deps.Store.Applications(c.Request.Context(), c.Param("tenant_id"), p)
	if err != nil {
		s.listError(c, err)
		return
	}
	out := make([]applicationView, len(as))
	for i, a := range as {
		out[i] = viewApplication(a)
	}
	c.JSON(http.StatusOK, list(out, next))
}

// Application loads an application of a tenant; an application of another tenant does not
// exist here (404 Problem).
func (s *Server) Application(ctx context.Context, tenantID, applicationID string) (store.Application, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return store.Application{}, err
	}
	a, err := s.deps.Store.Application(ctx, tenantID, applicationID)
	if errors.Is(err, store.ErrNotFound) {
		return a, access.NotFoundError("application")
	}
	return a, err
}

// application loads the path's application of the path's tenant or answers 404.
func (s *Server) application(c *gin.Context) (store.Application, bool) {
	a, err := s.Application(c.Request.Context(), c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.fail(c, err)
		return a, false
	}
	return a, true
}

func (s *Server) getApplication(c *gin.Context) {
	a, ok := s.application(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, viewApplication(a))
}

// applicationPatch is the PATCH body; absent fields stay unchanged.
type applicationPatch struct {
	Name           *string   `json:"name"`
	AccessDuration *string   `json:"access_duration"`
	Domain         *string   `json:"domain"`
	Roles          *[]string `json:"roles"`
}

func (s *Server) patchApplication(c *gin.Context) {
	var in applicationPatch
	if !decodeJSON(c, &in) {
		return
	}
	updated, err := s.UpdateApplication(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("application_id"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewApplication(updated))
}

// UpdateApplication changes an application's name, access duration, domain and roles. The
// domain and roles need an authorized application and are checked live against the
// customer's tenant.
func (s *Server) UpdateApplication(ctx context.Context, actor Actor, tenantID, applicationID string, in applicationPatch) (store.Application, error) {
	a, err := s.Application(ctx, tenantID, applicationID)
	if err != nil {
		return a, err
	}
	var patch store.ApplicationPatch
	changed := map[string]any{}
	if in.Name != nil {
		name, err := checkName("name", *in.Name)
		if err != nil {
			return a, err
		}
		patch.Name = &name
		changed["name"] = name
	}
	if in.AccessDuration != nil {
		d, err := s.checkAccessDuration(*in.AccessDuration)
		if err != nil {
			return a, err
		}
		patch.AccessDuration = &d
		changed["access_duration"] = d.String()
	}
	if in.Domain != nil || in.Roles != nil {
		if a.Authorization == nil {
			return a, access.Refuse(access.Conflict, "application_not_authorized", "Authorize the application first: the domain and roles are checked against the customer's tenant.")
		}
	}
	if in.Domain != nil {
		domain, err := s.checkDomain(ctx, actor, a.ID, *in.Domain)
		if err != nil {
			return a, err
		}
		patch.Domain = &domain
		changed["domain"] = domain
	}
	if in.Roles != nil {
		roles, err := s.checkRoles(ctx, actor, a.ID, *in.Roles)
		if err != nil {
			return a, err
		}
		patch.Roles = &roles
		changed["roles"] = roles
	}
	updated, err := s.deps.Store.UpdateApplication(ctx, a.TenantID, a.ID, patch)
	if errors.Is(err, store.ErrConflict) {
		return a, access.Refuse(access.Conflict, "already_exists", "The tenant already has an application with this name.")
	}
	if err != nil {
		return a, refProblem(err)
	}
	if updated.Status != a.Status {
		changed["status"] = updated.Status
	}
	s.auditAs(ctx, actor, store.AuditEvent{TenantID: a.TenantID, Action: "application.updated", Target: a.ID, Details: changed})
	return updated, nil
}

// checkAccessDuration parses a Go duration and checks it against the configured bounds.
func (s *Server) checkAccessDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, &access.Error{Kind: access.Invalid, Code: "invalid_duration", Field: "access_duration",
			Message: fmt.Sprintf("access_duration: %q is not a duration such as \"4h\" or \"90m\".", v)}
	}
	if d < s.deps.MinAccessDuration || d > s.deps.MaxAccessDuration {
		return 0, &access.Error{Kind: access.Invalid, Code: "invalid_duration", Field: "access_duration",
			Message: fmt.Sprintf("access_duration must be between %s and %s.", s.deps.MinAccessDuration, s.deps.MaxAccessDuration)}
	}
	return d, nil
}

// checkDomain verifies, live against the tenant, that technician accounts can be provisioned
// in the domain, and returns its canonical name.
func (s *Server) checkDomain(ctx context.Context, actor Actor, applicationID, domain string) (string, error) {
	domain = strings.TrimSpace(domain)
	if domain == "" || len(domain) > maxDomainLength {
		return "", access.FieldError("domain", "must be a domain name of the customer's tenant.")
	}
	domains, err := s.deps.Directory.Domains(ctx, applicationID)
	if err != nil {
		return "", s.directoryProblem(ctx, actor, "domains", err)
	}
	for _, d := range domains {
		if !strings.EqualFold(d.ID, domain) {
			continue
		}
		switch {
		case !d.Managed():
			return "", &access.Error{Kind: access.Invalid, Code: "federated_domain_unsupported", Field: "domain",
				Message: fmt.Sprintf("%s is a federated domain: sign-in happens at another identity provider, so a managed password cannot work. Pick a managed domain (a custom domain or the .onmicrosoft.com one).", d.ID)}
		case !d.IsVerified:
			return "", &access.Error{Kind: access.Invalid, Code: "domain_not_verified", Field: "domain",
				Message: fmt.Sprintf("%s is not verified in the customer's tenant; Entra ID refuses accounts in unverified domains.", d.ID)}
		default:
			return d.ID, nil
		}
	}
	return "", &access.Error{Kind: access.Invalid, Code: "domain_not_found", Field: "domain",
		Message: fmt.Sprintf("%s is not a domain of the customer's tenant.", domain)}
}

// checkRoles verifies, live against the tenant, that every id is a built-in directory role.
func (s *Server) checkRoles(ctx context.Context, actor Actor, applicationID string, roles []string) ([]string, error) {
	if len(roles) > maxRolesPerApp {
		return nil, access.FieldError("roles", fmt.Sprintf("at most %d roles.", maxRolesPerApp))
	}
	for _, r := range roles {
		if strings.TrimSpace(r) == "" || len(r) > maxRoleIDLength {
			return nil, access.FieldError("roles", "each role must be a role template id.")
		}
	}
	if len(roles) == 0 {
		return []string{}, nil
	}
	known, err := s.deps.Directory.Roles(ctx, applicationID)
	if err != nil {
		return nil, s.directoryProblem(ctx, actor, "roles", err)
	}
	byID := map[string]string{}
	for _, k := range known {
		byID[strings.ToLower(k.ID)] = k.ID
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		id, ok := byID[strings.ToLower(strings.TrimSpace(r))]
		if !ok {
			return nil, &access.Error{Kind: access.Invalid, Code: "unknown_role", Field: "roles",
				Message: fmt.Sprintf("%s is not a built-in directory role of the customer's tenant.", quoteForMessage(r))}
		}
		out = append(out, id)
	}
	return out, nil
}

// quoteForMessage quotes caller input for an error message.
func quoteForMessage(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) deleteApplication(c *gin.Context) {
	if err := s.DeleteApplication(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("application_id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// DeleteApplication removes an application without live grants.
func (s *Server) DeleteApplication(ctx context.Context, actor Actor, tenantID, applicationID string) error {
	a, err := s.Application(ctx, tenantID, applicationID)
	if err != nil {
		return err
	}
	err = s.deps.Store.DeleteApplication(ctx, a.TenantID, a.ID)
	if errors.Is(err, store.ErrInUse) {
		return access.Refuse(access.Conflict, "application_in_use", "Technicians hold live grants of this application; revoke them first.")
	}
	if err != nil {
		return refProblem(err)
	}
	s.auditAs(ctx, actor, store.AuditEvent{TenantID: a.TenantID, Action: "application.deleted", Target: a.ID, Details: map[string]any{"name": a.Name}})
	return nil
}
