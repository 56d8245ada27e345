package entrasim

import (
	"fmt"
	"html/template"
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
