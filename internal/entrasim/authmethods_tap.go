package entrasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// tapPolicy is the TemporaryAccessPass authenticationMethodConfiguration of a tenant.
type tapPolicy struct {
	State                    string      `json:"state"`
	DefaultLifetimeInMinutes int         `json:"default_lifetime_in_minutes"`
	DefaultLength            int         `json:"default_length"`
	MinimumLifetimeInMinutes int         `json:"minimum_lifetime_in_minutes"`
	MaximumLifetimeInMinutes int         `json:"maximum_lifetime_in_minutes"`
	IsUsableOnce             bool        `json:"is_usable_once"`
	IncludeTargets           []tapTarget `json:"include_targets"`
	ExcludeTargets           []tapTarget `json:"exclude_targets"`
}

type tapTarget struct {
	TargetType             string `json:"targetType"`
	ID                     string `json:"id"`
	IsRegistrationRequired bool   `json:"isRegistrationRequired"`
}

// allUsersTarget is the built-in target "all users" of a method policy.
const allUsersTarget = "all_users"

// defaultTAPPolicy is Microsoft's documented example and default values (state: the emulator
// seeds it enabled, since a fresh tenant's default is not documented).
func defaultTAPPolicy() *tapPolicy {
	return &tapPolicy{State: "enabled", DefaultLifetimeInMinutes: 60, DefaultLength: 8, MinimumLifetimeInMinutes: 60,
		MaximumLifetimeInMinutes: 480, IncludeTargets: []tapTarget{{TargetType: "group", ID: allUsersTarget}}, ExcludeTargets: []tapTarget{}}
}

func (t *tenant) tapPolicy() *tapPolicy {
	if t.TAPPolicy == nil {
		t.TAPPolicy = defaultTAPPolicy()
	}
	return t.TAPPolicy
}

// inScope reports whether the policy targets the user (groups are the tenant's emulated groups).
func (p *tapPolicy) inScope(t *tenant, userID string) bool {
	match := func(ts []tapTarget) bool {
		for _, x := range ts {
			if x.ID == allUsersTarget || t.groupHas(x.ID, userID) {
				return true
			}
		}
		return false
	}
	return match(p.IncludeTargets) && !match(p.ExcludeTargets)
}

func (t *tenant) groupHas(groupID, userID string) bool {
	g := t.Groups[strings.ToLower(groupID)]
	if g == nil {
		return false
	}
	for _, m := range g.Members {
		if m == userID {
			return true
		}
	}
	return false
}

// tapUsability is methodUsabilityReason: EnabledByPolicy, DisabledByPolicy, Expired, NotYetValid, OneTimeUsed.
func (t *tenant) tapUsability(m *authMethod, u *user, now time.Time) string {
	p := t.tapPolicy()
	switch {
	case m.Used && m.UsableOnce:
		return "OneTimeUsed"
	case now.Before(m.StartAt):
		return "NotYetValid"
	case !now.Before(m.tapEnd()):
		return "Expired"
	case p.State != "enabled" || !p.inScope(t, u.ID):
		return "DisabledByPolicy"
	}
	return "EnabledByPolicy"
}

// msgTAPPolicy is what Graph answers when the TAP policy is off or does not target the user
// (observed text; Microsoft documents neither its status nor its code: the emulator answers
// 400 badRequest like the documented lifetime error).
const msgTAPPolicy = "Converged UserCredentialPolicy does not allow creating or updating this authentication method. AuthMethodType [TemporaryAccessPass]."

// createTAPLocked is POST /users/{id}/authentication/temporaryAccessPassMethods.
func (s *Server) createTAPLocked(gr *graphReq, t *tenant, u *user, now time.Time) (*gresp, bool) {
	ids := gr.ids
	var in struct {
		StartDateTime     *time.Time `json:"startDateTime"`
		LifetimeInMinutes *int       `json:"lifetimeInMinutes"`
		IsUsableOnce      *bool      `json:"isUsableOnce"`
	}
	if len(strings.TrimSpace(string(gr.body))) > 0 {
		m, g := decodeObject(gr)
		if g != nil {
			return g, false
		}
		for k, raw := range m {
			var err error
			switch k {
			case "@odata.type":
				var typ string
				err = json.Unmarshal(raw, &typ)
				if err == nil && !strings.EqualFold(strings.TrimPrefix(typ, "#"), "microsoft.graph.temporaryAccessPassAuthenticationMethod") {
					return ids.graphError(http.StatusBadRequest, "BadRequest", "A type named '"+typ+"' could not be resolved by the model."), false
				}
			case "startDateTime":
				err = json.Unmarshal(raw, &in.StartDateTime)
			case "lifetimeInMinutes":
				err = json.Unmarshal(raw, &in.LifetimeInMinutes)
			case "isUsableOnce":
				err = json.Unmarshal(raw, &in.IsUsableOnce)
			default:
				return unknownProperty(ids, k, "temporaryAccessPassAuthenticationMethod"), false
			}
			if err != nil {
				return ids.badJSON(), false
			}
		}
	}
	p := t.tapPolicy()
	policyErr := func(msg string) *gresp { return ids.graphError(http.StatusBadRequest, "badRequest", msg) }
	if strings.EqualFold(u.propString("userType"), "Guest") {
		return policyErr("Temporary Access Pass cannot be added to an external guest user."), false
	}
	if p.State != "enabled" || !p.inScope(t, u.ID) {
		return policyErr(msgTAPPolicy), false
	}
	lifetime := p.DefaultLifetimeInMinutes
	if in.LifetimeInMinutes != nil {
		lifetime = *in.LifetimeInMinutes
	}
	if lifetime < p.MinimumLifetimeInMinutes || lifetime > p.MaximumLifetimeInMinutes {
		return policyErr(fmt.Sprintf("Invalid LifetimeInMinutes specified. The valid range between %d and %d.",
			p.MinimumLifetimeInMinutes, p.MaximumLifetimeInMinutes)), false
	}
	once := p.IsUsableOnce
	if in.IsUsableOnce != nil {
		once = *in.IsUsableOnce
	}
	if p.IsUsableOnce && !once {
		return policyErr(msgTAPPolicy), false // multi-use TAPs are not allowed by the policy
	}
	start := now
	if in.StartDateTime != nil {
		start = *in.StartDateTime
	}
	// One TAP per user: a new one replaces the old one (no error).
	for _, m := range append([]*authMethod{}, u.AuthMethods...) {
		if m.Type == "temporaryAccessPass" {
			u.removeMethod(m.ID)
		}
	}
	pass := newTAP(p.DefaultLength)
	m := &authMethod{ID: newGUID(), Type: "temporaryAccessPass", CreatedAt: now, StartAt: start.UTC(),
		LifetimeMinutes: lifetime, UsableOnce: once, TAPSalt: fmt.Sprintf("%x", randomBytes(8))}
	m.TAPHash = hashPassword(m.TAPSalt, pass)
	u.AuthMethods = append(u.AuthMethods, m)
	body := methodJSON(t, u, kindByType("temporaryAccessPass"), m, now)
	body["temporaryAccessPass"] = pass
	body["@odata.context"] = graphMetadata + "users('" + u.ID + "')/authentication/temporaryAccessPassMethods/$entity"
	s.log.Info("entrasim: temporary access pass created", "tenant", t.Name, "upn", u.UPN, "lifetime_minutes", lifetime)
	return &gresp{status: http.StatusCreated, body: body}, true
}

// newTAP generates a pass of n characters from letters, digits and a few symbols, like Entra's.
func newTAP(n int) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789+-*@#%&"
	b := randomBytes(n)
	out := make([]byte, n)
	for i := range b {
		out[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(out)
}

// validTAP finds a usable TAP of the user matching pass (s.mu held).
func (t *tenant) validTAP(u *user, pass string, now time.Time) *authMethod {
	for _, m := range u.AuthMethods {
		if m.Type == "temporaryAccessPass" && hashPassword(m.TAPSalt, pass) == m.TAPHash &&
			t.tapUsability(m, u, now) == "EnabledByPolicy" {
			return m
		}
	}
	return nil
}

func policyJSON(p *tapPolicy) map[string]any {
	inc, exc := p.IncludeTargets, p.ExcludeTargets
	if inc == nil {
		inc = []tapTarget{}
	}
	if exc == nil {
		exc = []tapTarget{}
	}
	return map[string]any{
		"@odata.context":           graphMetadata + "authenticationMethodConfigurations/$entity",
		"@odata.type":              "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
		"id":                       "TemporaryAccessPass",
		"state":                    p.State,
		"defaultLifetimeInMinutes": p.DefaultLifetimeInMinutes,
		"defaultLength":            p.DefaultLength,
		"minimumLifetimeInMinutes": p.MinimumLifetimeInMinutes,
		"maximumLifetimeInMinutes": p.MaximumLifetimeInMinutes,
		"isUsableOnce":             p.IsUsableOnce,
		"includeTargets":           inc,
		"excludeTargets":           exc,
	}
}

// serveTAPPolicy handles GET/PATCH /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass.
func (s *Server) serveTAPPolicy(gr *graphReq) *gresp {
	ids := gr.ids
	if !strings.EqualFold(gr.segs[3], "TemporaryAccessPass") {
		return ids.notFound(gr.segs[3])
	}
	switch gr.method {
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.tenantLocked(gr)
		if g := gr.authorize(t, permPolicyRead, rolesPolicyRead); g != nil {
			return g
		}
		return &gresp{status: http.StatusOK, body: policyJSON(t.tapPolicy())}
	case http.MethodPatch:
	default:
		return methodNotAllowed(ids)
	}
	m, g := decodeObject(gr)
	if g != nil {
		return g
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permPolicyWrite, rolesPolicyWrite); g != nil {
		s.mu.Unlock()
		return g
	}
	np := *t.tapPolicy()
	keysIn := make([]string, 0, len(m))
	for k := range m {
		keysIn = append(keysIn, k)
	}
	sort.Strings(keysIn)
	for _, k := range keysIn {
		raw := m[k]
		var err error
		switch k {
		case "@odata.type", "id":
		case "state":
			err = json.Unmarshal(raw, &np.State)
			if err == nil && np.State != "enabled" && np.State != "disabled" {
				s.mu.Unlock()
				return ids.graphError(http.StatusBadRequest, "BadRequest", fmt.Sprintf("The request is invalid: value '%s' is not valid for property 'state'.", np.State))
			}
		case "defaultLifetimeInMinutes":
			err = json.Unmarshal(raw, &np.DefaultLifetimeInMinutes)
		case "defaultLength":
			err = json.Unmarshal(raw, &np.DefaultLength)
		case "minimumLifetimeInMinutes":
			err = json.Unmarshal(raw, &np.MinimumLifetimeInMinutes)
		case "maximumLifetimeInMinutes":
			err = json.Unmarshal(raw, &np.MaximumLifetimeInMinutes)
		case "isUsableOnce":
			err = json.Unmarshal(raw, &np.IsUsableOnce)
		case "includeTargets":
			np.IncludeTargets = nil
			err = json.Unmarshal(raw, &np.IncludeTargets)
		case "excludeTargets":
			np.ExcludeTargets = nil
			err = json.Unmarshal(raw, &np.ExcludeTargets)
		default:
			s.mu.Unlock()
			return unknownProperty(ids, k, "temporaryAccessPassAuthenticationMethodConfiguration")
		}
		if err != nil {
			s.mu.Unlock()
			return ids.badJSON()
		}
	}
	inRange := func(v int) bool { return v >= 10 && v <= 43200 }
	switch {
	case !inRange(np.MinimumLifetimeInMinutes) || !inRange(np.MaximumLifetimeInMinutes) || np.MinimumLifetimeInMinutes > np.MaximumLifetimeInMinutes:
		s.mu.Unlock()
		return ids.graphError(http.StatusBadRequest, "badRequest", "Invalid lifetime: minimumLifetimeInMinutes and maximumLifetimeInMinutes must be between 10 and 43200, minimum not above maximum.")
	case np.DefaultLifetimeInMinutes < np.MinimumLifetimeInMinutes || np.DefaultLifetimeInMinutes > np.MaximumLifetimeInMinutes:
		s.mu.Unlock()
		return ids.graphError(http.StatusBadRequest, "badRequest", fmt.Sprintf("Invalid DefaultLifetimeInMinutes specified. The valid range between %d and %d.", np.MinimumLifetimeInMinutes, np.MaximumLifetimeInMinutes))
	case np.DefaultLength < 8 || np.DefaultLength > 48:
		s.mu.Unlock()
		return ids.graphError(http.StatusBadRequest, "badRequest", "Invalid DefaultLength specified. The valid range between 8 and 48.")
	}
	for _, x := range append(append([]tapTarget{}, np.IncludeTargets...), np.ExcludeTargets...) {
		if x.ID != allUsersTarget && t.Groups[strings.ToLower(x.ID)] == nil {
			s.mu.Unlock()
			return ids.notFound(x.ID)
		}
	}
	t.TAPPolicy = &np
	s.mu.Unlock()
	s.mutated()
	return &gresp{status: http.StatusNoContent}
}
