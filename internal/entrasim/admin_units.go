package entrasim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// Administrative units, restricted-management ones (RMAU) included, and their effect on writes
// (graph-facts-auth-methods.md §3).

type adminUnit struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"display_name"`
	Description string   `json:"description,omitempty"`
	Restricted  bool     `json:"restricted,omitempty"` // isMemberManagementRestricted, immutable
	Members     []string `json:"members,omitempty"`    // user object ids
}

var (
	permAURead  = []string{"AdministrativeUnit.Read.All", "AdministrativeUnit.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permAUWrite = []string{"AdministrativeUnit.ReadWrite.All"}
	// Least privileged role to create AUs and manage their members: Privileged Role Administrator.
	rolesAUWrite = []string{roleGlobalAdmin, rolePrivilegedRoleAdmin}
	// Built-in roles assignable at an administrative unit's scope (Learn admin-units-assign-roles).
	auAssignableRoles = []string{roleAuthAdmin, "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d", "ffd52fa5-98dc-465c-991d-fc073eb59f8f",
		"7698a772-787b-4ac8-901f-60d6b08affd2", "fdd7a751-b60b-444a-984c-02652fe8fa1c", roleHelpdeskAdmin,
		"4d6ac14f-3453-41d0-bef9-a3e0c569773a", "966707d0-3269-4727-9be2-8c3a10f19b9d", "644ef478-e28f-4e28-b9dc-3fdde9aa0b1f",
		rolePrivilegedAuthAdmin, "f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "69091246-20e8-4a56-aa4d-066075b2a7a8",
		"3d762c5a-1b6c-493f-843e-55a3b42923d4", roleUserAdmin}
)

const rolePasswordAdmin = "966707d0-3269-4727-9be2-8c3a10f19b9d"

func auScope(id string) string { return "/administrativeUnits/" + id }

func auJSON(a *adminUnit) map[string]any {
	var desc any
	if a.Description != "" {
		desc = a.Description
	}
	return map[string]any{"id": a.ID, "deletedDateTime": nil, "displayName": a.DisplayName, "description": desc,
		"isMemberManagementRestricted": a.Restricted, "visibility": nil, "membershipType": nil, "membershipRule": nil,
		"membershipRuleProcessingState": nil}
}

func (t *tenant) adminUnit(id string) *adminUnit {
	if t.AdminUnits == nil {
		return nil
	}
	return t.AdminUnits[strings.ToLower(id)]
}

// restrictedUnits are the ids of the RMAUs the user is a member of.
func (t *tenant) restrictedUnits(userID string) []string {
	var out []string
	for _, a := range t.AdminUnits {
		if a.Restricted && containsFold(a.Members, userID) {
			out = append(out, a.ID)
		}
	}
	sort.Strings(out)
	return out
}

func (t *tenant) unitsOf(userID string) []string {
	out := []string{}
	for _, a := range t.AdminUnits {
		if containsFold(a.Members, userID) {
			out = append(out, a.ID)
		}
	}
	sort.Strings(out)
	return out
}

// --- /directory/administrativeUnits ---

func (s *Server) serveAdminUnits(gr *graphReq) *gresp {
	segs, m, ids := gr.segs, gr.method, gr.ids
	switch {
	case len(segs) == 2:
		switch m {
		case http.MethodGet:
			return s.listAdminUnits(gr)
		case http.MethodPost:
			return s.createAdminUnit(gr)
		}
	case len(segs) == 3:
		switch m {
		case http.MethodGet:
			return s.getAdminUnit(gr)
		case http.MethodPatch:
			return s.patchAdminUnit(gr)
		case http.MethodDelete:
			return s.deleteAdminUnit(gr)
		}
	case len(segs) == 4 && seg(segs, 3, "members"):
		if m == http.MethodGet {
			return s.listAUMembers(gr)
		}
	case len(segs) == 5 && seg(segs, 3, "members") && segs[4] == "$ref":
		if m == http.MethodPost {
			return s.addAUMember(gr)
		}
	case len(segs) == 6 && seg(segs, 3, "members") && segs[5] == "$ref":
		if m == http.MethodDelete {
			return s.removeAUMember(gr)
		}
	default:
		return ids.graphError(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+segs[len(segs)-1]+"'.")
	}
	return methodNotAllowed(ids)
}

// parseAUBody validates a create or update body; create requires displayName.
func parseAUBody(gr *graphReq, create bool) (*adminUnit, *gresp) {
	m, g := decodeObject(gr)
	if g != nil {
		return nil, g
	}
	invalid := func(p string) *gresp {
		return gr.ids.badRequest("Invalid value specified for property '" + p + "' of resource 'AdministrativeUnit'.")
	}
	a := &adminUnit{}
	seen := false
	for k, raw := range m {
		switch k {
		case "@odata.type":
			var v string
			if json.Unmarshal(raw, &v) != nil || v != "#microsoft.graph.administrativeUnit" {
				return nil, invalid(k)
			}
		case "displayName", "description":
			var v string
			if json.Unmarshal(raw, &v) != nil {
				return nil, invalid(k)
			}
			if k == "displayName" {
				if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > 256 {
					return nil, invalid(k)
				}
				a.DisplayName, seen = v, true
			} else {
				a.Description = v
			}
		case "isMemberManagementRestricted":
			if !create {
				// Set only at creation (graph-facts-auth-methods.md §3).
				return nil, gr.ids.badRequest("Property 'isMemberManagementRestricted' is read-only and cannot be set.")
			}
			if isNull(raw) {
				continue
			}
			if json.Unmarshal(raw, &a.Restricted) != nil {
				return nil, invalid(k)
			}
		case "visibility":
			if !isNull(raw) {
				return nil, invalid(k) // hidden-membership units are not emulated
			}
		default:
			return nil, unknownProperty(gr.ids, k, "administrativeUnit")
		}
	}
	if create && !seen {
		return nil, gr.ids.badRequest("Invalid value specified for property 'displayName' of resource 'AdministrativeUnit'.")
	}
	return a, nil
}

func (s *Server) createAdminUnit(gr *graphReq) *gresp {
	a, g := parseAUBody(gr, true)
	if g != nil {
		return g
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permAUWrite, rolesAUWrite); g != nil {
		s.mu.Unlock()
		return g
	}
	if a.Restricted && countRestricted(t) >= 100 {
		s.mu.Unlock()
		// Documented limit of 100 RMAUs per tenant; the exact error text is not documented.
		return gr.ids.badRequest("The maximum number of restricted management administrative units has been reached.")
	}
	a.ID = newGUID()
	if t.AdminUnits == nil {
		t.AdminUnits = map[string]*adminUnit{}
	}
	t.AdminUnits[a.ID] = a
	obj := auJSON(a)
	s.mu.Unlock()
	s.mutated()
	obj["@odata.context"] = graphMetadata + "directory/administrativeUnits/$entity"
	return &gresp{status: http.StatusCreated, body: obj}
}

func countRestricted(t *tenant) int {
	n := 0
	for _, a := range t.AdminUnits {
		if a.Restricted {
			n++
		}
	}
	return n
}

func (s *Server) listAdminUnits(gr *graphReq) *gresp {
	return s.listCollection(gr, collection{path: "directory/administrativeUnits", typeName: "administrativeUnit",
		filterType: "AdministrativeUnit", filterable: []string{"id", "displayName", "isMemberManagementRestricted"},
		options: []string{"$select", "$filter", "$top", "$skiptoken"}, perms: permAURead, empty: auJSON(&adminUnit{}),
		objects: func(t *tenant) []map[string]any { return sortedObjects(t.AdminUnits, auJSON) }})
}

func (s *Server) getAdminUnit(gr *graphReq) *gresp {
	if g := checkQueryOptions(gr.query, gr.ids, "$select"); g != nil {
		return g
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permAURead, nil); g != nil {
		return g
	}
	a := t.adminUnit(gr.segs[2])
	if a == nil {
		return gr.ids.notFound(gr.segs[2])
	}
	full := auJSON(a)
	obj, sel, g := project(full, keys(full), gr.query, "administrativeUnit", gr.ids)
	if g != nil {
		return g
	}
	obj["@odata.context"] = contextFor("directory/administrativeUnits", sel, gr.query) + "/$entity"
	return &gresp{status: http.StatusOK, body: obj}
}

func (s *Server) patchAdminUnit(gr *graphReq) *gresp {
	in, g := parseAUBody(gr, false)
	if g != nil {
		return g
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permAUWrite, rolesAUWrite); g != nil {
		s.mu.Unlock()
		return g
	}
	a := t.adminUnit(gr.segs[2])
	if a == nil {
		s.mu.Unlock()
		return gr.ids.notFound(gr.segs[2])
	}
	if in.DisplayName != "" {
		a.DisplayName = in.DisplayName
	}
	if in.Description != "" {
		a.Description = in.Description
	}
	s.mu.Unlock()
	s.mutated()
	return &gresp{status: http.StatusNoContent}
}

func (s *Server) deleteAdminUnit(gr *graphReq) *gresp {
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permAUWrite, rolesAUWrite); g != nil {
		s.mu.Unlock()
		return g
	}
	a := t.adminUnit(gr.segs[2])
	if a == nil {
		s.mu.Unlock()
		return gr.ids.notFound(gr.segs[2])
	}
	delete(t.AdminUnits, a.ID)
	for id, ra := range t.Assignments {
		if strings.EqualFold(ra.DirectoryScopeID, auScope(a.ID)) {
			delete(t.Assignments, id)
		}
	}
	s.mu.Unlock()
	s.mutated()
	return &gresp{status: http.StatusNoContent}
}

func (s *Server) listAUMembers(gr *graphReq) *gresp {
	if g := checkQueryOptions(gr.query, gr.ids, "$select", "$top", "$skiptoken"); g != nil {
		return g
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permAURead, nil); g != nil {
		return g
	}
	a := t.adminUnit(gr.segs[2])
	if a == nil {
		return gr.ids.notFound(gr.segs[2])
	}
	members := append([]string(nil), a.Members...)
	sort.Strings(members)
	var items []map[string]any
	for _, id := range members {
		u := t.Users[id]
		if u == nil {
			continue
		}
		obj, _, g := project(s.userFull(u), userDefaults(), gr.query, "directoryObject", gr.ids)
		if g != nil {
			return g
		}
		obj["@odata.type"] = "#microsoft.graph.user"
		items = append(items, obj)
	}
	path := "directory/administrativeUnits/" + a.ID + "/members"
	out, g := page(gr, items, 999, path)
	if g != nil {
		return g
	}
	out["@odata.context"] = graphMetadata + "directoryObjects"
	return &gresp{status: http.StatusOK, body: out}
}

// addAUMember: {"@odata.id":"https://graph.microsoft.com/v1.0/users/{id}"} (or directoryObjects/{id}).
func (s *Server) addAUMember(gr *graphReq) *gresp {
	m, g := decodeObject(gr)
	if g != nil {
		return g
	}
	var ref string
	raw, ok := m["@odata.id"]
	if !ok || len(m) != 1 || json.Unmarshal(raw, &ref) != nil {
		return gr.ids.badRequest("Invalid object identifier '" + ref + "'.")
	}
	i := strings.LastIndex(ref, "/")
	coll := ""
	if j := strings.LastIndex(ref[:max(i, 0)], "/"); i > 0 {
		coll = ref[j+1 : i]
	}
	id := strings.ToLower(ref[i+1:])
	if i < 0 || !isGUID(id) || !(strings.EqualFold(coll, "users") || strings.EqualFold(coll, "directoryObjects")) {
		return gr.ids.badRequest("Invalid object identifier '" + ref + "'.")
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permAUWrite, rolesAUWrite); g != nil {
		s.mu.Unlock()
		return g
	}
	a := t.adminUnit(gr.segs[2])
	if a == nil {
		s.mu.Unlock()
		return gr.ids.notFound(gr.segs[2])
	}
	if t.Users[id] == nil {
		s.mu.Unlock()
		return gr.ids.notFound(id)
	}
	if containsFold(a.Members, id) {
		s.mu.Unlock()
		return gr.ids.badRequest("One or more added object references already exist for the following modified properties: 'members'.")
	}
	a.Members = append(a.Members, id)
	s.mu.Unlock()
	s.mutated()
	return &gresp{status: http.StatusNoContent}
}

func (s *Server) removeAUMember(gr *graphReq) *gresp {
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permAUWrite, rolesAUWrite); g != nil {
		s.mu.Unlock()
		return g
	}
	a := t.adminUnit(gr.segs[2])
	id := strings.ToLower(gr.segs[4])
	if a == nil || !containsFold(a.Members, id) {
		s.mu.Unlock()
		return gr.ids.notFound(id)
	}
	out := a.Members[:0]
	for _, mID := range a.Members {
		if !strings.EqualFold(mID, id) {
			out = append(out, mID)
		}
	}
	a.Members = out
	s.mu.Unlock()
	s.mutated()
	return &gresp{status: http.StatusNoContent}
}
