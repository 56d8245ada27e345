package entrasim

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const graphMetadata = "https://graph.microsoft.com/v1.0/$metadata#"

// graphReq is one Graph request, top-level or a $batch item.
type graphReq struct {
	ctx    context.Context
	method string
	segs   []string // decoded path segments after /v1.0
	query  url.Values
	header http.Header
	body   []byte
	ids    reqIDs
	pr     *principal
	base   string // public base URL, for @odata.nextLink
}

func (s *Server) newIDs(r *http.Request) reqIDs {
	ids := reqIDs{requestID: newGUID(), clientRequestID: r.Header.Get("client-request-id"), at: s.now()}
	if ids.clientRequestID == "" {
		ids.clientRequestID = ids.requestID
	}
	return ids
}

// splitGraphPath decodes "/users/a%40b.com/x" into ["users","a@b.com","x"].
func splitGraphPath(escaped string) ([]string, bool) {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil, true
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		d, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = d
	}
	return parts, true
}

// routeTemplate names a Graph path with ids replaced by {id}, for stats.
func routeTemplate(segs []string) string {
	out := make([]string, len(segs))
	copy(out, segs)
	switch {
	case len(segs) >= 2 && (strings.EqualFold(segs[0], "users") || strings.EqualFold(segs[0], "domains") || strings.EqualFold(segs[0], "organization")):
		out[1] = "{id}"
	case len(segs) >= 4 && strings.EqualFold(segs[0], "roleManagement"):
		out[3] = "{id}"
	}
	if len(segs) >= 5 && strings.EqualFold(segs[0], "users") && strings.EqualFold(segs[2], "authentication") {
		out[4] = "{id}"
	}
	return "/v1.0/" + strings.Join(out, "/")
}

func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request) {
	ids := s.newIDs(r)
	segs, ok := splitGraphPath(strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0"))
	if !ok {
		writeGraph(w, ids, ids.graphError(http.StatusBadRequest, "BadRequest", "Invalid request URI."))
		return
	}
	s.countRequest(r.Method + " " + routeTemplate(segs))
	f := s.Faults()
	sleepCtx(r.Context(), time.Duration(f.LatencyMS)*time.Millisecond)

	body, err := readBody(r)
	if err != nil {
		writeGraph(w, ids, ids.badJSON())
		return
	}
	pr, g := s.authenticate(r, ids)
	if g != nil {
		writeGraph(w, ids, g)
		return
	}
	gr := &graphReq{ctx: r.Context(), method: r.Method, segs: segs, query: r.URL.Query(), header: r.Header,
		body: body, ids: ids, pr: pr, base: s.baseURL(r)}
	if len(segs) == 1 && segs[0] == "$batch" {
		if r.Method != http.MethodPost {
			writeGraph(w, ids, methodNotAllowed(ids))
			return
		}
		writeGraph(w, ids, s.batch(gr))
		return
	}
	writeGraph(w, ids, s.execute(gr))
}

// readBody reads a request body, gunzipping it when Content-Encoding says so (the Graph SDKs'
// compression handler gzips request bodies, which Graph accepts).
func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", r.Header.Get("Content-Encoding"))
	}
	return io.ReadAll(io.LimitReader(rd, 4<<20))
}

func methodNotAllowed(ids reqIDs) *gresp {
	return ids.graphError(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

// authenticate validates the bearer token as Graph does (401 InvalidAuthenticationToken).
func (s *Server) authenticate(r *http.Request, ids reqIDs) (*principal, *gresp) {
	fail := func(msg string) (*principal, *gresp) {
		g := ids.graphError(http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		g.headers = map[string]string{"WWW-Authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="` + graphAppID + `"`}
		return nil, g
	}
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if h == "" || tok == "" || !strings.EqualFold(scheme, "Bearer") {
		return fail("Access token is empty.")
	}
	claims, err := s.verifyJWT(tok)
	if err == errMalformedToken {
		return fail("IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format.")
	}
	if err != nil {
		return fail("Access token validation failure. Invalid signature.")
	}
	if aud, _ := claims["aud"].(string); aud != graphResourceURI && aud != graphAppID {
		return fail("Access token validation failure. Invalid audience.")
	}
	expN, _ := claims["exp"].(json.Number)
	exp, err := expN.Int64()
	if err != nil {
		return fail("Access token validation failure.")
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return fail("Lifetime validation failed, the token is expired.")
	}
	pr := &principal{scopes: map[string]bool{}, expires: time.Unix(exp, 0)}
	pr.tenantID, _ = claims["tid"].(string)
	pr.appID, _ = claims["appid"].(string)
	if typ, _ := claims["idtyp"].(string); typ == "app" {
		pr.app = true
		roles, _ := claims["roles"].([]any)
		for _, x := range roles {
			if s, ok := x.(string); ok {
				pr.scopes[strings.ToLower(s)] = true
			}
		}
	} else {
		pr.userID, _ = claims["oid"].(string)
		scp, _ := claims["scp"].(string)
		for _, x := range strings.Fields(scp) {
			pr.scopes[strings.ToLower(x)] = true
		}
	}
	s.mu.Lock()
	t := s.tenantByIDLocked(pr.tenantID)
	s.mu.Unlock()
	if t == nil {
		return fail("Access token validation failure. Invalid tenant.")
	}
	return pr, nil
}

func (pr *principal) has(perms ...string) bool {
	for _, p := range perms {
		if pr.scopes[strings.ToLower(p)] {
			return true
		}
	}
	return false
}

// Permission sets (least privileged first), per the Graph permissions reference of each API.
var (
	permUserRead   = []string{"User.Read", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUsersRead  = []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUsersWrite = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	permRevoke     = []string{"User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	permDomains    = []string{"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permOrg        = []string{"User.Read", "Organization.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permRolesRead  = []string{"RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All"}
	permRolesWrite = []string{"RoleManagement.ReadWrite.Directory"}
)

// Directory roles a delegated caller needs besides the scope (least privileged roles of each API).
var (
	rolesUserAdmin = []string{roleGlobalAdmin, roleUserAdmin, rolePrivilegedAuthAdmin}
	rolesRoleAdmin = []string{roleGlobalAdmin, rolePrivilegedRoleAdmin}
)

// authorize checks scopes (or app roles) and, for delegated calls, the signed-in user's roles.
func (gr *graphReq) authorize(t *tenant, perms []string, roles []string) *gresp {
	if !gr.pr.has(perms...) {
		return gr.ids.forbidden()
	}
	if !gr.pr.app && roles != nil && !t.hasRole(gr.pr.userID, roles...) {
		return gr.ids.forbidden()
	}
	return nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func seg(segs []string, i int, lit string) bool {
	return len(segs) > i && strings.EqualFold(segs[i], lit)
}

// execute applies per-request faults and throttling, then dispatches.
func (s *Server) execute(gr *graphReq) *gresp {
	if g := s.injectFaults(gr); g != nil {
		return g
	}
	g := s.dispatch(gr)
	if g.headers == nil {
		g.headers = map[string]string{}
	}
	g.headers["x-ms-resource-unit"] = resourceUnitHeader(gr)
	return g
}

func (s *Server) dispatch(gr *graphReq) *gresp {
	segs, m, ids := gr.segs, gr.method, gr.ids
	if len(segs) == 0 {
		return ids.graphError(http.StatusBadRequest, "BadRequest", "Invalid version.")
	}
	allow := func(ok bool, h func() *gresp) *gresp {
		if !ok {
			return methodNotAllowed(ids)
		}
		return h()
	}
	switch {
	case seg(segs, 0, "me") && len(segs) == 1:
		return allow(m == http.MethodGet, func() *gresp { return s.getMe(gr) })
	case seg(segs, 0, "organization") && len(segs) <= 2:
		return allow(m == http.MethodGet, func() *gresp { return s.getOrganization(gr) })
	case seg(segs, 0, "domains") && len(segs) <= 2:
		return allow(m == http.MethodGet, func() *gresp { return s.getDomains(gr) })
	case seg(segs, 0, "users") && len(segs) == 1:
		switch m {
		case http.MethodGet:
			return s.listUsers(gr)
		case http.MethodPost:
			return s.createUser(gr)
		}
		return methodNotAllowed(ids)
	case seg(segs, 0, "users") && len(segs) == 2:
		switch m {
		case http.MethodGet:
			return s.getUser(gr)
		case http.MethodPatch:
			return s.patchUser(gr)
		case http.MethodDelete:
			return s.deleteUser(gr)
		}
		return methodNotAllowed(ids)
	case seg(segs, 0, "users") && len(segs) == 3 && (seg(segs, 2, "revokeSignInSessions") || seg(segs, 2, "microsoft.graph.revokeSignInSessions")):
		return allow(m == http.MethodPost, func() *gresp { return s.revokeSessions(gr) })
	case seg(segs, 0, "users") && seg(segs, 2, "authentication"):
		return s.serveAuthentication(gr)
	case seg(segs, 0, "policies") && seg(segs, 1, "authenticationMethodsPolicy") && seg(segs, 2, "authenticationMethodConfigurations") && len(segs) == 4:
		return s.serveTAPPolicy(gr)
	case seg(segs, 0, "directory") && seg(segs, 1, "administrativeUnits"):
		return s.serveAdminUnits(gr)
	case seg(segs, 0, "roleManagement") && seg(segs, 1, "directory") && seg(segs, 2, "roleDefinitions") && len(segs) <= 4:
		return allow(m == http.MethodGet, func() *gresp { return s.getRoleDefinitions(gr) })
	case seg(segs, 0, "roleManagement") && seg(segs, 1, "directory") && seg(segs, 2, "roleAssignments") && len(segs) == 3:
		switch m {
		case http.MethodGet:
			return s.listAssignments(gr)
		case http.MethodPost:
			return s.createAssignment(gr)
		}
		return methodNotAllowed(ids)
	case seg(segs, 0, "roleManagement") && seg(segs, 1, "directory") && seg(segs, 2, "roleAssignments") && len(segs) == 4:
		switch m {
		case http.MethodGet:
			return s.getAssignment(gr)
		case http.MethodDelete:
			return s.deleteAssignment(gr)
		}
		return methodNotAllowed(ids)
	}
	// Graph's answer for a path it does not know.
	bad := segs[len(segs)-1]
	for i := range segs {
		if !knownSegment(segs[:i+1]) {
			bad = segs[i]
			break
		}
	}
	return ids.graphError(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", bad))
}

func knownSegment(prefix []string) bool {
	known := [][]string{{"me"}, {"organization", "*"}, {"domains", "*"}, {"users", "*", "revokeSignInSessions"},
		{"users", "*", "authentication", "*", "*"}, {"policies", "authenticationMethodsPolicy", "authenticationMethodConfigurations", "*"},
		{"roleManagement", "directory", "roleDefinitions", "*"}, {"roleManagement", "directory", "roleAssignments", "*"},
		{"directory", "administrativeUnits", "*", "members", "*", "$ref"}}
	for _, k := range known {
		if len(prefix) > len(k) {
			continue
		}
		ok := true
		for i, p := range prefix {
			if k[i] != "*" && !strings.EqualFold(k[i], p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// tenantLocked is the tenant the caller's token belongs to: a token never sees another tenant.
func (s *Server) tenantLocked(gr *graphReq) *tenant { return s.tenantByIDLocked(gr.pr.tenantID) }
