// Package portal is the web portal of SPEC §9: server-rendered pages, sign-in with Microsoft
// (portal_auth.go), server-side sessions with a CSRF token each, the technicians' pages
// (/my/...), the extension's connect page and the rendering the admins' pages (package
// portal/admin) use. Every page is a thin front end over the domain service (package
// access), as the JSON API is; no rule is written twice.
package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// Portal serves the pages. It holds what they need that is fixed at start-up, plus the
// lazily discovered OpenID provider.
type Portal struct {
	*web.Base
	signins *web.WindowCounter // sign-ins started per client IP

	pages  map[string]*template.Template
	assets map[string]asset
	csp    string
	secure bool // the public URL is https: Secure cookies with the __Host- prefix
	origin string

	mu   sync.Mutex
	oidc *oidcClient
}

type asset struct {
	body        []byte
	contentType string
	version     string
}

// portalPages are the templates, each rendered inside layout.html.
func portalPages() []string {
	return []string{"home.html", "message.html", "tenants.html", "tenant.html", "staff.html", "applications.html",
		"application.html", "entitlements.html", "grants.html", "audit.html", "my.html", "grant.html", "tokens.html", "extension.html", "reports.html",
		"policy.html", "approvals.html", "approval.html", "notifications.html"}
}

// New is the portal over b.
func New(b *web.Base) (*Portal, error) {
	d := b.Deps
	p := &Portal{Base: b, signins: web.NewWindowCounter(d.AuthFailureWindow), pages: map[string]*template.Template{}, assets: map[string]asset{}}
	files, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := assetFS.ReadFile("assets/" + f.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		ct := "text/css; charset=utf-8"
		if strings.HasSuffix(f.Name(), ".js") {
			ct = "text/javascript; charset=utf-8"
		}
		p.assets[f.Name()] = asset{body: b, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	funcs := template.FuncMap{
		"asset": func(name string) string {
			return "/assets/" + name + "?v=" + p.assets[name].version
		},
		"when":     formatTime,
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"duration": FormatDuration,
		"has": func(list []string, v string) bool {
			for _, x := range list {
				if strings.EqualFold(x, v) {
					return true
				}
			}
			return false
		},
		"appPath": ApplicationPath,
	}
	for _, name := range portalPages() {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("portal template %s: %w", name, err)
		}
		p.pages[name] = t
	}

	if d.PublicURL != "" {
		u, err := url.Parse(d.PublicURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("server: public URL %q is not an absolute URL", d.PublicURL)
		}
		p.origin = u.Scheme + "://" + u.Host
		p.secure = u.Scheme == "https"
	}
	// Forms may lead only here and, for the Authorize button's redirect, to Entra ID.
	formAction := "'self'"
	authority := d.EntraAuthority
	if authority == "" {
		authority = d.Directory.AuthCodeURL("csp", strings.Repeat("v", 43), "")
	}
	if o := web.OriginOf(authority); o != "" {
		formAction += " " + o
	}
	p.csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"object-src 'none'; base-uri 'none'; form-action " + formAction + "; frame-ancestors 'none'"
	return p, nil
}

// IsPortalRoute reports whether a route path belongs to the web portal (HTML pages, not the
// API described by openapi.json).
func IsPortalRoute(p string) bool {
	if p == "/" {
		return true
	}
	for _, prefix := range []string{"/signin", "/signout", "/oidc/", "/admin", "/my", "/assets/", "/extension/", "/approvals", "/reports", "/review"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// ApplicationPath is the portal page of an application (its vendor form).
func ApplicationPath(tenantID, applicationID string) string {
	return "/admin/tenants/" + url.PathEscape(tenantID) + "/applications/" + url.PathEscape(applicationID)
}

// Routes registers the portal's assets, sign-in and technicians' pages. It returns the group
// of pages that need a session (and, for POSTs, the CSRF token) and its /admin group for
// admins only, where package portal/admin adds its pages.
func (s *Portal) Routes(r *gin.Engine) (in, admin *gin.RouterGroup) {
	for name := range s.assets {
		r.GET("/assets/"+name, s.portalAsset)
	}
	pg := r.Group("", s.portalHeaders, web.LimitBody, s.portalSession)
	pg.GET("/", s.portalHome)
	pg.GET("/signin", s.portalSignIn)
	pg.GET("/oidc/callback", s.portalCallback)

	// Everything else needs a session; POSTs also the same origin and the CSRF token.
	in = pg.Group("", s.portalRequireSession, s.portalCSRF)
	in.POST("/signout", s.portalSignOut)
	in.GET("/my", s.portalMy)
	in.GET("/my/tokens", s.portalTokens)
	in.POST("/my/tokens", s.portalCreateToken)
	in.POST("/my/tokens/:token_id/revoke", s.portalRevokeToken)
	in.GET("/extension/connect", s.portalExtensionConnect)
	in.POST("/extension/connect", s.portalExtensionApprove)
	if s.Deps.Workflows != nil {
		in.POST("/my/applications/:application_id/request", s.portalRequest)
		in.GET("/my/grants/:grant_id", s.portalGrant)
		in.POST("/my/grants/:grant_id/credentials", s.portalCredentials)
		in.POST("/my/grants/:grant_id/extend", s.portalExtend)
		in.POST("/my/grants/:grant_id/revoke", s.portalRevoke)
	}

	return in, in.Group("/admin", s.RequireAdmin)
}

// portalAsset serves an embedded asset; the URL carries its version, so it may be cached.
func (s *Portal) portalAsset(c *gin.Context) {
	a := s.assets[path.Base(c.Request.URL.Path)]
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, a.contentType, a.body)
}

// portalHeaders sets the security headers of every portal answer, redirects and errors
// included.
func (s *Portal) portalHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin keeps the Origin header on the portal's own POSTs (Origin check).
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	c.Next()
}

// PageData is what every template receives.
type PageData struct {
	Title   string
	Nav     string
	User    *store.Technician
	CSRF    string
	Notice  string
	Problem *access.Error
	Data    any
}

// FieldError is the message to show beside the named input, if the problem is about it.
func (p PageData) FieldError(field string) string {
	if p.Problem != nil && p.Problem.Field == field {
		return p.Problem.Message
	}
	return ""
}

// GeneralError is the problem's message when it is about no particular input.
func (p PageData) GeneralError() string {
	if p.Problem != nil && p.Problem.Field == "" {
		return p.Problem.Message
	}
	return ""
}

// Render writes a page with the session's user and CSRF token filled in.
func (s *Portal) Render(c *gin.Context, status int, page string, d PageData) {
	if sess, ok := portalSessionOf(c); ok {
		u := sess.user
		d.User = &u
		d.CSRF = sess.csrf
	}
	if d.Notice == "" {
		d.Notice = noticeText(c.Query("done"))
	}
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.Log.ErrorContext(c.Request.Context(), "portal: render", "page", page, "request_id", web.RequestID(c), "error", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Something went wrong on our side; it has been logged."))
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// Message renders a page that only says something (errors, refusals, signed out).
func (s *Portal) Message(c *gin.Context, status int, title, text string) {
	s.Render(c, status, "message.html", PageData{Title: title, Data: text})
	c.Abort()
}

// Fail shows a service error as a page: a Problem with its status and message,
// anything else as a logged 500.
func (s *Portal) Fail(c *gin.Context, err error) {
	if p := access.AsError(err); p != nil {
		status := web.StatusOf(p)
		title := http.StatusText(status)
		if status == http.StatusNotFound {
			title = "Not found"
		}
		s.Message(c, status, title, p.Message)
		return
	}
	s.Log.ErrorContext(c.Request.Context(), "portal request failed", "request_id", web.RequestID(c),
		"route", c.FullPath(), "error", err)
	s.Message(c, http.StatusInternalServerError, "Something went wrong",
		"Something went wrong on our side; it has been logged (request id "+web.RequestID(c)+").")
}

// Redirect answers a form post with 303 See Other (the browser then GETs the page).
func Redirect(c *gin.Context, to string) {
	c.Redirect(http.StatusSeeOther, to)
	c.Abort()
}

// noticeText turns the ?done= code of a redirect after a form post into its sentence;
// unknown codes show nothing, so no caller text is ever reflected.
func noticeText(code string) string {
	return map[string]string{
		"signed_out":          "You are signed out.",
		"tenant_created":      "Tenant created.",
		"member_added":        "Technician added to the tenant.",
		"member_removed":      "Technician removed from the tenant.",
		"group_created":       "Group created.",
		"group_member":        "Group membership changed.",
		"app_created":         "Application created. Authorize it, then choose the duration, domain and roles.",
		"app_saved":           "Configuration saved.",
		"authorized":          "Authorized. Now choose the access duration, the domain and the roles, then save.",
		"rule_created":        "Entitlement rule created.",
		"rule_deleted":        "Entitlement rule deleted.",
		"staff_created":       "Member of staff added. They sign in with Microsoft.",
		"staff_deactivated":   "Deactivated: their sessions and API tokens ended and their live grants are being revoked.",
		"staff_reactivated":   "Reactivated. They sign in again with Microsoft; their old API tokens stay revoked.",
		"token_revoked":       "Token revoked; it no longer works.",
		"requested":           "Access requested.",
		"extended":            "Access extended.",
		"revoked":             "Access revoked; the account is being disabled.",
		"already_live":        "You already hold access to this application; here it is.",
		"policy_saved":        "Policy saved.",
		"destination_added":   "Destination added.",
		"destination_removed": "Destination removed.",
		"test_queued":         "Test event queued; its delivery shows below in a moment.",
		"approved":            "Approved.",
		"denied":              "Denied; the request ends without touching the customer's tenant.",
		"auditor_tenants":     "Auditor's tenants saved; they see those tenants' grants, audit events and reports.",
	}[code]
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// FormatDuration writes 4h0m0s as "4 hours", 90m as "1 h 30 min".
func FormatDuration(d time.Duration) string {
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case d < time.Minute:
		return d.String()
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0 && h == 1:
		return "1 hour"
	case m == 0:
		return fmt.Sprintf("%d hours", h)
	default:
		return fmt.Sprintf("%d h %d min", h, m)
	}
}

// FormFailed shows a refusal with rerender, and anything else as an error page.
func (s *Portal) FormFailed(c *gin.Context, err error, rerender func(status int, p *access.Error)) {
	if p := access.AsError(err); p != nil {
		rerender(web.StatusOf(p), p)
		return
	}
	s.Fail(c, err)
}

// DurationChoice is one option of an access-duration picker.
type DurationChoice struct {
	Value, Label string
	Selected     bool
}

// DurationChoices offers the usual durations within [lo, hi], plus current.
func DurationChoices(lo, hi, current time.Duration) []DurationChoice {
	ds := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	if current > 0 && !slices.Contains(ds, current) {
		ds = append(ds, current)
		slices.Sort(ds)
	}
	var out []DurationChoice
	for _, d := range ds {
		if d < lo || d > hi {
			continue
		}
		out = append(out, DurationChoice{Value: d.String(), Label: FormatDuration(d), Selected: d == current})
	}
	return out
}
