// Package api is the JSON API of SPEC §4 under /v1 for every member of staff (access
// requests, approvals, tokens, the extension's session, audit events, reports) and its JSON
// plumbing (strict decoding, pages, error answers); the admins' routes are in api/admin.
// Domain refusals are answered in one place, Fail.
package api

import (
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// API serves the JSON API's handlers.
type API struct{ *web.Base }

// New is the API over b.
func New(b *web.Base) *API { return &API{Base: b} }

// Routes registers the API: the extension's code-for-session exchange (the one-time code is
// the credential), then everything else under /v1, which is JSON, authenticated and
// size-limited. It returns the group of the admins' routes (package api/admin).
func (s *API) Routes(r *gin.Engine) (admin *gin.RouterGroup) {
	r.POST("/v1/extension/sessions", web.LimitBody, s.requireJSON, s.createExtensionSession)
	v1 := r.Group("/v1", web.LimitBody, s.requireJSON, s.authenticate)

	// Routes any authenticated member of staff may call; handlers check ownership themselves.
	s.tokenRoutes(v1)
	s.extensionRoutes(v1)
	readers := v1.Group("", s.auditorGate)
	for _, register := range s.staffRoutes() {
		register(readers)
	}
	s.auditRoutes(v1.Group("", s.requireAdminOrAuditor))
	s.reportRoutes(v1.Group("", s.requireAdminOrAuditor))
	return v1.Group("", s.requireRole(store.RoleAdmin))
}

// Fail answers an error of a service method: a refusal with its status, anything else as a
// logged 500 without internals.
func (s *API) Fail(c *gin.Context, err error) {
	if p := access.AsError(err); p != nil {
		if p.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(p.RetryAfter))
		}
		web.Abort(c, web.StatusOf(p), p.Code, p.Message)
		return
	}
	s.Internal(c, err)
}

// requireJSON refuses a request body that is not declared as JSON.
func (s *API) requireJSON(c *gin.Context) {
	if hasBody(c.Request) {
		mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
		if err != nil || mt != "application/json" {
			web.Abort(c, http.StatusUnsupportedMediaType, "unsupported_media_type", "The request body must be JSON (Content-Type: application/json).")
			return
		}
	}
	c.Next()
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}
