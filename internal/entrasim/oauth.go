package entrasim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// serveIdentity routes the identity platform endpoints under /{tenant}/.
func (s *Server) serveIdentity(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) < 2 {
		http.NotFound(w, r)
		return
	}
	ref, rest := segs[0], strings.Join(segs[1:], "/")
	switch rest {
	case "oauth2/v2.0/authorize":
		s.authorize(w, r, ref)
	case "oauth2/v2.0/token":
		s.token(w, r, ref)
	case "oauth2/v2.0/logout":
		s.logout(w, r)
	case "v2.0/.well-known/openid-configuration":
		s.discovery(w, r, ref)
	case "discovery/v2.0/keys":
		s.keys(w, r, ref)
	default:
		if ref == "oidc" && rest == "userinfo" {
			s.userinfo(w, r)
			return
		}
		http.NotFound(w, r)
	}
}

// pathTenant resolves the {tenant} segment: common | organizations | tenant id | verified domain.
func (s *Server) pathTenantLocked(ref string) (t *tenant, generic bool, terr *tokenError) {
	switch strings.ToLower(ref) {
	case "common", "organizations":
		return nil, true, nil
	}
	// Only tenant ids and verified domains identify a tenant; the emulator's short names do not.
	if t := s.resolveTenantLocked(ref); t != nil && t.Name != strings.ToLower(ref) {
		return t, false, nil
	}
	return nil, false, invalidRequest(90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", ref))
}

// --- authorize ---

type authzParams struct {
	v                                      url.Values
	clientID, redirectURI, state, mode     string
	challenge, method, nonce, prompt, hint string
	scopes                                 scopeSet
	tenant                                 *tenant
	generic                                bool
}

func validRedirectURI(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" || u.User != nil {
		return false
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	h := u.Hostname()
	return h == "127.0.0.1" || strings.EqualFold(h, "localhost")
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request, ref string) {
	var v url.Values
	switch r.Method {
	case http.MethodGet:
		v = r.URL.Query()
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			s.errorPage(w, http.StatusBadRequest, 900144, "The request body could not be parsed.")
			return
		}
		v = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := authzParams{v: v, clientID: v.Get("client_id"), redirectURI: v.Get("redirect_uri"), state: v.Get("state"),
		mode: v.Get("response_mode"), challenge: v.Get("code_challenge"), method: v.Get("code_challenge_method"),
		nonce: v.Get("nonce"), prompt: v.Get("prompt"), hint: v.Get("login_hint")}

	s.mu.Lock()
	t, generic, terr := s.pathTenantLocked(ref)
	s.mu.Unlock()
	p.tenant, p.generic = t, generic
	// Errors before the redirect URI is trusted are shown on Entra's own page, never redirected.
	if terr != nil {
		s.errorPage(w, http.StatusBadRequest, terr.code, terr.desc)
		return
	}
	if p.clientID == "" {
		s.errorPage(w, http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	if p.clientID != ClientID && !isMFAClient(p.clientID) {
		s.errorPage(w, http.StatusBadRequest, 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", p.clientID, ref))
		return
	}
	if p.redirectURI == "" {
		s.errorPage(w, http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'redirect_uri'.")
		return
	}
	if !validRedirectURI(p.redirectURI) {
		s.errorPage(w, http.StatusBadRequest, 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.", p.redirectURI, ClientID))
		return
	}
	switch p.mode {
	case "", "query", "fragment", "form_post":
	default:
		s.redirectError(w, r, p, "invalid_request", 900144, fmt.Sprintf("The provided value for the input parameter 'response_mode' is not valid: '%s'.", p.mode))
		return
	}
	switch rt := v.Get("response_type"); rt {
	case "code":
	case "":
		s.redirectError(w, r, p, "invalid_request", 900144, "The request body must contain the following parameter: 'response_type'.")
		return
	default:
		s.redirectError(w, r, p, "unsupported_response_type", 700054, fmt.Sprintf("response_type '%s' is not enabled for the application.", rt))
		return
	}
	ss, serr := parseScopes(v.Get("scope"))
	if serr != nil {
		s.redirectError(w, r, p, serr.err, serr.code, serr.desc)
		return
	}
	p.scopes = ss
	if p.challenge != "" {
		if p.method == "" {
			p.method = "plain" // Entra treats a challenge without a method as plain
		}
		if p.method != "S256" && p.method != "plain" {
			s.redirectError(w, r, p, "invalid_request", 501491, "Invalid code_challenge_method parameter.")
			return
		}
		if len(p.challenge) < 43 || len(p.challenge) > 128 {
			s.redirectError(w, r, p, "invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
			return
		}
	} else if p.method != "" {
		s.redirectError(w, r, p, "invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
		return
	}
	switch p.prompt {
	case "", "login", "none", "consent", "select_account":
	default:
		s.redirectError(w, r, p, "invalid_request", 90023, fmt.Sprintf("Invalid prompt value '%s'.", p.prompt))
		return
	}

	if isMFAClient(p.clientID) {
		// Microsoft's own admin portals: always a real sign-in, never auto-consent.
		s.interactiveSignIn(w, r, p)
		return
	}
	var userID string
	switch {
	case r.Method == http.MethodPost && v.Get("action") == "cancel":
		s.redirectError(w, r, p, "access_denied", 65004, "User declined to consent to access the app.")
		return
	case r.Method == http.MethodPost && v.Get("action") == "accept":
		userID = v.Get("user_id")
		s.mu.Lock()
		ok := false
		for _, c := range s.candidatesLocked(p) {
			if c.ID == userID {
				ok = true
			}
		}
		s.mu.Unlock()
		if !ok {
			s.pickerPage(w, p, "Choose an account.")
			return
		}
	case s.opts.AutoConsent:
		var perr string
		s.mu.Lock()
		userID, perr = s.autoUserLocked(p)
		s.mu.Unlock()
		if perr != "" {
			s.errorPage(w, http.StatusBadRequest, 50020, perr)
			return
		}
	case p.prompt == "none":
		s.redirectError(w, r, p, "login_required", 50058, "A silent sign-in request was sent but no user is signed in.")
		return
	default:
		s.pickerPage(w, p, "")
		return
	}
	s.completeAuthorize(w, r, p, userID)
}

// autoUserLocked picks the signed-in user for auto-consent: login_hint if it names a user, else the admin.
func (s *Server) autoUserLocked(p authzParams) (string, string) {
	if p.hint != "" {
		for _, t := range s.st.Tenants {
			if u := t.userByUPN(p.hint); u != nil {
				if !p.generic && t != p.tenant {
					return "", fmt.Sprintf("User account '%s' from identity provider 'https://sts.windows.net/%s/' does not exist in tenant '%s' and cannot access the application '%s' in that tenant. The account needs to be added as an external user in the tenant first.", p.hint, t.ID, p.tenant.DisplayName, ClientID)
				}
				return u.ID, ""
			}
		}
	}
	t := p.tenant
	if p.generic {
		t = s.resolveTenantLocked(ContosoTenantID)
	}
	for _, id := range sortedUserIDs(t) {
		if t.isAdmin(id) {
			return id, ""
		}
	}
	return "", "No administrator exists in tenant " + t.DisplayName + "."
}

// candidatesLocked lists the accounts the picker offers: the tenant's enabled users, or every
// tenant's admins on common/organizations.
func (s *Server) candidatesLocked(p authzParams) []*user {
	var out []*user
	for _, t := range s.st.Tenants {
		if !p.generic && t != p.tenant {
			continue
		}
		for _, id := range sortedUserIDs(t) {
			u := t.Users[id]
			if !u.AccountEnabled {
				continue
			}
			if p.generic && !t.isAdmin(id) {
				continue
			}
			out = append(out, u)
		}
	}
	return out
}

func sortedUserIDs(t *tenant) []string {
	ids := make([]string, 0, len(t.Users))
	for id := range t.Users {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return t.Users[ids[i]].UPN < t.Users[ids[j]].UPN })
	return ids
}

func (s *Server) userTenantLocked(userID string) (*tenant, *user) {
	for _, t := range s.st.Tenants {
		if u := t.Users[userID]; u != nil {
			return t, u
		}
	}
	return nil, nil
}

func (s *Server) completeAuthorize(w http.ResponseWriter, r *http.Request, p authzParams, userID string) {
	s.mu.Lock()
	t, u := s.userTenantLocked(userID)
	if u == nil {
		s.mu.Unlock()
		s.errorPage(w, http.StatusBadRequest, 50034, "The user account does not exist in the directory.")
		return
	}
	if !u.AccountEnabled {
		s.mu.Unlock()
		s.errorPage(w, http.StatusBadRequest, 50057, "The user account is disabled.")
		return
	}
	changed := false
	if p.scopes.adminScope && !t.Consented {
		// Permissions that need admin consent: only an admin can grant them, for the whole tenant.
		if !t.isAdmin(u.ID) {
			s.mu.Unlock()
			s.redirectError(w, r, p, "access_denied", 90094, fmt.Sprintf("The grant requires admin permission. '%s' needs permission to access resources in your organization that only an admin can grant.", ClientID))
			return
		}
		t.Consented = true
		changed = true
	}
	s.pruneCodesLocked()
	code := b64(randomBytes(32))
	s.codes[code] = &authCode{ClientID: p.clientID, RedirectURI: p.redirectURI, TenantID: t.ID, UserID: u.ID,
		Scopes: p.scopes.all(), Challenge: p.challenge, Method: p.method, Nonce: p.nonce, IssuedAt: s.now()}
	s.mu.Unlock()
	if changed {
		s.mutated()
	}
	s.log.Info("entrasim: authorization code issued", "tenant", t.Name, "user", u.UPN)
	s.redirect(w, p, url.Values{"code": {code}, "state": {p.state}, "session_state": {newGUID()}})
}

// pruneCodesLocked forgets codes an hour after issue (until then reuse is reported as 54005).
func (s *Server) pruneCodesLocked() {
	now := s.now()
	for k, c := range s.codes {
		if now.Sub(c.IssuedAt) > time.Hour {
			delete(s.codes, k)
		}
	}
}

func (s *Server) redirectError(w http.ResponseWriter, _ *http.Request, p authzParams, errCode string, aadsts int, desc string) {
	s.redirect(w, p, url.Values{
		"error":             {errCode},
		"error_description": {fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, desc, newGUID(), newGUID(), s.now().UTC().Format("2006-01-02 15:04:05Z"))},
		"error_uri":         {fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts)},
		"state":             {p.state},
	})
}

func (s *Server) redirect(w http.ResponseWriter, p authzParams, params url.Values) {
	if params.Get("state") == "" {
		params.Del("state")
	}
	u, _ := url.Parse(p.redirectURI)
	switch p.mode {
	case "form_post":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = formPostTmpl.Execute(w, map[string]any{"Action": p.redirectURI, "Params": params})
		return
	case "fragment":
		u.Fragment = params.Encode()
	default:
		q := u.Query()
		for k, vs := range params {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

var formPostTmpl = template.Must(template.New("fp").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Working...</title></head>
<body><form method="POST" action="{{.Action}}">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<noscript><p>Script is disabled. Click Submit to continue.</p></noscript>
<button type="submit">Submit</button></form>
<script>document.forms[0].submit()</script></body></html>`))

var pickerTmpl = template.Must(template.New("picker").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:2rem auto;color:#1b1b1b}
fieldset{border:1px solid #8a8886;padding:1rem}label{display:block;margin:.4rem 0}
button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}</style></head>
<body><main>
<h1>Pick an account</h1>
<p><strong>{{.Client}}</strong> wants to: {{range $i, $s := .Scopes}}{{if $i}}, {{end}}{{$s}}{{end}}.</p>
{{if .Message}}<p role="alert">{{.Message}}</p>{{end}}
<form method="POST" action="">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<fieldset><legend>Account</legend>
{{range $i, $u := .Users}}<label><input type="radio" name="user_id" value="{{$u.ID}}"{{if eq $u.ID $.Selected}} checked{{end}}> {{$u.DisplayName}} ({{$u.UPN}})</label>
{{else}}<p>No accounts available.</p>{{end}}
</fieldset>
<button type="submit" name="action" value="accept">Accept</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form></main></body></html>`))

var errorTmpl = template.Must(template.New("err").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body><main><h1>Sorry, but we're having trouble signing you in.</h1>
<p role="alert">AADSTS{{.Code}}: {{.Message}}</p></main></body></html>`))

func (s *Server) pickerPage(w http.ResponseWriter, p authzParams, msg string) {
	s.mu.Lock()
	users := s.candidatesLocked(p)
	type row struct{ ID, UPN, DisplayName string }
	rows := make([]row, 0, len(users))
	selected := ""
	for _, u := range users {
		rows = append(rows, row{u.ID, u.UPN, u.DisplayName})
		if strings.EqualFold(u.UPN, p.hint) || selected == "" {
			selected = u.ID
		}
	}
	s.mu.Unlock()
	params := url.Values{}
	for k, vs := range p.v {
		if k != "action" && k != "user_id" {
			params[k] = vs
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = pickerTmpl.Execute(w, map[string]any{"Client": ClientID, "Scopes": p.scopes.all(), "Params": params,
		"Users": rows, "Selected": selected, "Message": msg})
}

func (s *Server) errorPage(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	_ = errorTmpl.Execute(w, map[string]any{"Code": code, "Message": msg})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if target := r.URL.Query().Get("post_logout_redirect_uri"); target != "" && validRedirectURI(target) {
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><main><h1>You signed out of your account</h1></main></body></html>`)
}

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
