package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// CreateApplication adds an Entra ID application to a customer tenant (the vendor's form:
// type Web, credentials Entra ID OIDC), unauthorized, with the default access duration.
func (s *Service) CreateApplication(ctx context.Context, a domain.Actor, tenantID, name, typ, creds string) (store.Application, error) {
	name, err := domain.CheckName("name", name)
	if err != nil {
		return store.Application{}, err
	}
	if typ != appTypeWeb {
		return store.Application{}, domain.FieldError("type", `must be "web".`)
	}
	if creds != credsEntraOIDC {
		return store.Application{}, domain.FieldError("credentials", `must be "entra_oidc".`)
	}
	app, err := s.deps.Store.CreateApplication(ctx, tenantID, store.NewApplication{
		Name: name, Type: typ, Credentials: creds, AccessDuration: s.defaultAccessDuration()})
	if errors.Is(err, store.ErrConflict) {
		return app, domain.Refuse(domain.Conflict, "already_exists", "The tenant already has an application with this name.")
	}
	if err != nil {
		return app, domain.RefError(err)
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: app.TenantID, Action: "application.created", Target: app.ID, Details: map[string]any{"name": app.Name}})
	return app, nil
}

// Application loads an application of a tenant; an application of another tenant does not
// exist here (domain.NotFound).
func (s *Service) Application(ctx context.Context, tenantID, applicationID string) (store.Application, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return store.Application{}, err
	}
	a, err := s.deps.Store.Application(ctx, tenantID, applicationID)
	if errors.Is(err, store.ErrNotFound) {
		return a, domain.NotFoundError("application")
	}
	return a, err
}

// ApplicationPatch is the PATCH body; absent fields stay unchanged.
type ApplicationPatch struct {
	Name           *string   `json:"name"`
	AccessDuration *string   `json:"access_duration"`
	Domain         *string   `json:"domain"`
	Roles          *[]string `json:"roles"`
	// SignInMethod: password | tap | password_and_tap; a TAP needs the tenant's policy on.
	SignInMethod *string `json:"sign_in_method"`
	// Policy (SPEC §10) is merged over the effective policy; null forgets the saved one.
	Policy json.RawMessage `json:"policy"`
	// RestrictedAdminUnit: JIT accounts go into a restricted-management administrative unit;
	// turning it on is checked live (the unit is ensured in the tenant).
	RestrictedAdminUnit *bool `json:"restricted_admin_unit"`
}

// UpdateApplication changes an application's name, access duration, domain and roles. The
// domain and roles need an authorized application and are checked live against the
// customer's tenant.
func (s *Service) UpdateApplication(ctx context.Context, actor domain.Actor, tenantID, applicationID string, in ApplicationPatch) (store.Application, error) {
	a, err := s.Application(ctx, tenantID, applicationID)
	if err != nil {
		return a, err
	}
	var patch store.ApplicationPatch
	changed := map[string]any{}
	if in.Name != nil {
		name, err := domain.CheckName("name", *in.Name)
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
			return a, domain.Refuse(domain.Conflict, "application_not_authorized", "Authorize the application first: the domain and roles are checked against the customer's tenant.")
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
	if in.SignInMethod != nil {
		if err := s.setSignInMethod(ctx, actor, a, *in.SignInMethod); err != nil {
			return a, err
		}
		changed["sign_in_method"] = *in.SignInMethod
	}
	var pol *policyChange
	if len(in.Policy) > 0 {
		ch, err := s.checkPolicy(ctx, a, in.Policy)
		if err != nil {
			return a, err
		}
		pol = &ch
		changed["policy"] = true
	}
	if in.RestrictedAdminUnit != nil {
		if err := s.setRestrictedAdminUnit(ctx, actor, a, *in.RestrictedAdminUnit); err != nil {
			return a, err
		}
		changed["restricted_admin_unit"] = *in.RestrictedAdminUnit
	}
	updated, err := s.deps.Store.UpdateApplication(ctx, a.TenantID, a.ID, patch)
	if errors.Is(err, store.ErrConflict) {
		return a, domain.Refuse(domain.Conflict, "already_exists", "The tenant already has an application with this name.")
	}
	if err != nil {
		return a, domain.RefError(err)
	}
	if pol != nil {
		if err := s.savePolicy(ctx, actor, updated, *pol); err != nil {
			return updated, err
		}
	}
	if updated.Status != a.Status {
		changed["status"] = updated.Status
	}
	s.Audit(ctx, actor, store.AuditEvent{TenantID: a.TenantID, Action: "application.updated", Target: a.ID, Details: changed})
	return updated, nil
}

// checkAccessDuration parses a Go duration and checks it against the configured bounds.
func (s *Service) checkAccessDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, &domain.Error{Kind: domain.Invalid, Code: "invalid_duration", Field: "access_duration",
			Message: fmt.Sprintf("access_duration: %q is not a duration such as \"4h\" or \"90m\".", v)}
	}
	if d < s.deps.MinAccessDuration || d > s.deps.MaxAccessDuration {
		return 0, &domain.Error{Kind: domain.Invalid, Code: "invalid_duration", Field: "access_duration",
			Message: fmt.Sprintf("access_duration must be between %s and %s.", s.deps.MinAccessDuration, s.deps.MaxAccessDuration)}
	}
	return d, nil
}

// checkDomain verifies, live against the tenant, that technician accounts can be provisioned
// in the domain, and returns its canonical name.
func (s *Service) checkDomain(ctx context.Context, actor domain.Actor, applicationID, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxDomainLength {
		return "", domain.FieldError("domain", "must be a domain name of the customer's tenant.")
	}
	domains, err := s.deps.Directory.Domains(ctx, applicationID)
	if err != nil {
		return "", s.directoryError(ctx, actor, "domains", err)
	}
	for _, d := range domains {
		if !strings.EqualFold(d.ID, name) {
			continue
		}
		switch {
		case !d.Managed():
			return "", &domain.Error{Kind: domain.Invalid, Code: "federated_domain_unsupported", Field: "domain",
				Message: fmt.Sprintf("%s is a federated domain: sign-in happens at another identity provider, so a managed password cannot work. Pick a managed domain (a custom domain or the .onmicrosoft.com one).", d.ID)}
		case !d.IsVerified:
			return "", &domain.Error{Kind: domain.Invalid, Code: "domain_not_verified", Field: "domain",
				Message: fmt.Sprintf("%s is not verified in the customer's tenant; Entra ID refuses accounts in unverified domains.", d.ID)}
		default:
			return d.ID, nil
		}
	}
	return "", &domain.Error{Kind: domain.Invalid, Code: "domain_not_found", Field: "domain",
		Message: fmt.Sprintf("%s is not a domain of the customer's tenant.", name)}
}

// checkRoles verifies, live against the tenant, that every id is a built-in directory role.
func (s *Service) checkRoles(ctx context.Context, actor domain.Actor, applicationID string, roles []string) ([]string, error) {
	if len(roles) > maxRolesPerApp {
		return nil, domain.FieldError("roles", fmt.Sprintf("at most %d roles.", maxRolesPerApp))
	}
	for _, r := range roles {
		if strings.TrimSpace(r) == "" || len(r) > maxRoleIDLength {
			return nil, domain.FieldError("roles", "each role must be a role template id.")
		}
	}
	if len(roles) == 0 {
		return []string{}, nil
	}
	known, err := s.deps.Directory.Roles(ctx, applicationID)
	if err != nil {
		return nil, s.directoryError(ctx, actor, "roles", err)
	}
	byID := map[string]string{}
	for _, k := range known {
		byID[strings.ToLower(k.ID)] = k.ID
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		id, ok := byID[strings.ToLower(strings.TrimSpace(r))]
		if !ok {
			return nil, &domain.Error{Kind: domain.Invalid, Code: "unknown_role", Field: "roles",
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

// DeleteApplication removes an application without live grants.
func (s *Service) DeleteApplication(ctx context.Context, actor domain.Actor, tenantID, applicationID string) error {
	a, err := s.Application(ctx, tenantID, applicationID)
	if err != nil {
		return err
	}
	err = s.deps.Store.DeleteApplication(ctx, a.TenantID, a.ID)
	if errors.Is(err, store.ErrInUse) {
		return domain.Refuse(domain.Conflict, "application_in_use", "Technicians hold live grants of this application; revoke them first.")
	}
	if err != nil {
		return domain.RefError(err)
	}
	s.Audit(ctx, actor, store.AuditEvent{TenantID: a.TenantID, Action: "application.deleted", Target: a.ID, Details: map[string]any{"name": a.Name}})
	return nil
}

// defaultAccessDuration is 4 hours, kept within the configured bounds.
func (s *Service) defaultAccessDuration() time.Duration {
	d := store.DefaultAccessDuration
	d = min(d, s.deps.MaxAccessDuration)
	return max(d, s.deps.MinAccessDuration)
}

// authorizedApplicationID loads the application and requires an authorization.
func (s *Service) authorizedApplicationID(ctx context.Context, tenantID, applicationID string) (string, error) {
	a, err := s.Application(ctx, tenantID, applicationID)
	if err != nil {
		return "", err
	}
	if a.Authorization == nil {
		return "", domain.Refuse(domain.Conflict, "application_not_authorized", "Authorize the application first.")
	}
	return a.ID, nil
}

// What an Entra ID application is made of (the vendor's form: type Web, Entra ID OIDC).
const (
	appTypeWeb      = "web"
	credsEntraOIDC  = "entra_oidc"
	maxRolesPerApp  = 50
	maxRoleIDLength = 64
	maxDomainLength = 253
)

// setSignInMethod saves the application's sign-in method; one that issues a Temporary Access
// Pass is refused (tap_policy_disabled) while the tenant's policy is off, read live.
func (s *Service) setSignInMethod(ctx context.Context, actor domain.Actor, a store.Application, method string) error {
	switch method {
	case store.SignInPassword, store.SignInTAP, store.SignInPasswordAndTAP:
	default:
		return &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Field: "sign_in_method", Message: "sign_in_method: must be password, tap or password_and_tap"}
	}
	if store.UsesTAP(method) && a.Authorization == nil {
		return domain.Refuse(domain.Conflict, "application_not_authorized", "Authorize the application first: the tenant's Temporary Access Pass policy is checked live.")
	}
	err := s.deps.Store.SetSignInMethod(ctx, a.ID, method, s.deps.Directory)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrInvalidSignInMethod):
		return &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Field: "sign_in_method", Message: "sign_in_method: must be password, tap or password_and_tap"}
	case errors.Is(err, directory.ErrTAPPolicyDisabled):
		return &domain.Error{Kind: domain.Invalid, Code: "tap_policy_disabled", Field: "sign_in_method", Message: "sign_in_method " + quoteForMessage(method) +
			": the tenant's Temporary Access Pass policy is disabled or does not include the accounts; enable it in Entra admin center > " +
			"Protection > Authentication methods > Policies > Temporary Access Pass, or use sign_in_method password"}
	case errors.Is(err, store.ErrNotFound):
		return domain.NotFoundError("application")
	}
	return s.directoryError(ctx, actor, "read the Temporary Access Pass policy", err)
}
