package entrasim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Authentication methods of a user and the Temporary Access Pass method policy
// (graph-facts-auth-methods.md §1–§2).

// passwordMethodID is the id Graph "generally" gives every user's password method.
const passwordMethodID = "28c10230-6103-485e-b985-444c60001490"

// methodKind describes one authentication method type of Graph v1.0.
type methodKind struct {
	typ        string // short type, as the inspection endpoints name it
	collection string // segment under /users/{id}/authentication/
	odataType  string
	deletable  bool
}

var methodKinds = []methodKind{
	{"password", "passwordMethods", "#microsoft.graph.passwordAuthenticationMethod", false},
	{"email", "emailMethods", "#microsoft.graph.emailAuthenticationMethod", true},
	{"fido2", "fido2Methods", "#microsoft.graph.fido2AuthenticationMethod", true},
	{"microsoftAuthenticator", "microsoftAuthenticatorMethods", "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", true},
	{"phone", "phoneMethods", "#microsoft.graph.phoneAuthenticationMethod", true},
	{"softwareOath", "softwareOathMethods", "#microsoft.graph.softwareOathAuthenticationMethod", true},
	{"temporaryAccessPass", "temporaryAccessPassMethods", "#microsoft.graph.temporaryAccessPassAuthenticationMethod", true},
	{"windowsHelloForBusiness", "windowsHelloForBusinessMethods", "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod", true},
	{"platformCredential", "platformCredentialMethods", "#microsoft.graph.platformCredentialAuthenticationMethod", true},
}

func kindByType(typ string) *methodKind {
	for i := range methodKinds {
		if strings.EqualFold(methodKinds[i].typ, typ) {
			return &methodKinds[i]
		}
	}
	return nil
}

func kindByCollection(c string) *methodKind {
	for i := range methodKinds {
		if strings.EqualFold(methodKinds[i].collection, c) {
			return &methodKinds[i]
		}
	}
	return nil
}

// authMethod is a registered method other than the password.
type authMethod struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	// Temporary Access Pass only.
	TAPSalt         string    `json:"tap_salt,omitempty"`
	TAPHash         string    `json:"tap_hash,omitempty"`
	StartAt         time.Time `json:"start_at,omitempty"`
	LifetimeMinutes int       `json:"lifetime_minutes,omitempty"`
	UsableOnce      bool      `json:"usable_once,omitempty"`
	Used            bool      `json:"used,omitempty"`
}

func (m *authMethod) tapEnd() time.Time {
	return m.StartAt.Add(time.Duration(m.LifetimeMinutes) * time.Minute)
}

// Permissions of the authentication-method APIs (graph-facts-auth-methods.md §1.2, §1.3, §2).
var (
	permMethodsRead  = []string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
	permMethodsWrite = []string{"UserAuthenticationMethod.ReadWrite.All"}
	permPolicyRead   = []string{"Policy.Read.AuthenticationMethod", "Policy.ReadWrite.AuthenticationMethod", "Policy.Read.All"}
	permPolicyWrite  = []string{"Policy.ReadWrite.AuthenticationMethod"}

	rolesMethodsRead = []string{roleGlobalAdmin, roleGlobalReader, roleAuthAdmin, rolePrivilegedAuthAdmin}
	rolesPolicyRead  = []string{roleGlobalAdmin, roleGlobalReader, roleAuthPolicyAdmin, roleSecurityAdmin, roleSecurityReader}
	rolesPolicyWrite = []string{roleGlobalAdmin, roleAuthPolicyAdmin}
	// Roles an Authentication Administrator may still manage methods for ("Who can perform
	// sensitive actions"); any other role on the target needs a Privileged Authentication Administrator.
	authAdminTargets = []string{roleAuthAdmin, "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "95e79109-95c0-4d8e-aee3-d01accf2d47b",
		"790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b", "966707d0-3269-4727-9be2-8c3a10f19b9d", "4a5d8f65-41da-4de4-8968-e035b65339cf",
		"75934031-6c7e-415a-99d7-48dbd49e875e"}
)

// authorizeMethodWrite checks the scope and, for a delegated caller, that the signed-in admin may
// manage this target's methods: Privileged Authentication or Global Administrator for everyone,
// Authentication Administrator only for non-admins and a few reader-like roles; never oneself.
func (gr *graphReq) authorizeMethodWrite(t *tenant, target *user) *gresp {
	if g := gr.authorize(t, permMethodsWrite, nil); g != nil {
		return g
	}
	if g := gr.rmauDenied(t, target, rmauMethods); g != nil {
		return g
	}
	if gr.pr.app {
		return nil
	}
	if gr.pr.userID == target.ID {
		return gr.ids.forbidden()
	}
	if t.hasRole(gr.pr.userID, roleGlobalAdmin, rolePrivilegedAuthAdmin) {
		return nil
	}
	if !t.hasRole(gr.pr.userID, roleAuthAdmin) {
		return gr.ids.forbidden()
	}
	for _, a := range t.Assignments {
		if a.PrincipalID == target.ID && !containsFold(authAdminTargets, a.RoleDefinitionID) {
			return gr.ids.forbidden()
		}
	}
	return nil
}

func methodJSON(t *tenant, u *user, k *methodKind, m *authMethod, now time.Time) map[string]any {
	if k.typ == "password" {
		return map[string]any{"@odata.type": k.odataType, "id": passwordMethodID, "password": nil,
			"createdDateTime": fmtTime(u.PasswordChangedAt)}
	}
	out := map[string]any{"@odata.type": k.odataType, "id": m.ID, "createdDateTime": fmtTime(m.CreatedAt)}
	switch k.typ {
	case "phone":
		out["phoneNumber"] = "+1 4255550100"
		out["phoneType"] = "mobile"
		out["smsSignInState"] = "notAllowedByPolicy"
	case "email":
		out["emailAddress"] = "recovery@example.com"
	case "fido2":
		out["displayName"] = "Security key"
		out["aaGuid"] = "2fc0579f-8113-47ea-b116-bb5a8db9202a"
		out["model"] = "YubiKey 5"
		out["attestationCertificates"] = []string{}
		out["attestationLevel"] = "attested"
	case "microsoftAuthenticator":
		out["displayName"] = "Phone"
		out["deviceTag"] = "SoftwareTokenActivated"
		out["phoneAppVersion"] = "6.2401.0119"
	case "softwareOath":
		out["secretKey"] = nil
	case "windowsHelloForBusiness", "platformCredential":
		out["displayName"] = "Device"
		out["keyStrength"] = "normal"
	case "temporaryAccessPass":
		reason := t.tapUsability(m, u, now)
		out["temporaryAccessPass"] = nil // shown only in the create response
		out["startDateTime"] = m.StartAt.UTC().Format(time.RFC3339)
		out["lifetimeInMinutes"] = m.LifetimeMinutes
		out["isUsableOnce"] = m.UsableOnce
		out["isUsable"] = reason == "EnabledByPolicy"
		out["methodUsabilityReason"] = reason
	}
	return out
}

func (u *user) method(id string) *authMethod {
	for _, m := range u.AuthMethods {
		if strings.EqualFold(m.ID, id) {
			return m
		}
	}
	return nil
}

// serveAuthentication handles /users/{id|upn}/authentication/...
func (s *Server) serveAuthentication(gr *graphReq) *gresp {
	segs, ids := gr.segs, gr.ids
	if len(segs) < 4 {
		return ids.graphError(http.StatusBadRequest, "BadRequest", "Resource not found for the segment 'authentication'.")
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	u := t.userRef(segs[1])
	read := gr.method == http.MethodGet
	var g *gresp
	if read {
		g = gr.authorize(t, permMethodsRead, rolesMethodsRead)
	} else {
		g = gr.authorize(t, permMethodsWrite, nil)
	}
	if g == nil && u == nil {
		g = ids.notFound(segs[1])
	}
	if g == nil && !read {
		g = gr.authorizeMethodWrite(t, u)
	}
	if g != nil {
		s.mu.Unlock()
		return g
	}
	now := s.now()
	coll := segs[3]
	if strings.EqualFold(coll, "methods") {
		defer s.mu.Unlock()
		if !read {
			return methodNotAllowed(ids)
		}
		if len(segs) == 4 {
			list := []any{methodJSON(t, u, kindByType("password"), nil, now)}
			for _, m := range u.AuthMethods {
				list = append(list, methodJSON(t, u, kindByType(m.Type), m, now))
			}
			return &gresp{status: http.StatusOK, body: map[string]any{
				"@odata.context": graphMetadata + "users('" + u.ID + "')/authentication/methods", "value": list}}
		}
		if len(segs) == 5 {
			if strings.EqualFold(segs[4], passwordMethodID) {
				return &gresp{status: http.StatusOK, body: methodJSON(t, u, kindByType("password"), nil, now)}
			}
			if m := u.method(segs[4]); m != nil {
				return &gresp{status: http.StatusOK, body: methodJSON(t, u, kindByType(m.Type), m, now)}
			}
			return ids.notFound(segs[4])
		}
		return ids.graphError(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", segs[5]))
	}
	k := kindByCollection(coll)
	if k == nil || len(segs) > 5 {
		s.mu.Unlock()
		return ids.graphError(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", coll))
	}
	ctx := graphMetadata + "users('" + u.ID + "')/authentication/" + k.collection
	if len(segs) == 4 {
		switch gr.method {
		case http.MethodGet:
			defer s.mu.Unlock()
			list := []any{}
			if k.typ == "password" {
				list = append(list, methodJSON(t, u, k, nil, now))
			}
			for _, m := range u.AuthMethods {
				if m.Type == k.typ {
					list = append(list, methodJSON(t, u, k, m, now))
				}
			}
			return &gresp{status: http.StatusOK, body: map[string]any{"@odata.context": ctx, "value": list}}
		case http.MethodPost:
			if k.typ != "temporaryAccessPass" {
				s.mu.Unlock()
				return methodNotAllowed(ids)
			}
			g, changed := s.createTAPLocked(gr, t, u, now)
			s.mu.Unlock()
			if changed {
				s.mutated()
			}
			return g
		}
		s.mu.Unlock()
		return methodNotAllowed(ids)
	}
	id := segs[4]
	if k.typ == "password" {
		defer s.mu.Unlock()
		if !strings.EqualFold(id, passwordMethodID) {
			return ids.notFound(id)
		}
		if gr.method != http.MethodGet {
			return methodNotAllowed(ids) // the password method cannot be deleted
		}
		return &gresp{status: http.StatusOK, body: methodJSON(t, u, k, nil, now)}
	}
	m := u.method(id)
	if m == nil || m.Type != k.typ {
		s.mu.Unlock()
		return ids.notFound(id)
	}
	switch gr.method {
	case http.MethodGet:
		defer s.mu.Unlock()
		body := methodJSON(t, u, k, m, now)
		body["@odata.context"] = ctx + "/$entity"
		return &gresp{status: http.StatusOK, body: body}
	case http.MethodDelete:
		if !k.deletable {
			s.mu.Unlock()
			return methodNotAllowed(ids)
		}
		u.removeMethod(m.ID)
		s.mu.Unlock()
		s.mutated()
		s.log.Info("entrasim: authentication method deleted", "tenant", t.Name, "upn", u.UPN, "type", m.Type)
		return &gresp{status: http.StatusNoContent}
	}
	s.mu.Unlock()
	return methodNotAllowed(ids)
}

func (u *user) removeMethod(id string) {
	out := u.AuthMethods[:0]
	for _, m := range u.AuthMethods {
		if m.ID != id {
			out = append(out, m)
		}
	}
	u.AuthMethods = out
}
