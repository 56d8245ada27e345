package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

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

func (s *Server) createApplication(c *gin.Context) {
	var in struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Credentials string `json:"credentials"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	name, ok := validName(c, "name", in.Name)
	if !ok {
		return
	}
	if in.Type != appTypeWeb {
		badField(c, "type", `must be "web".`)
		return
	}
	if in.Credentials != credsEntraOIDC {
		badField(c, "credentials", `must be "entra_oidc".`)
		return
	}
	a, err := s.deps.Store.CreateApplication(c.Request.Context(), c.Param("tenant_id"), store.NewApplication{
		Name: name, Type: in.Type, Credentials: in.Credentials, AccessDuration: s.defaultAccessDuration()})
	if errors.Is(err, store.ErrConflict) {
		abort(c, http.StatusConflict, "already_exists", "The tenant already has an application with this name.")
		return
	}
	if s.storeRefError(c, err) {
		return
	}
	s.audit(c, store.AuditEvent{TenantID: a.TenantID, Action: "application.created", Target: a.ID, Details: map[string]any{"name": a.Name}})
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

// application loads the path's application of the path's tenant or answers 404 (an
// application of another tenant does not exist here).
func (s *Server) application(c *gin.Context) (store.Application, bool) {
	if _, ok := s.tenant(c); !ok {
		return store.Application{}, false
	}
	a, err := s.deps.Store.Application(c.Request.Context(), c.Param("tenant_id"), c.Param("application_id"))
	if errors.Is(err, store.ErrNotFound) {
		notFoundAnswer(c, "application")
		return a, false
	}
	if err != nil {
		s.internal(c, err)
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
	a, ok := s.application(c)
	if !ok {
		return
	}
	var patch store.ApplicationPatch
	changed := map[string]any{}
	if in.Name != nil {
		name, ok := validName(c, "name", *in.Name)
		if !ok {
			return
		}
		patch.Name = &name
		changed["name"] = name
	}
	if in.AccessDuration != nil {
		d, ok := s.validAccessDuration(c, *in.AccessDuration)
		if !ok {
			return
		}
		patch.AccessDuration = &d
		changed["access_duration"] = d.String()
	}
	if in.Domain != nil || in.Roles != nil {
		if a.Authorization == nil {
			abort(c, http.StatusConflict, "application_not_authorized", "Authorize the application first: the domain and roles are checked against the customer's tenant.")
			return
		}
	}
	if in.Domain != nil {
		domain, ok := s.checkDomain(c, a.ID, *in.Domain)
		if !ok {
			return
		}
		patch.Domain = &domain
		changed["domain"] = domain
	}
	if in.Roles != nil {
		roles, ok := s.checkRoles(c, a.ID, *in.Roles)
		if !ok {
			return
		}
		patch.Roles = &roles
		changed["roles"] = roles
	}
	updated, err := s.deps.Store.UpdateApplication(c.Request.Context(), a.TenantID, a.ID, patch)
	if errors.Is(err, store.ErrConflict) {
		abort(c, http.StatusConflict, "already_exists", "The tenant already has an application with this name.")
		return
	}
	if s.storeRefError(c, err) {
		return
	}
	if updated.Status != a.Status {
		changed["status"] = updated.Status
	}
	s.audit(c, store.AuditEvent{TenantID: a.TenantID, Action: "application.updated", Target: a.ID, Details: changed})
	c.JSON(http.StatusOK, viewApplication(updated))
}

// validAccessDuration parses a Go duration and checks it against the configured bounds.
func (s *Server) validAccessDuration(c *gin.Context, v string) (time.Duration, bool) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_duration", fmt.Sprintf("access_duration: %q is not a duration such as \"4h\" or \"90m\".", v))
		return 0, false
	}
	if d < s.deps.MinAccessDuration || d > s.deps.MaxAccessDuration {
		abort(c, http.StatusBadRequest, "invalid_duration", fmt.Sprintf("access_duration must be between %s and %s.", s.deps.MinAccessDuration, s.deps.MaxAccessDuration))
		return 0, false
	}
	return d, true
}

// checkDomain verifies, live against the tenant, that technician accounts can be provisioned
// in the domain, and returns its canonical name.
func (s *Server) checkDomain(c *gin.Context, applicationID, domain string) (string, bool) {
	domain = strings.TrimSpace(domain)
	if domain == "" || len(domain) > maxDomainLength {
		badField(c, "domain", "must be a domain name of the customer's tenant.")
		return "", false
	}
	domains, err := s.deps.Directory.Domains(c.Request.Context(), applicationID)
	if err != nil {
		s.directoryError(c, err)
		return "", false
	}
	for _, d := range domains {
		if !strings.EqualFold(d.ID, domain) {
			continue
		}
		switch {
		case !d.Managed():
			abort(c, http.StatusBadRequest, "federated_domain_unsupported",
				fmt.Sprintf("%s is a federated domain: sign-in happens at another identity provider, so a managed password cannot work. Pick a managed domain (a custom domain or the .onmicrosoft.com one).", d.ID))
		case !d.IsVerified:
			abort(c, http.StatusBadRequest, "domain_not_verified", fmt.Sprintf("%s is not verified in the customer's tenant; Entra ID refuses accounts in unverified domains.", d.ID))
		default:
			return d.ID, true
		}
		return "", false
	}
	abort(c, http.StatusBadRequest, "domain_not_found", fmt.Sprintf("%s is not a domain of the customer's tenant.", domain))
	return "", false
}

// checkRoles verifies, live against the tenant, that every id is a built-in directory role.
func (s *Server) checkRoles(c *gin.Context, applicationID string, roles []string) ([]string, bool) {
	if len(roles) > maxRolesPerApp {
		badField(c, "roles", fmt.Sprintf("at most %d roles.", maxRolesPerApp))
		return nil, false
	}
	for _, r := range roles {
		if strings.TrimSpace(r) == "" || len(r) > maxRoleIDLength {
			badField(c, "roles", "each role must be a role template id.")
			return nil, false
		}
	}
	if len(roles) == 0 {
		return []string{}, true
	}
	known, err := s.deps.Directory.Roles(c.Request.Context(), applicationID)
	if err != nil {
		s.directoryError(c, err)
		return nil, false
	}
	byID := map[string]string{}
	for _, k := range known {
		byID[strings.ToLower(k.ID)] = k.ID
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		id, ok := byID[strings.ToLower(strings.TrimSpace(r))]
		if !ok {
			abort(c, http.StatusBadRequest, "unknown_role", fmt.Sprintf("%s is not a built-in directory role of the customer's tenant.", quoteForMessage(r)))
			return nil, false
		}
		out = append(out, id)
	}
	return out, true
}

// quoteForMessage quotes caller input for an error message.
func quoteForMessage(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) deleteApplication(c *gin.Context) {
	a, ok := s.application(c)
	if !ok {
		return
	}
	err := s.deps.Store.DeleteApplication(c.Request.Context(), a.TenantID, a.ID)
	if errors.Is(err, store.ErrInUse) {
		abort(c, http.StatusConflict, "application_in_use", "Technicians hold live grants of this application; revoke them first.")
		return
	}
	if s.storeRefError(c, err) {
		return
	}
	s.audit(c, store.AuditEvent{TenantID: a.TenantID, Action: "application.deleted", Target: a.ID, Details: map[string]any{"name": a.Name}})
	c.Status(http.StatusNoContent)
}
