package server

import (
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// Paths of the Temporal UI and its codec on the portal's own origin: the UI's codec fetch is
// then same-origin, so the browser sends the portal's session cookie with it by default.
const (
	TemporalUIPath    = "/temporal"
	TemporalCodecPath = "/temporal-codec"
)

// temporalUIRoutes serves the Temporal UI (started with --ui-public-path /temporal) through
// the portal, read-only and for admins only, and the codec server beside it.
func (s *Server) temporalUIRoutes(r *gin.Engine) {
	if s.Deps.TemporalUIUpstream != "" {
		up, err := url.Parse(s.Deps.TemporalUIUpstream)
		if err == nil && up.Host != "" {
			proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(up)
				pr.Out.Host = up.Host
				// The UI server needs none of ours: no session cookie or token leaves.
				pr.Out.Header.Del("Cookie")
				pr.Out.Header.Del("Authorization")
			}}
			h := func(c *gin.Context) {
				if s.temporalUIAdmin(c) {
					proxy.ServeHTTP(c.Writer, c.Request)
				}
			}
			r.GET(TemporalUIPath, h)
			r.GET(TemporalUIPath+"/*path", h)
			r.HEAD(TemporalUIPath+"/*path", h)
			// Write actions (terminate, signal, reset…) are not for the UI: read-only.
			r.Handle(http.MethodPost, TemporalUIPath+"/*path", s.temporalUIReadOnly)
			r.Handle(http.MethodPut, TemporalUIPath+"/*path", s.temporalUIReadOnly)
			r.Handle(http.MethodPatch, TemporalUIPath+"/*path", s.temporalUIReadOnly)
			r.Handle(http.MethodDelete, TemporalUIPath+"/*path", s.temporalUIReadOnly)
		}
	}
	if s.Deps.Codec != nil {
		// The codec handler authenticates itself (admin session or admin token).
		r.Any(TemporalCodecPath+"/*path", gin.WrapH(http.StripPrefix(TemporalCodecPath, s.Deps.Codec)))
	}
}

func (s *Server) temporalUIReadOnly(c *gin.Context) {
	c.String(http.StatusMethodNotAllowed, "the Temporal UI is read-only here")
}

// temporalUIAdmin admits a live portal session of an admin: anonymous browsers are sent to
// sign in (401 for anything but a page), everyone else gets 403.
func (s *Server) temporalUIAdmin(c *gin.Context) bool {
	c.Header("Cache-Control", "no-store")
	var u store.Technician
	ck, err := c.Cookie(portal.SessionCookieName(s.Deps.PublicURL))
	if err == nil && ck != "" {
		_, u, err = s.Deps.Store.Session(c.Request.Context(), ck, s.Deps.SessionIdleTimeout)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.Internal(c, err)
			return false
		}
	}
	switch {
	case u.ID == "":
		if strings.Contains(c.GetHeader("Accept"), "text/html") {
			portal.Redirect(c, "/signin?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		} else {
			c.String(http.StatusUnauthorized, "sign in to jitaccess as an admin")
		}
		c.Abort()
		return false
	case u.Role != store.RoleAdmin:
		web.SetUser(c, u)
		s.Audit(c, store.AuditEvent{Action: "auth.denied", Target: TemporalUIPath,
			Details: map[string]any{"method": c.Request.Method, "required_role": store.RoleAdmin}})
		c.String(http.StatusForbidden, "the Temporal UI is for the MSP's admins only")
		c.Abort()
		return false
	}
	return true
}
