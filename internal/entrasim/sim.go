package entrasim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// UserView is a user as the inspection helpers show it (not a Graph shape).
type UserView struct {
	ID                      string           `json:"id"`
	UPN                     string           `json:"upn"`
	DisplayName             string           `json:"display_name"`
	MailNickname            string           `json:"mail_nickname"`
	AccountEnabled          bool             `json:"account_enabled"`
	PasswordChangedAt       time.Time        `json:"password_changed_at"`
	SignInSessionsValidFrom time.Time        `json:"sign_in_sessions_valid_from"`
	CreatedAt               time.Time        `json:"created_at"`
	RoleDefinitionIDs       []string         `json:"role_definition_ids"`
	AuthMethods             []AuthMethodView `json:"auth_methods"`
	// AdministrativeUnits lists the ids of the administrative units the user is a member of.
	AdministrativeUnits []string `json:"administrative_units"`
	EmployeeType        string   `json:"employee_type,omitempty"`
}

// AuthMethodView is one authentication method of a user (type as in AddAuthMethod, and id).
type AuthMethodView struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ErrUnknownTenant is returned for a tenant name, id or domain the emulator does not know.
var ErrUnknownTenant = errors.New("entrasim: unknown tenant")

// Users lists a tenant's users (tenant by name, id or domain), sorted by UPN; nil for an unknown tenant.
func (s *Server) Users(tenantRef string) []UserView {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.resolveTenantLocked(tenantRef)
	if t == nil {
		return nil
	}
	out := []UserView{}
	for _, id := range sortedUserIDs(t) {
		u := t.Users[id]
		v := UserView{ID: u.ID, UPN: u.UPN, DisplayName: u.DisplayName, MailNickname: u.MailNickname,
			AccountEnabled: u.AccountEnabled, PasswordChangedAt: u.PasswordChangedAt,
			SignInSessionsValidFrom: u.SignInSessionsValidFrom, CreatedAt: u.CreatedAt, RoleDefinitionIDs: []string{},
			AuthMethods:         []AuthMethodView{{Type: "password", ID: passwordMethodID}},
			AdministrativeUnits: t.unitsOf(u.ID), EmployeeType: u.propString("employeeType")}
		for _, m := range u.AuthMethods {
			v.AuthMethods = append(v.AuthMethods, AuthMethodView{Type: m.Type, ID: m.ID})
		}
		for _, a := range t.Assignments {
			if a.PrincipalID == u.ID {
				v.RoleDefinitionIDs = append(v.RoleDefinitionIDs, a.RoleDefinitionID)
			}
		}
		sort.Strings(v.RoleDefinitionIDs)
		out = append(out, v)
	}
	return out
}

// User returns one user by UPN or object id.
func (s *Server) User(tenantRef, ref string) (UserView, bool) {
	for _, u := range s.Users(tenantRef) {
		if strings.EqualFold(u.UPN, ref) || strings.EqualFold(u.ID, ref) {
			return u, true
		}
	}
	return UserView{}, false
}

// TenantID resolves a tenant name, id or domain to its id.
func (s *Server) TenantID(tenantRef string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.resolveTenantLocked(tenantRef); t != nil {
		return t.ID, true
	}
	return "", false
}

// RevokeConsent withdraws the tenant's consent to the client: every refresh token of that tenant
// for the client is revoked (token endpoint: invalid_grant AADSTS70008) and admin consent is needed again.
func (s *Server) RevokeConsent(tenantRef string) error {
	s.mu.Lock()
	t := s.resolveTenantLocked(tenantRef)
	if t == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownTenant, tenantRef)
	}
	for _, rt := range s.st.RefreshTokens {
		if rt.TenantID == t.ID && rt.ClientID == ClientID {
			rt.Revoked = true
		}
	}
	t.Consented = false
	s.mu.Unlock()
	s.mutated()
	s.log.Info("entrasim: consent revoked", "tenant", t.Name)
	return nil
}

// ErrManagementRestricted is returned by AddAuthMethod for a member of a restricted-management
// administrative unit: a tenant administrator may not modify it.
var ErrManagementRestricted = errors.New("entrasim: user is a member of a restricted management administrative unit")

// ErrUnknownUser is returned for a user the tenant does not have.
var ErrUnknownUser = errors.New("entrasim: unknown user")

// AddAuthMethod registers a method of the given type (see README: phone, email, fido2,
// microsoftAuthenticator, softwareOath, windowsHelloForBusiness, platformCredential) on a user out
// of band, as a customer's own administrator or the user would.
func (s *Server) AddAuthMethod(tenantRef, userRef, typ string) (AuthMethodView, error) {
	k := kindByType(typ)
	if k == nil || k.typ == "password" || k.typ == "temporaryAccessPass" {
		return AuthMethodView{}, fmt.Errorf("entrasim: cannot add a method of type %q", typ)
	}
	s.mu.Lock()
	t := s.resolveTenantLocked(tenantRef)
	if t == nil {
		s.mu.Unlock()
		return AuthMethodView{}, fmt.Errorf("%w %q", ErrUnknownTenant, tenantRef)
	}
	u := t.userRef(userRef)
	if u == nil {
		s.mu.Unlock()
		return AuthMethodView{}, fmt.Errorf("%w %q", ErrUnknownUser, userRef)
	}
	if len(t.restrictedUnits(u.ID)) > 0 {
		// The tenant's own administrators hold tenant-scoped roles, which restricted management blocks.
		s.mu.Unlock()
		return AuthMethodView{}, fmt.Errorf("%w: %q", ErrManagementRestricted, userRef)
	}
	m := &authMethod{ID: newGUID(), Type: k.typ, CreatedAt: s.now()}
	u.AuthMethods = append(u.AuthMethods, m)
	s.mu.Unlock()
	s.mutated()
	return AuthMethodView{Type: m.Type, ID: m.ID}, nil
}

// AddTenant creates another customer tenant, name (lower case letters, digits and '-'), with
// the managed verified domain <name>.onmicrosoft.com and a Global Administrator
// admin@<name>.onmicrosoft.com (password SeedPassword), and returns its id and that admin's
// UPN. A benchmark of many customers gives each its own tenant, hence its own Graph budgets.
func (s *Server) AddTenant(name string) (id, adminUPN string, err error) {
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return "", "", fmt.Errorf("entrasim: tenant name %q: lower case letters, digits and '-' only", name)
	}
	domainName := name + ".onmicrosoft.com"
	s.mu.Lock()
	if s.resolveTenantLocked(name) != nil || s.resolveTenantLocked(domainName) != nil {
		s.mu.Unlock()
		return "", "", fmt.Errorf("entrasim: tenant %q exists", name)
	}
	now := s.now().UTC().Truncate(time.Second)
	admin := &user{ID: newGUID(), UPN: "admin@" + domainName, DisplayName: name + " Admin", MailNickname: "admin",
		AccountEnabled: true, CreatedAt: now, Props: map[string]json.RawMessage{"mail": mustJSON("admin@" + domainName)}}
	admin.setPassword(SeedPassword, now)
	t := &tenant{ID: newGUID(), Name: name, DisplayName: name, CreatedAt: now,
		Domains: []*domain{{ID: domainName, IsVerified: true, IsInitial: true, IsDefault: true}},
		Users:   map[string]*user{admin.ID: admin}, Assignments: map[string]*roleAssignment{}}
	a := &roleAssignment{ID: assignmentID(roleGlobalAdmin, admin.ID), RoleDefinitionID: roleGlobalAdmin, PrincipalID: admin.ID, DirectoryScopeID: "/"}
	t.Assignments[a.ID] = a
	s.st.Tenants = append(s.st.Tenants, t)
	s.mu.Unlock()
	s.mutated()
	return t.ID, admin.UPN, nil
}

// AddGroup creates a security group (only used as a target of method policies) and returns its id.
func (s *Server) AddGroup(tenantRef, displayName string, memberRefs ...string) (string, error) {
	s.mu.Lock()
	t := s.resolveTenantLocked(tenantRef)
	if t == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("%w %q", ErrUnknownTenant, tenantRef)
	}
	g := &group{ID: newGUID(), DisplayName: displayName, Members: []string{}}
	for _, ref := range memberRefs {
		u := t.userRef(ref)
		if u == nil {
			s.mu.Unlock()
			return "", fmt.Errorf("%w %q", ErrUnknownUser, ref)
		}
		g.Members = append(g.Members, u.ID)
	}
	if t.Groups == nil {
		t.Groups = map[string]*group{}
	}
	t.Groups[g.ID] = g
	s.mu.Unlock()
	s.mutated()
	return g.ID, nil
}

// SetTAPPolicyEnabled switches the tenant's Temporary Access Pass policy on or off, as an
// Authentication Policy Administrator would.
func (s *Server) SetTAPPolicyEnabled(tenantRef string, enabled bool) error {
	s.mu.Lock()
	t := s.resolveTenantLocked(tenantRef)
	if t == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownTenant, tenantRef)
	}
	t.tapPolicy().State = map[bool]string{true: "enabled", false: "disabled"}[enabled]
	s.mu.Unlock()
	s.mutated()
	return nil
}

// SetRegistrationRestricted makes the tenant refuse security-info registration at sign-in
// (a password-only sign-in to an MFA-requiring client is then blocked, not interrupted).
func (s *Server) SetRegistrationRestricted(tenantRef string, restricted bool) error {
	s.mu.Lock()
	t := s.resolveTenantLocked(tenantRef)
	if t == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownTenant, tenantRef)
	}
	t.RegistrationRestricted = restricted
	s.mu.Unlock()
	s.mutated()
	return nil
}

func writeSimJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func simError(w http.ResponseWriter, status int, msg string) {
	writeSimJSON(w, status, map[string]any{"error": map[string]string{"message": msg}})
}

// serveSim serves the emulator's own inspection endpoints under /_sim/.
func (s *Server) serveSim(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/_sim/"), "/"), "/")
	switch {
	case len(segs) == 1 && segs[0] == "faults":
		switch r.Method {
		case http.MethodGet:
			writeSimJSON(w, http.StatusOK, s.Faults())
		case http.MethodPut:
			var f Faults
			dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&f); err != nil {
				simError(w, http.StatusBadRequest, "invalid faults: "+err.Error())
				return
			}
			if dec.More() {
				simError(w, http.StatusBadRequest, "invalid faults: trailing data")
				return
			}
			if err := s.SetFaults(f); err != nil {
				simError(w, http.StatusBadRequest, err.Error())
				return
			}
			writeSimJSON(w, http.StatusOK, s.Faults())
		default:
			w.Header().Set("Allow", "GET, PUT")
			simError(w, http.StatusMethodNotAllowed, "method not allowed")
		}
	case len(segs) == 1 && segs[0] == "stats":
		switch r.Method {
		case http.MethodGet:
			writeSimJSON(w, http.StatusOK, s.Stats())
		case http.MethodDelete:
			s.ResetStats()
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, DELETE")
			simError(w, http.StatusMethodNotAllowed, "method not allowed")
		}
	case len(segs) == 3 && segs[0] == "tenants" && segs[2] == "users":
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			simError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		users := s.Users(segs[1])
		if users == nil {
			simError(w, http.StatusNotFound, "unknown tenant "+segs[1])
			return
		}
		writeSimJSON(w, http.StatusOK, users)
	case len(segs) == 5 && segs[0] == "tenants" && segs[2] == "users" && segs[4] == "auth-methods":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			simError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		var in struct {
			Type string `json:"type"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			simError(w, http.StatusBadRequest, "invalid body: "+err.Error())
			return
		}
		v, err := s.AddAuthMethod(segs[1], segs[3], in.Type)
		switch {
		case errors.Is(err, ErrUnknownTenant), errors.Is(err, ErrUnknownUser):
			simError(w, http.StatusNotFound, err.Error())
		case errors.Is(err, ErrManagementRestricted):
			// Same refusal as Graph gives a tenant-scoped admin (admin_units.go).
			ids := s.newIDs(r)
			writeSimJSON(w, http.StatusForbidden, ids.forbidden().body)
		case err != nil:
			simError(w, http.StatusBadRequest, err.Error())
		default:
			writeSimJSON(w, http.StatusCreated, v)
		}
	case len(segs) == 3 && segs[0] == "tenants" && segs[2] == "revoke-consent":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			simError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		if err := s.RevokeConsent(segs[1]); err != nil {
			simError(w, http.StatusNotFound, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case len(segs) == 1 && segs[0] == "admin-center", len(segs) == 2 && segs[0] == "admin-center" && segs[1] == "callback":
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			simError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		s.serveAdminCenter(w, r, len(segs) == 2)
	default:
		simError(w, http.StatusNotFound, "no such inspection endpoint")
	}
}
