package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// authenticate resolves the bearer token. Only failing credentials are counted, per client
// address (behind JIT_TRUSTED_PROXIES, the forwarded one): a good token is never locked out,
// and 429 comes only after the token was checked and refused. Failures past the limit are
// not written to the audit log, so unauthenticated requests cannot fill it.
func (s *API) authenticate(c *gin.Context) {
	token, ok := bearer(c.GetHeader("Authorization"))
	var user store.Technician
	err := store.ErrUnauthenticated
	if ok {
		user, err = s.Deps.Store.Authenticate(c.Request.Context(), token)
	}
	if err == nil {
		web.SetUser(c, user)
		c.Next()
		return
	}
	if !errors.Is(err, store.ErrUnauthenticated) {
		s.Internal(c, err)
		return
	}
	ip := c.ClientIP()
	n, reset := s.Failures(ip, time.Now())
	if n > s.Deps.AuthFailureLimit {
		c.Header("Retry-After", strconv.Itoa(int((time.Until(reset)+time.Second-1)/time.Second)))
		web.Abort(c, http.StatusTooManyRequests, "too_many_requests", "Too many failed sign-in attempts from this address; try again later.")
		return
	}
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="jitaccess"`)
		web.Abort(c, http.StatusUnauthorized, "unauthenticated", "Send an API token: Authorization: Bearer <token>.")
		return
	}
	s.Audit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "auth.failed",
		Target: c.FullPath(), Details: map[string]any{"client_ip": ip}})
	c.Header("WWW-Authenticate", `Bearer realm="jitaccess", error="invalid_token"`)
	web.Abort(c, http.StatusUnauthorized, "unauthenticated", "The API token is not valid.")
}

// requireRole lets only the given role through. The answer does not depend on any id in the
// path, so a refused caller learns nothing about what exists.
func (s *API) requireRole(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := web.CurrentUser(c)
		if u.Role != role {
			s.Audit(c, store.AuditEvent{ActorID: u.ID, ActorKind: u.Role, Action: "auth.denied",
				Target: c.FullPath(), Details: map[string]any{"method": c.Request.Method, "required_role": role}})
			web.Abort(c, http.StatusForbidden, "forbidden", "This endpoint is for MSP admins.")
			return
		}
		c.Next()
	}
}

func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
