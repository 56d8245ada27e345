package entrasim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Default GET property set of a user (user-get.md).
func userDefaults() []string {
	return []string{"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName"}
}

type propKind int

const (
	kString propKind = iota
	kStrings
	kBool
	kReadOnly
	kSpecial // handled explicitly: userPrincipalName, displayName, mailNickname, accountEnabled, passwordProfile
)

// userProps is the user schema the emulator knows (a subset of microsoft.graph.user).
func userProps() map[string]propKind {
	return map[string]propKind{
		"id": kReadOnly, "createdDateTime": kReadOnly, "lastPasswordChangeDateTime": kReadOnly,
		"signInSessionsValidFromDateTime": kReadOnly, "creationType": kReadOnly, "imAddresses": kReadOnly,
		"proxyAddresses": kReadOnly, "onPremisesSyncEnabled": kReadOnly, "externalUserState": kReadOnly,
		"deletedDateTime":   kReadOnly,
		"userPrincipalName": kSpecial, "displayName": kSpecial, "mailNickname": kSpecial,
		"accountEnabled": kSpecial, "passwordProfile": kSpecial,
		"givenName": kString, "surname": kString, "jobTitle": kString, "mail": kString, "mobilePhone": kString,
		"officeLocation": kString, "preferredLanguage": kString, "usageLocation": kString, "department": kString,
		"companyName": kString, "employeeId": kString, "employeeType": kString, "passwordPolicies": kString,
		"onPremisesImmutableId": kString, "city": kString, "country": kString, "state": kString,
		"streetAddress": kString, "postalCode": kString, "userType": kString, "ageGroup": kString,
		"consentProvidedForMinor": kString, "faxNumber": kString,
		"businessPhones": kStrings, "otherMails": kStrings,
	}
}

func (u *user) propString(name string) string {
	var v string
	if raw, ok := u.Props[name]; ok {
		_ = json.Unmarshal(raw, &v)
	}
	return v
}

func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// userFull renders every known property; unset ones are null or [] as Graph returns them.
func (s *Server) userFull(u *user) map[string]any {
	out := map[string]any{}
	for name, kind := range userProps() {
		switch kind {
		case kStrings:
			out[name] = []string{}
		default:
			out[name] = nil
		}
		if raw, ok := u.Props[name]; ok {
			out[name] = raw
		}
	}
	out["imAddresses"] = []string{}
	out["proxyAddresses"] = []string{}
	out["id"] = u.ID
	out["userPrincipalName"] = u.UPN
	out["displayName"] = u.DisplayName
	out["mailNickname"] = u.MailNickname
	out["accountEnabled"] = u.AccountEnabled
	out["createdDateTime"] = fmtTime(u.CreatedAt)
	out["lastPasswordChangeDateTime"] = fmtTime(u.PasswordChangedAt)
	out["signInSessionsValidFromDateTime"] = fmtTime(u.SignInSessionsValidFrom)
	out["passwordProfile"] = nil // write-only
	out["isManagementRestricted"] = s.managementRestrictedLocked(u)
	if _, ok := u.Props["userType"]; !ok {
		out["userType"] = "Member"
	}
	return out
}

// --- handlers ---

func (s *Server) createUser(gr *graphReq) *gresp {
	ids := gr.ids
	m, g := decodeObject(gr)
	if g != nil {
		return g
	}
	in, g := parseUserBody(ids, m)
	if g != nil {
		return g
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permUsersWrite, rolesUserAdmin); g != nil {
		s.mu.Unlock()
		return g
	}
	g = func() *gresp {
		// Required properties (user-post-users.md).
		switch {
		case in.enabled == nil:
			return invalidValue(ids, "accountEnabled")
		case in.display == nil || strings.TrimSpace(*in.display) == "" || utf8.RuneCountInString(*in.display) > 256:
			return invalidValue(ids, "displayName")
		case in.nick == nil:
			return invalidValue(ids, "mailNickname")
		case in.upn == nil:
			return invalidValue(ids, "userPrincipalName")
		case !in.hasProfile || in.password == nil || *in.password == "":
			return ids.badRequest("A password must be specified to create a new user.")
		}
		if g := checkUPN(ids, t, *in.upn, nil, in.hasImmutableID(nil)); g != nil {
			return g
		}
		if !mailNicknameOK(*in.nick) {
			return ids.badRequest("Invalid value specified for property 'mailNickname' of resource 'User'.")
		}
		if !passwordOK(*in.password) {
			return ids.badRequest(msgWeakPassword)
		}
		return nil
	}()
	if g != nil {
		s.mu.Unlock()
		return g
	}
	now := s.now()
	u := &user{ID: newGUID(), UPN: *in.upn, DisplayName: *in.display, MailNickname: *in.nick,
		AccountEnabled: *in.enabled, CreatedAt: now, Props: map[string]json.RawMessage{}}
	u.setPassword(*in.password, now)
	u.ForceChangePassword = in.forceChg != nil && *in.forceChg
	for k, v := range in.props {
		if !isNull(v) {
			u.Props[k] = v
		}
	}
	t.Users[u.ID] = u
	obj, _, _ := project(s.userFull(u), userDefaults(), nil, "user", ids)
	s.mu.Unlock()
	s.mutated()
	s.log.Info("entrasim: user created", "tenant", t.Name, "upn", u.UPN)
	obj["@odata.context"] = graphMetadata + "users/$entity"
	return &gresp{status: http.StatusCreated, body: obj,
		headers: map[string]string{"Location": "https://graph.microsoft.com/v2/" + t.ID + "/directoryObjects/" + u.ID + "/Microsoft.DirectoryServices.User"}}
}

func (s *Server) getUser(gr *graphReq) *gresp {
	if g := checkQueryOptions(gr.query, gr.ids, "$select"); g != nil {
		return g
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permUsersRead, nil); g != nil {
		return g
	}
	u := t.userRef(gr.segs[1])
	if u == nil {
		return gr.ids.notFound(gr.segs[1])
	}
	obj, sel, g := project(s.userFull(u), userDefaults(), gr.query, "user", gr.ids)
	if g != nil {
		return g
	}
	obj["@odata.context"] = contextFor("users", sel, gr.query) + "/$entity"
	return &gresp{status: http.StatusOK, body: obj}
}

func (s *Server) listUsers(gr *graphReq) *gresp {
	return s.listCollection(gr, collection{path: "users", typeName: "user", filterType: "User",
		filterable: []string{"id", "userPrincipalName", "displayName", "mail", "mailNickname", "accountEnabled",
			"userType", "givenName", "surname", "onPremisesImmutableId", "employeeId"},
		options: []string{"$select", "$filter", "$top", "$skiptoken", "$count"}, perms: permUsersRead,
		defaults: userDefaults(), empty: s.userFull(&user{}),
		objects: func(t *tenant) []map[string]any {
			return sortedObjects(t.Users, s.userFull)
		}})
}

func getter(full map[string]any) func(string) (any, bool) {
	return func(name string) (any, bool) {
		for k, v := range full {
			if strings.EqualFold(k, name) {
				if raw, ok := v.(json.RawMessage); ok {
					var x any
					_ = json.Unmarshal(raw, &x)
					return x, true
				}
				return v, true
			}
		}
		return nil, false
	}
}

func (s *Server) patchUser(gr *graphReq) *gresp {
	ids := gr.ids
	m, g := decodeObject(gr)
	if g != nil {
		return g
	}
	in, g := parseUserBody(ids, m)
	if g != nil {
		return g
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permUsersWrite, rolesUserAdmin); g != nil {
		s.mu.Unlock()
		return g
	}
	u := t.userRef(gr.segs[1])
	if u == nil {
		s.mu.Unlock()
		return ids.notFound(gr.segs[1])
	}
	if g := gr.rmauDenied(t, u, in.rmauKind()...); g != nil {
		s.mu.Unlock()
		return g
	}
	g = func() *gresp {
		if in.display != nil && (strings.TrimSpace(*in.display) == "" || utf8.RuneCountInString(*in.display) > 256) {
			return invalidValue(ids, "displayName")
		}
		if in.upn != nil && !strings.EqualFold(*in.upn, u.UPN) {
			if g := checkUPN(ids, t, *in.upn, u, in.hasImmutableID(u)); g != nil {
				return g
			}
		}
		if in.nick != nil && !mailNicknameOK(*in.nick) {
			return ids.badRequest("Invalid value specified for property 'mailNickname' of resource 'User'.")
		}
		if in.password != nil && !passwordOK(*in.password) {
			return ids.badRequest(msgWeakPassword)
		}
		return nil
	}()
	if g != nil {
		s.mu.Unlock()
		return g
	}
	now := s.now()
	if in.upn != nil {
		u.UPN = *in.upn
	}
	if in.display != nil {
		u.DisplayName = *in.display
	}
	if in.nick != nil {
		u.MailNickname = *in.nick
	}
	if in.enabled != nil {
		u.AccountEnabled = *in.enabled
	}
	if in.password != nil {
		// An admin password reset also revokes the user's refresh tokens (AADSTS50173).
		u.setPassword(*in.password, now)
	}
	if in.hasProfile {
		u.ForceChangePassword = in.forceChg != nil && *in.forceChg
	}
	if u.Props == nil {
		u.Props = map[string]json.RawMessage{}
	}
	for k, v := range in.props {
		if isNull(v) {
			delete(u.Props, k)
		} else {
			u.Props[k] = v
		}
	}
	s.mu.Unlock()
	s.mutated()
	return &gresp{status: http.StatusNoContent}
}

func (s *Server) deleteUser(gr *graphReq) *gresp {
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permUsersWrite, rolesUserAdmin); g != nil {
		s.mu.Unlock()
		return g
	}
	u := t.userRef(gr.segs[1])
	if u == nil {
		s.mu.Unlock()
		return gr.ids.notFound(gr.segs[1])
	}
	if g := gr.rmauDenied(t, u, rmauSensitive); g != nil {
		s.mu.Unlock()
		return g
	}
	// Deleting a user removes its role assignments (the object goes to deleted items).
	delete(t.Users, u.ID)
	for id, a := range t.Assignments {
		if a.PrincipalID == u.ID {
			delete(t.Assignments, id)
		}
	}
	s.mu.Unlock()
	s.mutated()
	return &gresp{status: http.StatusNoContent}
}

func (s *Server) revokeSessions(gr *graphReq) *gresp {
	if len(strings.TrimSpace(string(gr.body))) > 0 {
		if _, g := decodeObject(gr); g != nil {
			return g
		}
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permRevoke, rolesUserAdmin); g != nil {
		s.mu.Unlock()
		return g
	}
	u := t.userRef(gr.segs[1])
	if u == nil {
		s.mu.Unlock()
		return gr.ids.notFound(gr.segs[1])
	}
	if g := gr.rmauDenied(t, u, rmauRevoke); g != nil {
		s.mu.Unlock()
		return g
	}
	u.SignInSessionsValidFrom = s.now()
	s.mu.Unlock()
	s.mutated()
	// Documented response: 200 with an Edm.Boolean (user-revokesigninsessions.md).
	return &gresp{status: http.StatusOK, body: map[string]any{"@odata.context": graphMetadata + "Edm.Boolean", "value": true}}
}
