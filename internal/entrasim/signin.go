package entrasim

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Interactive sign-in for the clients under Microsoft's mandatory MFA (graph-facts-auth-methods.md
// §4): user name, then password or Temporary Access Pass, with the registration interrupt for
// accounts that have no MFA method, and the stand-in admin center that is such a client.

// Client ids that require MFA for every sign-in.
const (
	// AzurePortalClientID is the Azure portal, the Entra admin center and the Intune admin center.
	AzurePortalClientID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
	// M365AdminCenterClientID is the Office 365 portal's well-known app id (Microsoft lists the
	// Microsoft 365 admin center without one; the emulator uses this id for it).
	M365AdminCenterClientID = "00000006-0000-0ff1-ce00-000000000000"
	AzureCLIClientID        = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	AzurePowerShellClientID = "1950a258-227b-4e31-a9cf-717495945fc2"
	AzureMobileAppClientID  = "0c1307d4-29d6-4389-a11c-5cbe7f65d7fa"
)

func isMFAClient(id string) bool {
	switch strings.ToLower(id) {
	case AzurePortalClientID, M365AdminCenterClientID, AzureCLIClientID, AzurePowerShellClientID, AzureMobileAppClientID:
		return true
	}
	return false
}

// mfaMethods are the registered methods that satisfy a second factor.
var mfaMethods = []string{"microsoftAuthenticator", "phone", "fido2", "softwareOath", "windowsHelloForBusiness", "platformCredential"}

// signInFlow is one interactive sign-in in progress (in memory; keyed by a random id in a hidden field).
type signInFlow struct {
	p      authzParams
	userID string
	tapEnd time.Time // set when the first factor was a Temporary Access Pass
	stage  string    // "password", "approve", "register"
	at     time.Time
}

type signInFlows struct {
	mu sync.Mutex
	m  map[string]*signInFlow
}

func (f *signInFlows) put(fl *signInFlow) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*signInFlow{}
	}
	for k, v := range f.m {
		if time.Since(v.at) > 15*time.Minute {
			delete(f.m, k)
		}
	}
	id := b64(randomBytes(24))
	f.m[id] = fl
	return id
}

func (f *signInFlows) get(id string) *signInFlow {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[id]
}

func (f *signInFlows) drop(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, id)
}

var signInTmpl = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:"Segoe UI",sans-serif;max-width:26rem;margin:3rem auto;color:#1b1b1b}
label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password],input[type=email]{width:100%;padding:.4rem}
button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}.err{color:#a4262c}</style></head>
<body><main>
<p>Microsoft</p>
{{if .UPN}}<p id="upn">{{.UPN}}</p>{{end}}
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err" role="alert" id="error">{{.Error}}</p>{{end}}
{{if .Text}}<p>{{.Text}}</p>{{end}}
{{if not .Blocked}}<form method="POST" action="">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
{{if .Flow}}<input type="hidden" name="flow" value="{{.Flow}}">{{end}}
{{if eq .Stage "username"}}<label for="login">Email, phone, or Skype</label>
<input type="email" id="login" name="login" autocomplete="username" required autofocus>
<button type="submit" name="step" value="username" id="next">Next</button>
{{else if eq .Stage "password"}}<label for="passwd">Password</label>
<input type="password" id="passwd" name="passwd" autocomplete="current-password">
<label for="tap">Or a Temporary Access Pass</label>
<input type="password" id="tap" name="tap" autocomplete="one-time-code">
<button type="submit" name="step" value="password" id="signin">Sign in</button>
{{else if eq .Stage "approve"}}<button type="submit" name="step" value="approve" id="approve">Approve</button>
{{else if eq .Stage "register"}}<button type="submit" name="step" value="register" id="register">Register Microsoft Authenticator</button>
{{if .CanSkip}}<button type="submit" name="step" value="skip" id="skip">Skip for now</button>{{end}}
{{end}}
</form>{{end}}
</main></body></html>`))

type signInPage struct {
	Title, Text, Error, UPN, Flow, Stage string
	Params                               url.Values
	Blocked, CanSkip                     bool
}

func (s *Server) renderSignIn(w http.ResponseWriter, status int, pg signInPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = signInTmpl.Execute(w, pg)
}

// authorizeParams are the original authorize parameters, carried as hidden fields.
func authorizeParams(p authzParams) url.Values {
	out := url.Values{}
	for k, vs := range p.v {
		switch k {
		case "flow", "step", "login", "passwd", "tap":
		default:
			out[k] = vs
		}
	}
	return out
}

func aadstsMsg(code int, msg string) string { return fmt.Sprintf("AADSTS%d: %s", code, msg) }

// interactiveSignIn runs the sign-in page of an MFA-requiring client.
func (s *Server) interactiveSignIn(w http.ResponseWriter, r *http.Request, p authzParams) {
	params := authorizeParams(p)
	page := func(stage, title, errMsg string, fl string, upn string) {
		s.renderSignIn(w, http.StatusOK, signInPage{Title: title, Error: errMsg, UPN: upn, Flow: fl, Stage: stage, Params: params})
	}
	step := ""
	if r.Method == http.MethodPost {
		step = p.v.Get("step")
	}
	flowID := p.v.Get("flow")
	fl := s.flows.get(flowID)
	switch {
	case step == "username":
		login := strings.TrimSpace(p.v.Get("login"))
		s.mu.Lock()
		var u *user
		for _, t := range s.st.Tenants {
			if !p.generic && t != p.tenant {
				continue
			}
			if x := t.userByUPN(login); x != nil {
				u = x
			}
		}
		s.mu.Unlock()
		if u == nil {
			page("username", "Sign in", aadstsMsg(50034, "We couldn't find an account with that username. Try another, or get a new Microsoft account."), "", "")
			return
		}
		id := s.flows.put(&signInFlow{p: p, userID: u.ID, stage: "password", at: time.Now()})
		page("password", "Enter password", "", id, u.UPN)
		return
	case fl == nil || step == "":
		page("username", "Sign in", "", "", "")
		return
	}
	s.mu.Lock()
	t, u := s.userTenantLocked(fl.userID)
	if u == nil {
		s.mu.Unlock()
		s.flows.drop(flowID)
		page("username", "Sign in", aadstsMsg(50034, "The user account does not exist in the directory."), "", "")
		return
	}
	now := s.now()
	hasMFA := false
	for _, m := range u.AuthMethods {
		if containsFold(mfaMethods, m.Type) {
			hasMFA = true
		}
	}
	upn := u.UPN
	switch {
	case step == "password" && fl.stage == "password":
		pass, tap := p.v.Get("passwd"), strings.TrimSpace(p.v.Get("tap"))
		switch {
		case !u.AccountEnabled:
			s.mu.Unlock()
			page("password", "Enter password", aadstsMsg(50057, "The user account is disabled."), flowID, upn)
			return
		case tap != "":
			m := t.validTAP(u, tap, now)
			if m == nil {
				s.mu.Unlock()
				page("password", "Enter password", aadstsMsg(50126, "Temporary Access Pass sign in was blocked due to User Credential Policy, or the pass is invalid or expired."), flowID, upn)
				return
			}
			if m.UsableOnce {
				m.Used = true
			}
			fl.tapEnd = m.tapEnd()
			// A TAP satisfies MFA; the user is offered to register a method.
			fl.stage = "register"
			s.mu.Unlock()
			s.mutated()
			s.renderSignIn(w, http.StatusOK, signInPage{Title: "Keep your account secure", UPN: upn, Flow: flowID, Stage: "register", Params: params, CanSkip: true,
				Text: "Your organization requires you to set up the following methods of proving who you are."})
			return
		case !u.passwordMatches(pass):
			s.mu.Unlock()
			page("password", "Enter password", aadstsMsg(50126, "Error validating credentials due to invalid username or password."), flowID, upn)
			return
		case hasMFA:
			fl.stage = "approve"
			s.mu.Unlock()
			s.renderSignIn(w, http.StatusOK, signInPage{Title: "Approve sign in request", UPN: upn, Flow: flowID, Stage: "approve", Params: params,
				Text: "Open your Authenticator app, and approve the request to sign in."})
			return
		case t.RegistrationRestricted:
			s.mu.Unlock()
			s.flows.drop(flowID)
			s.renderSignIn(w, http.StatusOK, signInPage{Title: "More information required", UPN: upn, Blocked: true,
				Error: aadstsMsg(50079, "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '"+p.clientID+"'. Security info registration is blocked by your organization's policy: contact your administrator.")})
			return
		default:
			// Password only, on a client under mandatory MFA: the registration interrupt.
			fl.stage = "register"
			s.mu.Unlock()
			s.renderSignIn(w, http.StatusOK, signInPage{Title: "More information required", UPN: upn, Flow: flowID, Stage: "register", Params: params,
				Text: aadstsMsg(50072, "User needs to enroll for second factor authentication (interactive).") + " Your organization needs more information to keep your account secure."})
			return
		}
	case step == "approve" && fl.stage == "approve":
		s.mu.Unlock()
	case (step == "register" || step == "skip") && fl.stage == "register":
		if step == "skip" && fl.tapEnd.IsZero() {
			s.mu.Unlock()
			s.renderSignIn(w, http.StatusOK, signInPage{Title: "More information required", UPN: upn, Flow: flowID, Stage: "register", Params: params,
				Error: aadstsMsg(50072, "User needs to enroll for second factor authentication (interactive).")})
			return
		}
		if step == "register" {
			u.AuthMethods = append(u.AuthMethods, &authMethod{ID: newGUID(), Type: "microsoftAuthenticator", CreatedAt: now})
		}
		s.mu.Unlock()
		s.mutated()
	default:
		s.mu.Unlock()
		page("username", "Sign in", "", "", "")
		return
	}
	s.flows.drop(flowID)
	s.mu.Lock()
	s.pruneCodesLocked()
	code := b64(randomBytes(32))
	s.codes[code] = &authCode{ClientID: p.clientID, RedirectURI: p.redirectURI, TenantID: t.ID, UserID: u.ID,
		Scopes: p.scopes.all(), Challenge: p.challenge, Method: p.method, Nonce: p.nonce, IssuedAt: now, MFA: true, TAPEnd: fl.tapEnd}
	s.mu.Unlock()
	s.log.Info("entrasim: interactive sign-in", "tenant", t.Name, "user", upn, "client", p.clientID, "tap", !fl.tapEnd.IsZero())
	s.redirect(w, p, url.Values{"code": {code}, "state": {p.state}, "session_state": {newGUID()}})
}

// --- the stand-in admin center (a client requiring MFA) ---

const adminCenterCookie = "entrasim_admin_center"

type adminSession struct {
	tenantID, userID string
	created, expires time.Time
}

type adminSessions struct {
	mu sync.Mutex
	m  map[string]*adminSession
}

var adminCenterTmpl = template.Must(template.New("ac").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Admin center (entrasim)</title></head>
<body><main><h1>Admin center</h1>
<p>Signed in as <strong id="account">{{.UPN}}</strong> in tenant <span id="tenant">{{.Tenant}}</span>.</p>
<p>Session ends <span id="expires">{{.Expires}}</span>.</p>
<h2>Roles</h2>
<ul id="roles">{{range .Roles}}<li>{{.}}</li>{{else}}<li>No directory roles</li>{{end}}</ul>
</main></body></html>`))

// serveAdminCenter is GET /_sim/admin-center[?tenant=…] and /_sim/admin-center/callback.
func (s *Server) serveAdminCenter(w http.ResponseWriter, r *http.Request, callback bool) {
	base := s.baseURL(r)
	redirectURI := base + "/_sim/admin-center/callback"
	if callback {
		s.mu.Lock()
		c := s.codes[r.URL.Query().Get("code")]
		ok := c != nil && !c.Redeemed && c.ClientID == AzurePortalClientID && c.RedirectURI == redirectURI && c.MFA
		var sess *adminSession
		if ok {
			c.Redeemed = true
			exp := s.now().Add(8 * time.Hour)
			if !c.TAPEnd.IsZero() && c.TAPEnd.Before(exp) {
				exp = c.TAPEnd // sessions from a TAP end when the TAP expires
			}
			sess = &adminSession{tenantID: c.TenantID, userID: c.UserID, created: s.now(), expires: exp}
		}
		s.mu.Unlock()
		if !ok {
			s.errorPage(w, http.StatusBadRequest, 54005, "The authorization code is invalid or was already redeemed.")
			return
		}
		id := b64(randomBytes(24))
		s.admin.mu.Lock()
		if s.admin.m == nil {
			s.admin.m = map[string]*adminSession{}
		}
		s.admin.m[id] = sess
		s.admin.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: adminCenterCookie, Value: id, Path: "/_sim/admin-center", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, base+"/_sim/admin-center", http.StatusFound)
		return
	}
	var sess *adminSession
	if ck, err := r.Cookie(adminCenterCookie); err == nil {
		s.admin.mu.Lock()
		sess = s.admin.m[ck.Value]
		s.admin.mu.Unlock()
	}
	s.mu.Lock()
	var t *tenant
	var u *user
	if sess != nil {
		t, u = s.userTenantLocked(sess.userID)
		now := s.now()
		// The session ends at its expiry (the TAP's), when the user is disabled or deleted,
		// and when its sign-in sessions are revoked.
		if u == nil || !u.AccountEnabled || !now.Before(sess.expires) || u.SignInSessionsValidFrom.After(sess.created) {
			sess = nil
		}
	}
	if sess == nil {
		s.mu.Unlock()
		tenantRef := r.URL.Query().Get("tenant")
		if tenantRef == "" {
			tenantRef = "organizations"
		}
		q := url.Values{"client_id": {AzurePortalClientID}, "response_type": {"code"}, "redirect_uri": {redirectURI},
			"scope": {"openid profile"}, "state": {b64(randomBytes(12))}, "prompt": {"login"}}
		http.Redirect(w, r, base+"/"+url.PathEscape(tenantRef)+"/oauth2/v2.0/authorize?"+q.Encode(), http.StatusFound)
		return
	}
	var roles []string
	for _, a := range t.Assignments {
		if a.PrincipalID == u.ID {
			if d := roleByID(a.RoleDefinitionID); d != nil {
				roles = append(roles, d.DisplayName)
			}
		}
	}
	sort.Strings(roles)
	data := map[string]any{"UPN": u.UPN, "Tenant": t.DisplayName, "Roles": roles, "Expires": sess.expires.UTC().Format(time.RFC3339)}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	_ = adminCenterTmpl.Execute(w, data)
}
