package portal

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// Sign-in with Microsoft (OpenID Connect, authorization code with PKCE and nonce) and the
// portal's server-side sessions. The browser holds only random values (session id, sign-in
// state); the database keeps their SHA-256, so a database reader cannot ride a session.

const (
	loginTTL = 10 * time.Minute
	// maxPendingSignIns bounds the rows unauthenticated /signin requests can leave behind.
	maxPendingSignIns = 10000
	portalSessKey     = "portal_session"
	csrfField         = "csrf_token"
	csrfHeader        = "X-CSRF-Token"
	loginCookie       = "jit_signin"
	sessionCookie     = "jit_session"
	hostCookiePref    = "__Host-" // Secure, Path=/, no Domain: a sibling host cannot plant the cookie
)

// portalSess is the session of the current request.
type portalSess struct {
	idHash string
	csrf   string
	user   store.Technician
}

func portalSessionOf(c *gin.Context) (portalSess, bool) {
	v, ok := c.Get(portalSessKey)
	if !ok {
		return portalSess{}, false
	}
	s, ok := v.(portalSess)
	return s, ok
}

func (s *Portal) cookieName(base string) string {
	if s.secure {
		return hostCookiePref + base
	}
	return base
}

func (s *Portal) setCookie(c *gin.Context, name, value, path string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.cookieName(name), Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// portalSession loads the session named by the cookie, if it is live, and makes its
// technician the request's user (so s.Actor works as for the API).
func (s *Portal) portalSession(c *gin.Context) {
	ck, err := c.Cookie(s.cookieName(sessionCookie))
	if err != nil || ck == "" {
		c.Next()
		return
	}
	sess, u, err := s.Deps.Store.Session(c.Request.Context(), ck, s.Deps.SessionIdleTimeout)
	if errors.Is(err, store.ErrNotFound) {
		c.Next()
		return
	}
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.Set(portalSessKey, portalSess{idHash: sess.IDHash, csrf: sess.CSRFToken, user: u})
	web.SetUser(c, u)
	web.SetSession(c, sess.IDHash)
	c.Next()
}

// portalRequireSession sends a browser without a session to the sign-in page.
func (s *Portal) portalRequireSession(c *gin.Context) {
	if _, ok := portalSessionOf(c); ok {
		c.Next()
		return
	}
	if c.Request.Method == http.MethodGet {
		Redirect(c, "/signin?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return
	}
	Redirect(c, "/")
}

// portalRequireAdmin keeps the admin pages to admins, like requireRole on the API.
func (s *Portal) RequireAdmin(c *gin.Context) {
	u := web.CurrentUser(c)
	if u.Role != store.RoleAdmin {
		s.Audit(c, store.AuditEvent{Action: "auth.denied", Target: c.FullPath(),
			Details: map[string]any{"method": c.Request.Method, "required_role": store.RoleAdmin, "portal": true}})
		s.Message(c, http.StatusForbidden, "For MSP admins only", "This page is for the MSP's admins.")
		return
	}
	c.Next()
}

// portalCSRF refuses a state-changing request that does not come from the portal's own
// pages: the Origin (or, without it, the Referer) must be the portal's, and the form (or the
// X-CSRF-Token header of the portal's script) must carry the session's token.
func (s *Portal) portalCSRF(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	sess, _ := portalSessionOf(c)
	want := s.portalOrigin(c)
	from := c.GetHeader("Origin")
	if from == "" {
		from = web.OriginOf(c.GetHeader("Referer"))
	}
	token := c.GetHeader(csrfHeader)
	if token == "" {
		token = c.PostForm(csrfField)
	}
	var reason string
	switch {
	case from != want:
		reason = "origin"
	case subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) != 1:
		reason = "csrf_token"
	}
	if reason != "" {
		s.Audit(c, store.AuditEvent{Action: "portal.request_refused", Target: c.FullPath(),
			Details: map[string]any{"reason": reason, "origin": web.Truncate(from, 200), "client_ip": c.ClientIP()}})
		s.Message(c, http.StatusForbidden, "Request refused",
			"This form did not come from this jitaccess page, or it has expired. Go back, reload the page and try again.")
		return
	}
	c.Next()
}

// portalOrigin is the portal's own origin: the public URL's, else the request's.
func (s *Portal) portalOrigin(c *gin.Context) string {
	if s.origin != "" {
		return s.origin
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// oidcClient is the discovered provider of the MSP's tenant.
type oidcClient struct {
	verifier *oidc.IDTokenVerifier
	endpoint oauth2.Endpoint
}

// oidcContext carries the configured HTTP client into go-oidc and x/oauth2.
func (s *Portal) oidcContext(ctx context.Context) context.Context {
	if s.Deps.OIDCHTTPClient == nil {
		return ctx
	}
	return oidc.ClientContext(ctx, s.Deps.OIDCHTTPClient)
}

// provider discovers the issuer once; a failure is retried at the next sign-in.
func (s *Portal) provider(ctx context.Context) (*oidcClient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oidc != nil {
		return s.oidc, nil
	}
	dctx, cancel := context.WithTimeout(s.oidcContext(ctx), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, s.Deps.OIDCIssuer)
	if err != nil {
		return nil, fmt.Errorf("OpenID discovery of %s: %w", s.Deps.OIDCIssuer, err)
	}
	s.oidc = &oidcClient{verifier: p.Verifier(&oidc.Config{ClientID: s.Deps.OIDCClientID}), endpoint: p.Endpoint()}
	return s.oidc, nil
}

func (s *Portal) oauthConfig(c *gin.Context, endpoint oauth2.Endpoint) *oauth2.Config {
	return &oauth2.Config{ClientID: s.Deps.OIDCClientID, ClientSecret: s.Deps.OIDCClientSecret, Endpoint: endpoint,
		RedirectURL: s.portalOrigin(c) + "/oidc/callback", Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

// safeNext keeps a post-sign-in destination on this site: a path that no browser can read as
// another host, also after percent-decoding (no "//", no backslash, no control character or
// space, no scheme or host); anything else is "/".
func safeNext(v string) string {
	if len(v) > 500 || !strings.HasPrefix(v, "/") {
		return "/"
	}
	dec, err := url.PathUnescape(v)
	if err != nil {
		return "/"
	}
	for _, x := range []string{v, dec} {
		if strings.HasPrefix(x, "//") || strings.ContainsFunc(x, func(r rune) bool {
			return r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError
		}) {
			return "/"
		}
	}
	if u, err := url.Parse(v); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return v
}

// portalHome sends a signed-in member of staff to their start page, else offers sign-in.
func (s *Portal) portalHome(c *gin.Context) {
	if sess, ok := portalSessionOf(c); ok {
		if sess.user.Role == store.RoleAdmin {
			Redirect(c, "/admin")
		} else {
			Redirect(c, "/my")
		}
		return
	}
	s.Render(c, http.StatusOK, "home.html", PageData{Title: "Sign in", Data: map[string]any{"Configured": s.Deps.OIDCIssuer != ""}})
}

// portalSignIn starts the authorization code flow: a single-use state bound to this browser
// by a cookie, a nonce for the ID token and a PKCE verifier, kept server-side.
func (s *Portal) portalSignIn(c *gin.Context) {
	if s.Deps.OIDCIssuer == "" {
		s.Message(c, http.StatusServiceUnavailable, "Sign-in is not configured",
			"Sign-in with Microsoft is not configured on this server (JIT_OIDC_ISSUER, JIT_OIDC_CLIENT_ID, JIT_OIDC_CLIENT_SECRET).")
		return
	}
	ctx := c.Request.Context()
	op, err := s.provider(ctx)
	if err != nil {
		s.Log.ErrorContext(ctx, "portal sign-in: discovery", "request_id", web.RequestID(c), "error", err)
		s.Message(c, http.StatusServiceUnavailable, "Sign-in is unavailable",
			"Microsoft Entra ID could not be reached to sign you in. Try again shortly.")
		return
	}
	if n, _ := s.signins.Add(c.ClientIP(), time.Now()); n > s.Deps.SignInLimit {
		s.Message(c, http.StatusTooManyRequests, "Too many sign-ins", "Too many sign-ins were started from this address; wait a minute and try again.")
		return
	}
	nonce, verifier := store.RandomToken(), oauth2.GenerateVerifier()
	// Unfinished sign-ins expire and are swept; their number is bounded.
	state, err := s.Deps.Store.CreatePortalLogin(ctx, nonce, verifier, safeNext(c.Query("next")), loginTTL, maxPendingSignIns)
	if errors.Is(err, store.ErrTooManySignIns) {
		s.Message(c, http.StatusServiceUnavailable, "Sign-in is busy", "Too many sign-ins are under way; try again in a few minutes.")
		return
	}
	if err != nil {
		s.Fail(c, err)
		return
	}
	s.setCookie(c, loginCookie, state, "/", int(loginTTL.Seconds()))
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if hint := c.Query("login_hint"); hint != "" && len(hint) <= 254 {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	c.Redirect(http.StatusFound, s.oauthConfig(c, op.endpoint).AuthCodeURL(state, opts...))
	c.Abort()
}

// idClaims are the ID token claims the portal reads.
type idClaims struct {
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
	Name              string `json:"name"`
	OID               string `json:"oid"`
	TID               string `json:"tid"`
}

// portalCallback finishes the sign-in: the state must be this browser's and unused, the ID
// token must verify and carry the nonce of this sign-in, and the person must be MSP staff.
func (s *Portal) portalCallback(c *gin.Context) {
	ctx := c.Request.Context()
	state := c.Query("state")
	ck, _ := c.Cookie(s.cookieName(loginCookie))
	s.setCookie(c, loginCookie, "", "/", -1)
	again := " Nothing was changed; sign in again from the start page."
	if state == "" || ck == "" || subtle.ConstantTimeCompare([]byte(state), []byte(ck)) != 1 {
		s.Message(c, http.StatusBadRequest, "This sign-in cannot be used",
			"The sign-in response does not belong to a sign-in started in this browser."+again)
		return
	}
	login, err := s.Deps.Store.ConsumePortalLogin(ctx, state)
	if err != nil {
		s.Message(c, http.StatusBadRequest, "This sign-in cannot be used", "The sign-in expired or was already used."+again)
		return
	}
	if e := c.Query("error"); e != "" {
		s.Message(c, http.StatusBadRequest, "Sign-in did not complete", EntraErrorMessage(e)+again)
		return
	}
	op, err := s.provider(ctx)
	if err != nil {
		s.Fail(c, err)
		return
	}
	tok, err := s.oauthConfig(c, op.endpoint).Exchange(s.oidcContext(ctx), c.Query("code"), oauth2.VerifierOption(login.CodeVerifier))
	if err != nil {
		s.Log.WarnContext(ctx, "portal sign-in: code exchange", "request_id", web.RequestID(c), "error", err)
		s.Message(c, http.StatusBadGateway, "Sign-in failed", "Microsoft Entra ID refused to complete the sign-in."+again)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := op.verifier.Verify(s.oidcContext(ctx), raw)
	if err == nil && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(login.Nonce)) != 1 {
		err = errors.New("the ID token's nonce is not this sign-in's")
	}
	var claims idClaims
	if err == nil {
		err = idt.Claims(&claims)
	}
	if err != nil {
		s.Log.WarnContext(ctx, "portal sign-in: ID token refused", "request_id", web.RequestID(c), "error", err)
		s.AnonymousAudit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "portal.signin_failed",
			Target: "oidc_callback", Details: map[string]any{"reason": "id_token", "client_ip": c.ClientIP()}})
		s.Message(c, http.StatusBadRequest, "Sign-in failed", "The identity token could not be verified."+again)
		return
	}
	user, err := s.staffFor(ctx, claims)
	if errors.Is(err, errWrongTenant) || errors.Is(err, store.ErrIdentityMismatch) || errors.Is(err, store.ErrInactive) {
		s.AnonymousAudit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "portal.signin_refused",
			Target: "oidc_callback", Details: map[string]any{"email": web.Truncate(claims.PreferredUsername, 254), "oid": claims.OID,
				"tid": claims.TID, "reason": err.Error(), "client_ip": c.ClientIP()}})
		s.Message(c, http.StatusForbidden, "Sign-in refused", refusedSignIn(err))
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		s.AnonymousAudit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "portal.signin_refused",
			Target: "oidc_callback", Details: map[string]any{"email": web.Truncate(claims.PreferredUsername, 254), "oid": claims.OID, "client_ip": c.ClientIP()}})
		s.Message(c, http.StatusForbidden, "Not a member of this MSP",
			"You signed in as "+claims.PreferredUsername+", who is not a member of this MSP's staff. Ask an MSP admin to add you.")
		return
	}
	if err != nil {
		s.Fail(c, err)
		return
	}
	id, _, err := s.Deps.Store.CreateSession(ctx, user.ID, s.Deps.SessionTTL, c.ClientIP(), web.Truncate(c.GetHeader("User-Agent"), 300))
	if err != nil {
		s.Fail(c, err)
		return
	}
	web.SetUser(c, user)
	s.Audit(c, store.AuditEvent{Action: "portal.signed_in", Target: user.ID,
		Details: map[string]any{"email": user.Email, "oid": claims.OID, "client_ip": c.ClientIP()}})
	s.setCookie(c, sessionCookie, id, "/", int(s.Deps.SessionTTL.Seconds()))
	Redirect(c, login.ReturnTo)
}

// errWrongTenant: the ID token is from another tenant than the MSP's.
var errWrongTenant = errors.New("the sign-in is not from the MSP's Entra tenant")

// staffFor finds the signed-in person among the MSP's staff by (tid, oid); the e-mail
// (preferred_username, else email) only links an unlinked record at first sign-in. The tid
// must be the MSP's tenant (the issuer's). The bootstrap admin's e-mail becomes an admin
// only while no admin exists.
func (s *Portal) staffFor(ctx context.Context, cl idClaims) (store.Technician, error) {
	if want := s.mspTenantID(); want != "" && !strings.EqualFold(cl.TID, want) {
		return store.Technician{}, fmt.Errorf("tid %q: %w", cl.TID, errWrongTenant)
	}
	id := store.SignInIdentity{TenantID: cl.TID, ObjectID: cl.OID, Emails: []string{cl.PreferredUsername, cl.Email}}
	t, err := s.Deps.Store.StaffForSignIn(ctx, id)
	if !errors.Is(err, store.ErrNotFound) || s.Deps.BootstrapAdminEmail == "" || cl.OID == "" {
		return t, err
	}
	for _, email := range id.Emails {
		if !strings.EqualFold(strings.TrimSpace(email), strings.TrimSpace(s.Deps.BootstrapAdminEmail)) {
			continue
		}
		has, err := s.Deps.Store.HasAdmin(ctx)
		if err != nil || has {
			return store.Technician{}, errors.Join(err, store.ErrNotFound)
		}
		name := cl.Name
		if name == "" {
			name = email
		}
		if _, err := s.Deps.Store.EnsureAdmin(ctx, email, name); err != nil {
			return store.Technician{}, err
		}
		return s.Deps.Store.StaffForSignIn(ctx, id)
	}
	return t, err
}

// mspTenantID is the MSP's Entra tenant id: the tenant segment of the issuer
// (https://login.microsoftonline.com/{tid}/v2.0).
func (s *Portal) mspTenantID() string {
	u, err := url.Parse(s.Deps.OIDCIssuer)
	if err != nil {
		return ""
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	switch strings.ToLower(seg) {
	case "", "common", "organizations", "consumers":
		return ""
	}
	return seg
}

func refusedSignIn(err error) string {
	switch {
	case errors.Is(err, store.ErrInactive):
		return "Your access to this MSP's jitaccess has been deactivated. Ask an MSP admin."
	case errors.Is(err, store.ErrIdentityMismatch):
		return "This e-mail belongs to a member of staff linked to another Microsoft account. Ask an MSP admin."
	default:
		return "You signed in with an account from another organization than this MSP's."
	}
}

// portalSignOut ends the session server-side: the cookie is worthless afterwards, even if
// someone copied it.
func (s *Portal) portalSignOut(c *gin.Context) {
	sess, _ := portalSessionOf(c)
	if err := s.Deps.Store.DeleteSession(c.Request.Context(), sess.idHash); err != nil {
		s.Fail(c, err)
		return
	}
	s.Audit(c, store.AuditEvent{Action: "portal.signed_out", Target: sess.user.ID})
	s.setCookie(c, sessionCookie, "", "/", -1)
	Redirect(c, "/?done=signed_out")
}

// EntraErrorMessage explains an OAuth error code returned by Entra in plain words.
func EntraErrorMessage(code string) string {
	switch code {
	case "access_denied":
		return "The sign-in was cancelled or consent was declined."
	case "consent_required", "interaction_required":
		return "An administrator must consent to the permissions jitaccess needs."
	default:
		return "Microsoft Entra ID reported an error (" + web.Truncate(code, 100) + ")."
	}
}
