package entrasim

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// guidBytes is .NET's Guid.ToByteArray layout: the first three groups little-endian.
func guidBytes(g string) []byte {
	h, err := hex.DecodeString(strings.ReplaceAll(g, "-", ""))
	if err != nil || len(h) != 16 {
		return nil
	}
	return []byte{h[3], h[2], h[1], h[0], h[5], h[4], h[7], h[6], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]}
}

// assignmentID reproduces the id Graph gives a directory-scoped role assignment:
// base64url(roleDefinitionId bytes ‖ principalId bytes) + "-1" (graph-facts.md; inferred from docs).
func assignmentID(roleDefinitionID, principalID string) string {
	b := append(guidBytes(strings.ToLower(roleDefinitionID)), guidBytes(strings.ToLower(principalID))...)
	return base64.RawURLEncoding.EncodeToString(b) + "-1"
}

func rolePermissions(id string) []string {
	switch id {
	case roleGlobalAdmin:
		return []string{"microsoft.directory/allEntities/allProperties/allTasks"}
	case roleUserAdmin:
		return []string{"microsoft.directory/users/allProperties/allTasks", "microsoft.directory/groups/allProperties/allTasks"}
	case rolePrivilegedRoleAdmin:
		return []string{"microsoft.directory/roleAssignments/allProperties/allTasks", "microsoft.directory/roleDefinitions/allProperties/allTasks"}
	case roleHelpdeskAdmin:
		return []string{"microsoft.directory/users/password/update", "microsoft.directory/users/invalidateAllRefreshTokens"}
	case "f2ef992c-3afb-46b9-b7cf-a126ee74c451":
		return []string{"microsoft.directory/allEntities/allProperties/read"}
	}
	return []string{"microsoft.office365.webPortal/allEntities/standard/read"}
}

func roleDefJSON(r *roleDef) map[string]any {
	return map[string]any{
		"id": r.ID, "description": r.Description, "displayName": r.DisplayName, "isBuiltIn": true,
		"isEnabled": true, "resourceScopes": []string{"/"}, "templateId": r.ID, "version": "1",
		"rolePermissions": []any{map[string]any{"allowedResourceActions": rolePermissions(r.ID), "condition": nil}},
	}
}

func (s *Server) getRoleDefinitions(gr *graphReq) *gresp {
	ids := gr.ids
	if g := checkQueryOptions(gr.query, ids, "$select", "$filter"); g != nil {
		return g
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	g := gr.authorize(t, permRolesRead, nil)
	s.mu.Unlock()
	if g != nil {
		return g
	}
	if len(gr.segs) == 4 {
		r := roleByID(gr.segs[3])
		if r == nil {
			return ids.notFound(gr.segs[3])
		}
		full := roleDefJSON(r)
		obj, sel, g := project(full, keys(full), gr.query, "unifiedRoleDefinition", ids)
		if g != nil {
			return g
		}
		obj["@odata.context"] = contextFor("roleManagement/directory/roleDefinitions", sel, gr.query) + "/$entity"
		return &gresp{status: http.StatusOK, body: obj}
	}
	var pred filterPred
	if f := gr.query.Get("$filter"); f != "" {
		p, g := parseFilter(ids, f, "UnifiedRoleDefinition", []string{"id", "displayName", "isBuiltIn", "templateId", "isEnabled"})
		if g != nil {
			return g
		}
		pred = p
	}
	list := []any{}
	var sel []string
	for i := range builtinRoles {
		full := roleDefJSON(&builtinRoles[i])
		if pred != nil && !pred(getter(full)) {
			continue
		}
		obj, s2, g := project(full, keys(full), gr.query, "unifiedRoleDefinition", ids)
		if g != nil {
			return g
		}
		sel = s2
		list = append(list, obj)
	}
	return &gresp{status: http.StatusOK, body: map[string]any{
		"@odata.context": contextFor("roleManagement/directory/roleDefinitions", sel, gr.query), "value": list}}
}

func assignmentJSON(a *roleAssignment) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.unifiedRoleAssignment", "id": a.ID,
		"roleDefinitionId": a.RoleDefinitionID, "principalId": a.PrincipalID, "directoryScopeId": a.DirectoryScopeID}
}

func (s *Server) createAssignment(gr *graphReq) *gresp {
	ids := gr.ids
	m, g := decodeObject(gr)
	if g != nil {
		return g
	}
	invalid := func(p string) *gresp {
		return ids.badRequest("Invalid value specified for property '" + p + "' of resource 'UnifiedRoleAssignment'.")
	}
	var roleID, principalID, scope string
	for k, raw := range m {
		switch k {
		case "@odata.type":
			var t string
			if json.Unmarshal(raw, &t) != nil || t != "#microsoft.graph.unifiedRoleAssignment" {
				return invalid(k)
			}
		case "roleDefinitionId", "principalId", "directoryScopeId":
			var v string
			if json.Unmarshal(raw, &v) != nil {
				return invalid(k)
			}
			switch k {
			case "roleDefinitionId":
				roleID = strings.ToLower(v)
			case "principalId":
				principalID = strings.ToLower(v)
			default:
				scope = v
			}
		case "appScopeId", "condition":
			if !isNull(raw) {
				// Only directory-scoped, unconditional assignments are emulated.
				return invalid(k)
			}
		default:
			return unknownProperty(ids, k, "unifiedRoleAssignment")
		}
	}
	switch {
	case roleID == "" || !isGUID(roleID):
		return invalid("roleDefinitionId")
	case principalID == "" || !isGUID(principalID):
		return invalid("principalId")
	case scope != "/" && !strings.HasPrefix(scope, "/administrativeUnits/"):
		return invalid("directoryScopeId")
	}
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permRolesWrite, rolesRoleAdmin); g != nil {
		s.mu.Unlock()
		return g
	}
	if roleByID(roleID) == nil {
		s.mu.Unlock()
		return ids.notFound(roleID)
	}
	if scope != "/" {
		if g := scopedAssignmentCheck(gr, t, roleID, scope); g != nil {
			s.mu.Unlock()
			return g
		}
	}
	u := t.Users[principalID]
	lag := time.Duration(s.Faults().ReplicationLagMS) * time.Millisecond
	// Right after creation a user is not yet replicated to the role service (DC issue #1855).
	// The application's own service principal exists once the tenant consented.
	isSP := t.Consented && principalID == servicePrincipalID(t.ID)
	if !isSP && (u == nil || (lag > 0 && s.now().Sub(u.CreatedAt) < lag)) {
		s.mu.Unlock()
		return ids.notFound(principalID)
	}
	id := assignmentID(roleID, principalID)
	if scope != "/" {
		id = scopedAssignmentID(roleID, principalID, scope)
	}
	if _, dup := t.Assignments[id]; dup {
		s.mu.Unlock()
		return ids.badRequest("A conflicting object with one or more of the specified property values is present in the directory.")
	}
	a := &roleAssignment{ID: id, RoleDefinitionID: roleID, PrincipalID: principalID, DirectoryScopeID: scope}
	t.Assignments[id] = a
	s.mu.Unlock()
	s.mutated()
	obj := assignmentJSON(a)
	obj["@odata.context"] = graphMetadata + "roleManagement/directory/roleAssignments/$entity"
	return &gresp{status: http.StatusCreated, body: obj}
}

func (s *Server) listAssignments(gr *graphReq) *gresp {
	return s.listCollection(gr, collection{path: "roleManagement/directory/roleAssignments", typeName: "unifiedRoleAssignment",
		filterType: "UnifiedRoleAssignment", filterable: []string{"id", "principalId", "roleDefinitionId", "directoryScopeId"},
		options: []string{"$select", "$filter", "$top", "$skiptoken"}, perms: permRolesRead, empty: assignmentJSON(&roleAssignment{}),
		objects: func(t *tenant) []map[string]any { return sortedObjects(t.Assignments, assignmentJSON) }})
}

func (s *Server) getAssignment(gr *graphReq) *gresp {
	if g := checkQueryOptions(gr.query, gr.ids, "$select"); g != nil {
		return g
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permRolesRead, nil); g != nil {
		return g
	}
	a := t.Assignments[gr.segs[3]]
	if a == nil {
		return gr.ids.notFound(gr.segs[3])
	}
	full := assignmentJSON(a)
	obj, sel, g := project(full, keys(full), gr.query, "unifiedRoleAssignment", gr.ids)
	if g != nil {
		return g
	}
	obj["@odata.context"] = contextFor("roleManagement/directory/roleAssignments", sel, gr.query) + "/$entity"
	return &gresp{status: http.StatusOK, body: obj}
}

func (s *Server) deleteAssignment(gr *graphReq) *gresp {
	s.mu.Lock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, permRolesWrite, rolesRoleAdmin); g != nil {
		s.mu.Unlock()
		return g
	}
	if t.Assignments[gr.segs[3]] == nil {
		s.mu.Unlock()
		return gr.ids.notFound(gr.segs[3])
	}
	delete(t.Assignments, gr.segs[3])
	s.mu.Unlock()
	s.mutated()
	return &gresp{status: http.StatusNoContent}
}
