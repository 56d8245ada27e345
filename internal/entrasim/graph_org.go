package entrasim

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// --- /me, /organization, /domains ---

func (s *Server) getMe(gr *graphReq) *gresp {
	if gr.pr.app {
		return gr.ids.graphError(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	if g := checkQueryOptions(gr.query, gr.ids, "$select"); g != nil {
		return g
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(gr)
	if !gr.pr.has(permUserRead...) {
		return gr.ids.forbidden()
	}
	u := t.Users[gr.pr.userID]
	if u == nil {
		return gr.ids.notFound(gr.pr.userID)
	}
	obj, sel, g := project(s.userFull(u), userDefaults(), gr.query, "user", gr.ids)
	if g != nil {
		return g
	}
	obj["@odata.context"] = contextFor("users", sel, gr.query) + "/$entity"
	return &gresp{status: http.StatusOK, body: obj}
}

func (s *Server) getOrganization(gr *graphReq) *gresp {
	if g := checkQueryOptions(gr.query, gr.ids, "$select"); g != nil {
		return g
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permOrg, nil); g != nil {
		return g
	}
	var vds []map[string]any
	for _, d := range t.Domains {
		if d.IsVerified {
			typ := "Managed"
			if d.Federated {
				typ = "Federated"
			}
			vds = append(vds, map[string]any{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": d.IsDefault,
				"isInitial": d.IsInitial, "name": d.ID, "type": typ})
		}
	}
	full := map[string]any{
		"id": t.ID, "deletedDateTime": nil, "businessPhones": []string{}, "city": nil, "country": nil,
		"countryLetterCode": "US", "createdDateTime": t.CreatedAt.UTC().Format(time.RFC3339), "displayName": t.DisplayName,
		"marketingNotificationEmails": []string{}, "onPremisesLastSyncDateTime": nil, "onPremisesSyncEnabled": nil,
		"postalCode": nil, "preferredLanguage": "en", "securityComplianceNotificationMails": []string{},
		"securityComplianceNotificationPhones": []string{}, "state": nil, "street": nil, "technicalNotificationMails": []string{},
		"tenantType": "AAD", "directorySizeQuota": map[string]any{"used": len(t.Users), "total": 50000},
		"assignedPlans": []any{}, "provisionedPlans": []any{}, "privacyProfile": nil, "verifiedDomains": vds,
	}
	if len(gr.segs) == 2 {
		if !strings.EqualFold(gr.segs[1], t.ID) {
			return gr.ids.notFound(gr.segs[1])
		}
		obj, sel, g := project(full, keys(full), gr.query, "organization", gr.ids)
		if g != nil {
			return g
		}
		obj["@odata.context"] = contextFor("organization", sel, gr.query) + "/$entity"
		return &gresp{status: http.StatusOK, body: obj}
	}
	obj, sel, g := project(full, keys(full), gr.query, "organization", gr.ids)
	if g != nil {
		return g
	}
	return &gresp{status: http.StatusOK, body: map[string]any{"@odata.context": contextFor("organization", sel, gr.query), "value": []any{obj}}}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func domainJSON(d *domain) map[string]any {
	typ := "Managed"
	if d.Federated {
		typ = "Federated"
	}
	services := []string{}
	if d.IsVerified {
		services = []string{"Email", "OfficeCommunicationsOnline"}
	}
	return map[string]any{
		"id": d.ID, "authenticationType": typ, "availabilityStatus": nil, "isAdminManaged": true,
		"isDefault": d.IsDefault, "isInitial": d.IsInitial, "isRoot": true, "isVerified": d.IsVerified,
		"supportedServices": services, "passwordValidityPeriodInDays": 2147483647,
		"passwordNotificationWindowInDays": 14, "state": nil,
	}
}

func (s *Server) getDomains(gr *graphReq) *gresp {
	if g := checkQueryOptions(gr.query, gr.ids, "$select"); g != nil {
		return g
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permDomains, nil); g != nil {
		return g
	}
	if len(gr.segs) == 2 {
		d := t.domain(gr.segs[1])
		if d == nil {
			return gr.ids.notFound(gr.segs[1])
		}
		full := domainJSON(d)
		obj, sel, g := project(full, keys(full), gr.query, "domain", gr.ids)
		if g != nil {
			return g
		}
		obj["@odata.context"] = contextFor("domains", sel, gr.query) + "/$entity"
		return &gresp{status: http.StatusOK, body: obj}
	}
	var list []any
	var sel []string
	for _, d := range t.Domains {
		full := domainJSON(d)
		obj, s2, g := project(full, keys(full), gr.query, "domain", gr.ids)
		if g != nil {
			return g
		}
		sel = s2
		list = append(list, obj)
	}
	return &gresp{status: http.StatusOK, body: map[string]any{"@odata.context": contextFor("domains", sel, gr.query), "value": list}}
}
