package entrasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
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

// --- validation (graph-facts.md "Users") ---

const upnLocalChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.-_!#^~"

// upnSyntaxOK: allowed characters, no '.' right before '@', ≤113 chars, ≤64 before '@', ≤48 after.
func upnSyntaxOK(upn string) bool {
	local, dom, ok := strings.Cut(upn, "@")
	if !ok || local == "" || dom == "" || strings.Contains(dom, "@") {
		return false
	}
	if len(upn) > 113 || len(local) > 64 || len(dom) > 48 {
		return false
	}
	if strings.HasSuffix(local, ".") {
		return false
	}
	for _, c := range local {
		if !strings.ContainsRune(upnLocalChars, c) {
			return false
		}
	}
	return true
}

const passwordSymbols = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> "

// passwordOK: 8–256 characters, at least 3 of lower/upper/digit/symbol, nothing else.
func passwordOK(pw string) bool {
	if !utf8.ValidString(pw) {
		return false
	}
	n := utf8.RuneCountInString(pw)
	if n < 8 || n > 256 {
		return false
	}
	var lower, upper, digit, sym bool
	for _, c := range pw {
		switch {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		case '0' <= c && c <= '9':
			digit = true
		case strings.ContainsRune(passwordSymbols, c):
			sym = true
		default:
			return false
		}
	}
	k := 0
	for _, b := range []bool{lower, upper, digit, sym} {
		if b {
			k++
		}
	}
	return k >= 3
}

// mailNicknameOK: 1–64 printable ASCII characters without Exchange's forbidden ones.
func mailNicknameOK(n string) bool {
	if n == "" || len(n) > 64 || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") {
		return false
	}
	for _, c := range n {
		if c <= ' ' || c > '~' || strings.ContainsRune("@()\\[]\";:<>,", c) {
			return false
		}
	}
	return true
}

const (
	msgDupUPN       = "Another object with the same value for property userPrincipalName already exists."
	msgBadDomain    = "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."
	msgBadUPN       = "Property userPrincipalName is invalid."
	msgWeakPassword = "The specified password does not comply with password complexity requirements. Please provide a different password."
)

func invalidValue(ids reqIDs, prop string) *gresp {
	return ids.badRequest(fmt.Sprintf("Invalid value specified for property '%s' of resource 'User'.", prop))
}

type userInput struct {
	props      map[string]json.RawMessage // simple properties to set (null clears)
	upn        *string
	display    *string
	nick       *string
	enabled    *bool
	password   *string
	forceChg   *bool
	hasProfile bool
}

// parseUserBody validates property names and JSON types of a user create/update body.
func parseUserBody(ids reqIDs, m map[string]json.RawMessage) (*userInput, *gresp) {
	in := &userInput{props: map[string]json.RawMessage{}}
	schema := userProps()
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		raw := m[k]
		if k == "@odata.type" {
			var t string
			if json.Unmarshal(raw, &t) != nil || t != "#microsoft.graph.user" {
				return nil, ids.graphError(http.StatusBadRequest, "BadRequest", "A type named '"+strings.Trim(string(raw), `"`)+"' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.")
			}
			continue
		}
		kind, ok := schema[k]
		if !ok {
			return nil, unknownProperty(ids, k, "user")
		}
		switch kind {
		case kReadOnly:
			return nil, ids.badRequest(fmt.Sprintf("Property '%s' is read-only and cannot be set.", k))
		case kString:
			var v *string
			if json.Unmarshal(raw, &v) != nil {
				return nil, invalidValue(ids, k)
			}
			in.props[k] = raw
		case kStrings:
			var v []string
			if json.Unmarshal(raw, &v) != nil {
				return nil, invalidValue(ids, k)
			}
			in.props[k] = raw
		case kSpecial:
			switch k {
			case "accountEnabled":
				var v *bool
				if json.Unmarshal(raw, &v) != nil || v == nil {
					return nil, invalidValue(ids, k)
				}
				in.enabled = v
			case "userPrincipalName", "displayName", "mailNickname":
				var v *string
				if json.Unmarshal(raw, &v) != nil || v == nil {
					return nil, invalidValue(ids, k)
				}
				switch k {
				case "userPrincipalName":
					in.upn = v
				case "displayName":
					in.display = v
				default:
					in.nick = v
				}
			case "passwordProfile":
				if isNull(raw) {
					continue // treated as absent
				}
				var pp map[string]json.RawMessage
				if json.Unmarshal(raw, &pp) != nil || pp == nil {
					return nil, invalidValue(ids, k)
				}
				in.hasProfile = true
				for pk, pv := range pp {
					switch pk {
					case "@odata.type":
						var t string
						if json.Unmarshal(pv, &t) != nil || t != "#microsoft.graph.passwordProfile" {
							return nil, invalidValue(ids, k)
						}
					case "password":
						var v *string
						if json.Unmarshal(pv, &v) != nil {
							return nil, invalidValue(ids, k)
						}
						in.password = v
					case "forceChangePasswordNextSignIn", "forceChangePasswordNextSignInWithMfa":
						var v *bool
						if json.Unmarshal(pv, &v) != nil {
							return nil, invalidValue(ids, k)
						}
						if pk == "forceChangePasswordNextSignIn" {
							in.forceChg = v
						}
					default:
						return nil, unknownProperty(ids, pk, "passwordProfile")
					}
				}
			}
		}
	}
	return in, nil
}

// checkUPN applies the UPN rules for a tenant; self is the user being updated (or nil).
func checkUPN(ids reqIDs, t *tenant, upn string, self *user, immutableID bool) *gresp {
	if !upnSyntaxOK(upn) {
		return ids.badRequest(msgBadUPN, errDetail{Code: "InvalidValue", Target: "userPrincipalName"})
	}
	_, dom, _ := strings.Cut(upn, "@")
	d := t.domain(dom)
	if d == nil || !d.IsVerified {
		return ids.badRequest(msgBadDomain)
	}
	if d.Federated && !immutableID {
		// A cloud user in a federated domain needs onPremisesImmutableId (user resource, onPremisesImmutableId).
		return ids.badRequest("Property onPremisesImmutableId is required when creating a user in a federated domain.",
			errDetail{Code: "InvalidValue", Target: "onPremisesImmutableId"})
	}
	if o := t.userByUPN(upn); o != nil && o != self {
		return ids.badRequest(msgDupUPN, errDetail{Target: "userPrincipalName", Code: "ObjectConflict"})
	}
	return nil
}

func (in *userInput) hasImmutableID(u *user) bool {
	if raw, ok := in.props["onPremisesImmutableId"]; ok {
		return !isNull(raw)
	}
	return u != nil && u.propString("onPremisesImmutableId") != ""
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
	if g := checkQueryOptions(gr.query, gr.ids, "$select", "$filter", "$top", "$skiptoken", "$count"); g != nil {
		return g
	}
	var pred func(get func(string) (any, bool)) bool
	if f := gr.query.Get("$filter"); f != "" {
		p, g := parseFilter(gr.ids, f, "User", []string{"id", "userPrincipalName", "displayName", "mail",
			"mailNickname", "accountEnabled", "userType", "givenName", "surname", "onPremisesImmutableId", "employeeId"})
		if g != nil {
			return g
		}
		pred = p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permUsersRead, nil); g != nil {
		return g
	}
	ids := make([]string, 0, len(t.Users))
	for id := range t.Users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var items []map[string]any
	var sel []string
	for _, id := range ids {
		full := s.userFull(t.Users[id])
		if pred != nil && !pred(getter(full)) {
			continue
		}
		obj, s2, g := project(full, userDefaults(), gr.query, "user", gr.ids)
		if g != nil {
			return g
		}
		sel = s2
		items = append(items, obj)
	}
	if sel == nil {
		_, sel, _ = project(s.userFull(&user{}), userDefaults(), gr.query, "user", gr.ids)
	}
	out, g := page(gr, items, 999, "users")
	if g != nil {
		return g
	}
	out["@odata.context"] = contextFor("users", sel, gr.query)
	return &gresp{status: http.StatusOK, body: out}
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
