package entrasim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// --- token ---

func (s *Server) token(w http.ResponseWriter, r *http.Request, ref string) {
	now := s.now()
	fail := func(e *tokenError) { writeTokenError(w, now, e) }
	if r.Method != http.MethodPost {
		fail(invalidRequest(900561, fmt.Sprintf("The endpoint only accepts POST requests. Received a %s request.", r.Method)))
		return
	}
	s.mu.Lock()
	t, generic, terr := s.pathTenantLocked(ref)
	s.mu.Unlock()
	if terr != nil {
		fail(terr)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		fail(invalidRequest(900144, "The request body must contain the following parameter: 'grant_type'."))
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(invalidRequest(900144, "The request body must contain the following parameter: 'grant_type'."))
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	if grant == "" {
		fail(invalidRequest(900144, "The request body must contain the following parameter: 'grant_type'."))
		return
	}
	// Client authentication: client_secret_post or client_secret_basic (URL-escaped, RFC 6749 §2.3.1).
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if bid, bsec, ok := r.BasicAuth(); ok {
		uid, err1 := url.QueryUnescape(bid)
		usec, err2 := url.QueryUnescape(bsec)
		if err1 != nil || err2 != nil || (clientID != "" && clientID != uid) {
			fail(&tokenError{status: 401, err: "invalid_client", code: 7000215, desc: "Invalid client secret provided."})
			return
		}
		clientID, secret = uid, usec
	}
	if clientID == "" {
		fail(invalidRequest(900144, "The request body must contain the following parameter: 'client_id'."))
		return
	}
	if clientID != ClientID {
		dir := ref
		if t != nil {
			dir = t.DisplayName
		}
		fail(&tokenError{status: 400, err: "unauthorized_client", code: 700016, desc: fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, dir)})
		return
	}
	if secret == "" {
		fail(&tokenError{status: 401, err: "invalid_client", code: 7000218, desc: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."})
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(ClientSecret)) != 1 {
		fail(&tokenError{status: 401, err: "invalid_client", code: 7000215, desc: fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", ClientID)})
		return
	}
	base := s.baseURL(r)
	var resp map[string]any
	var terr2 *tokenError
	switch grant {
	case "authorization_code":
		resp, terr2 = s.grantCode(base, t, generic, f)
	case "refresh_token":
		resp, terr2 = s.grantRefresh(base, t, generic, f)
	case "client_credentials":
		resp, terr2 = s.grantClient(t, generic, f)
	case "password":
		resp, terr2 = s.grantPassword(base, t, generic, f)
	default:
		terr2 = &tokenError{status: 400, err: "unsupported_grant_type", code: 70003, desc: fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant)}
	}
	if terr2 != nil {
		fail(terr2)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(resp)
}

func verifierOK(c *authCode, verifier string) bool {
	if c.Challenge == "" {
		return true // PKCE is optional for confidential clients
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	want := verifier
	if c.Method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = b64(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(c.Challenge)) == 1
}

func (s *Server) grantCode(base string, t *tenant, generic bool, f url.Values) (map[string]any, *tokenError) {
	code, redirectURI := f.Get("code"), f.Get("redirect_uri")
	if code == "" {
		return nil, invalidRequest(900144, "The request body must contain the following parameter: 'code'.")
	}
	if redirectURI == "" {
		return nil, invalidRequest(900144, "The request body must contain the following parameter: 'redirect_uri'.")
	}
	s.mu.Lock()
	c := s.codes[code]
	now := s.now()
	// Only a successful redemption burns the code: a request failing for another reason leaves it usable.
	switch {
	case c == nil || c.ClientID != ClientID:
		s.mu.Unlock()
		return nil, invalidGrant(70000, "The provided value for the 'code' parameter is not valid.")
	case c.Redeemed:
		s.mu.Unlock()
		return nil, invalidGrant(54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case now.Sub(c.IssuedAt) > codeTTL:
		s.mu.Unlock()
		return nil, invalidGrant(70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case !generic && t.ID != c.TenantID:
		s.mu.Unlock()
		return nil, invalidGrant(70000, "The provided value for the 'code' parameter is not valid. The code was issued for a different tenant.")
	case c.RedirectURI != redirectURI:
		s.mu.Unlock()
		return nil, invalidGrant(500112, fmt.Sprintf("The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", redirectURI, c.RedirectURI))
	case !verifierOK(c, f.Get("code_verifier")):
		s.mu.Unlock()
		return nil, invalidGrant(501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
	}
	ut := s.tenantByIDLocked(c.TenantID)
	u := ut.Users[c.UserID]
	if terr := userUsable(ut, u, c.UserID); terr != nil {
		s.mu.Unlock()
		return nil, terr
	}
	c.Redeemed = true
	resp := s.userTokensLocked(base, ut, u, c.Scopes, c.Nonce)
	s.mu.Unlock()
	s.mutated()
	return resp, nil
}

func userUsable(t *tenant, u *user, ref string) *tokenError {
	if u == nil {
		return invalidGrant(50034, fmt.Sprintf("The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory.", ref, t.ID))
	}
	if !u.AccountEnabled {
		return invalidGrant(50057, "The user account is disabled.")
	}
	return nil
}

// userTokensLocked issues access, refresh (offline_access) and ID (openid) tokens.
func (s *Server) userTokensLocked(base string, t *tenant, u *user, scopes []string, nonce string) map[string]any {
	graph := graphOnly(scopes)
	resp := map[string]any{
		"token_type":     "Bearer",
		"scope":          grantedScopeString(scopes),
		"expires_in":     int(accessTokenTTL.Seconds()),
		"ext_expires_in": int(accessTokenTTL.Seconds()),
		"access_token":   s.accessToken(t.ID, u.ID, u.UPN, graph, false),
	}
	now := s.now()
	if containsFold(scopes, "offline_access") {
		rt := "1.A" + b64(randomBytes(48))
		s.st.RefreshTokens[hashToken(rt)] = &refreshToken{TenantID: t.ID, UserID: u.ID, ClientID: ClientID,
			Scopes: scopes, IssuedAt: now, ExpiresAt: now.Add(refreshTokenTTL)}
		resp["refresh_token"] = rt
	}
	if containsFold(scopes, "openid") {
		resp["id_token"] = s.idToken(base, t, u, nonce, scopes)
	}
	return resp
}

func (s *Server) grantRefresh(base string, t *tenant, generic bool, f url.Values) (map[string]any, *tokenError) {
	raw := f.Get("refresh_token")
	if raw == "" {
		return nil, invalidRequest(900144, "The request body must contain the following parameter: 'refresh_token'.")
	}
	var narrowed *scopeSet
	if sc := f.Get("scope"); sc != "" {
		ss, serr := parseScopes(sc)
		if serr != nil {
			return nil, serr
		}
		narrowed = &ss
	}
	s.mu.Lock()
	rec := s.st.RefreshTokens[hashToken(raw)]
	now := s.now()
	var terr *tokenError
	switch {
	case rec == nil:
		terr = invalidGrant(9002313, "Invalid request. Request is malformed or invalid.")
	case rec.ClientID != ClientID:
		terr = invalidGrant(70000, "The provided value for the 'refresh_token' parameter is not valid.")
	case !generic && t.ID != rec.TenantID:
		terr = invalidGrant(50020, fmt.Sprintf("User account from identity provider 'https://sts.windows.net/%s/' does not exist in tenant '%s' and cannot access the application '%s' in that tenant.", rec.TenantID, t.DisplayName, ClientID))
	case rec.Revoked:
		// Consent withdrawn: the grant is revoked.
		terr = invalidGrant(70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case now.After(rec.ExpiresAt):
		terr = invalidGrant(700082, fmt.Sprintf("The refresh token has expired due to inactivity. The token was issued on %s and was inactive for 90.00:00:00.", rec.IssuedAt.UTC().Format(time.RFC3339)))
	}
	if terr != nil {
		s.mu.Unlock()
		return nil, terr
	}
	ut := s.tenantByIDLocked(rec.TenantID)
	u := ut.Users[rec.UserID]
	if terr := userUsable(ut, u, rec.UserID); terr != nil {
		s.mu.Unlock()
		return nil, terr
	}
	// revokeSignInSessions and password changes revoke refresh tokens issued earlier (AADSTS50173).
	validFrom := u.SignInSessionsValidFrom
	if u.PasswordChangedAt.After(validFrom) {
		validFrom = u.PasswordChangedAt
	}
	if rec.IssuedAt.Before(validFrom) {
		s.mu.Unlock()
		return nil, invalidGrant(50173, fmt.Sprintf("The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '%s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%s'.",
			rec.IssuedAt.UTC().Format("2006-01-02T15:04:05.0000000Z"), validFrom.UTC().Format("2006-01-02T15:04:05.0000000Z")))
	}
	scopes := rec.Scopes
	if narrowed != nil && !narrowed.dflt {
		for _, sc := range narrowed.all() {
			if !containsFold(rec.Scopes, sc) {
				s.mu.Unlock()
				return nil, &tokenError{status: 400, err: "invalid_grant", code: 65001, suberror: "consent_required",
					desc: fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", ClientID, ClientID)}
			}
		}
		scopes = narrowed.all()
		if !containsFold(scopes, "offline_access") {
			scopes = append(scopes, "offline_access")
		}
	}
	// Rotation: a new refresh token every time; the old one stays valid until it expires or is revoked.
	resp := s.userTokensLocked(base, ut, u, append([]string{}, scopes...), "")
	s.mu.Unlock()
	s.mutated()
	return resp, nil
}

func (s *Server) grantClient(t *tenant, generic bool, f url.Values) (map[string]any, *tokenError) {
	if generic {
		return nil, invalidRequest(50059, "No tenant-identifying information found in either the request or implied by any provided credentials.")
	}
	sc := f.Get("scope")
	if sc == "" {
		return nil, invalidRequest(900144, "The request body must contain the following parameter: 'scope'.")
	}
	fields := strings.Fields(sc)
	if len(fields) != 1 || !(strings.EqualFold(fields[0], graphResourceURI+"/.default") || strings.EqualFold(fields[0], graphAppID+"/.default")) {
		return nil, &tokenError{status: 400, err: "invalid_scope", code: 1002012, desc: fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)}
	}
	// Client-credentials tokens carry no scope and no refresh token (v2 client credentials reference).
	return map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(accessTokenTTL.Seconds()),
		"ext_expires_in": int(accessTokenTTL.Seconds()),
		"access_token":   s.accessToken(t.ID, "", "", applicationRoles(), true),
	}, nil
}

// grantPassword is ROPC, for tests proving a technician's password works.
func (s *Server) grantPassword(base string, t *tenant, generic bool, f url.Values) (map[string]any, *tokenError) {
	username, password := f.Get("username"), f.Get("password")
	if username == "" {
		return nil, invalidRequest(900144, "The request body must contain the following parameter: 'username'.")
	}
	if password == "" {
		return nil, invalidRequest(900144, "The request body must contain the following parameter: 'password'.")
	}
	ss, serr := parseScopes(f.Get("scope"))
	if serr != nil {
		return nil, serr
	}
	s.mu.Lock()
	var ut *tenant
	var u *user
	for _, cand := range s.st.Tenants {
		if !generic && cand != t {
			continue
		}
		if x := cand.userByUPN(username); x != nil {
			ut, u = cand, x
			break
		}
	}
	var terr *tokenError
	switch {
	case u == nil:
		dir := "organizations"
		if t != nil {
			dir = t.ID
		}
		terr = invalidGrant(50034, fmt.Sprintf("The user account {EUII Hidden} does not exist in the %s directory. To sign into this application, the account must be added to the directory.", dir))
	case !u.passwordMatches(password):
		terr = invalidGrant(50126, "Error validating credentials due to invalid username or password.")
	case !u.AccountEnabled:
		terr = invalidGrant(50057, "The user account is disabled.")
	case u.ForceChangePassword:
		terr = invalidGrant(50055, "The password is expired.")
	case ss.adminScope && !ut.Consented:
		terr = &tokenError{status: 400, err: "invalid_grant", code: 65001, suberror: "consent_required",
			desc: fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", ClientID, ClientID)}
	}
	if terr != nil {
		s.mu.Unlock()
		return nil, terr
	}
	resp := s.userTokensLocked(base, ut, u, ss.all(), "")
	s.mu.Unlock()
	s.mutated()
	return resp, nil
}

// --- OIDC discovery ---

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, ref string) {
	s.mu.Lock()
	t, generic, terr := s.pathTenantLocked(ref)
	s.mu.Unlock()
	if terr != nil {
		writeTokenError(w, s.now(), terr)
		return
	}
	base := s.baseURL(r)
	seg, issuer := strings.ToLower(ref), base+"/{tenantid}/v2.0"
	if !generic {
		seg, issuer = t.ID, base+"/"+t.ID+"/v2.0"
	}
	doc := map[string]any{
		"token_endpoint":                        base + "/" + seg + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/" + seg + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                issuer,
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     base + "/oidc/userinfo",
		"authorization_endpoint":                base + "/" + seg + "/oauth2/v2.0/authorize",
		"end_session_endpoint":                  base + "/" + seg + "/oauth2/v2.0/logout",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"code_challenge_methods_supported":      []string{"plain", "S256"},
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
			"at_hash", "c_hash", "email"},
		"tenant_region_scope": "EU",
		"cloud_instance_name": "microsoftonline.com",
		"msgraph_host":        "graph.microsoft.com",
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(doc)
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request, ref string) {
	s.mu.Lock()
	t, generic, terr := s.pathTenantLocked(ref)
	s.mu.Unlock()
	if terr != nil {
		writeTokenError(w, s.now(), terr)
		return
	}
	issuer := s.baseURL(r) + "/{tenantid}/v2.0"
	if !generic {
		issuer = s.baseURL(r) + "/" + t.ID + "/v2.0"
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(s.jwks(issuer))
}

// userinfo mirrors Graph's OIDC UserInfo endpoint for delegated access tokens.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	ids := s.newIDs(r)
	pr, g := s.authenticate(r, ids)
	if g != nil {
		writeGraph(w, ids, g)
		return
	}
	s.mu.Lock()
	t := s.tenantByIDLocked(pr.tenantID)
	var u *user
	if t != nil && !pr.app {
		u = t.Users[pr.userID]
	}
	if u == nil {
		s.mu.Unlock()
		writeGraph(w, ids, ids.graphError(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure."))
		return
	}
	out := map[string]any{"sub": pairwiseSub(u.ID), "name": u.DisplayName, "family_name": u.propString("surname"),
		"given_name": u.propString("givenName"), "email": u.propString("mail")}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(out)
}
