package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
)

const userKey = "user"

// currentUser is the authenticated member of staff (set by authenticate).
func currentUser(c *gin.Context) store.Technician {
	u, _ := c.Get(userKey)
	t, _ := u.(store.Technician)
	return t
}

// authenticate resolves the bearer token. Only failing credentials are counted, per client
// address (behind JIT_TRUSTED_PROXIES, the forwarded one): a good token is never locked out,
// and 429 comes only after the token was checked and refused. Failures past the limit are
// not written to the audit log, so unauthenticated requests cannot fill it.
func (s *Server) authenticate(c *gin.Context) {
	token, ok := bearer(c.GetHeader("Authorization"))
	var user store.Technician
	err := store.ErrUnauthenticated
	if ok {
		user, err = s.deps.Store.Authenticate(c.Request.Context(), token)
	}
	if err == nil {
		c.Set(userKey, user)
		c.Next()
		return
	}
	if !errors.Is(err, store.ErrUnauthenticated) {
		s.internal(c, err)
		return
	}
	ip := c.ClientIP()
	n, reset := s.limiter.add(ip, time.Now())
	if n > s.deps.AuthFailureLimit {
		c.Header("Retry-After", strconv.Itoa(int((time.Until(reset)+time.Second-1)/time.Second)))
		abort(c, http.StatusTooManyRequests, "too_many_requests", "Too many failed sign-in attempts from this address; try again later.")
		return
	}
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="jitaccess"`)
		abort(c, http.StatusUnauthorized, "unauthenticated", "Send an API token: Authorization: Bearer <token>.")
		return
	}
	s.audit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "auth.failed",
		Target: c.FullPath(), Details: map[string]any{"client_ip": ip}})
	c.Header("WWW-Authenticate", `Bearer realm="jitaccess", error="invalid_token"`)
	abort(c, http.StatusUnauthorized, "unauthenticated", "The API token is not valid.")
}

// requireRole lets only the given role through. The answer does not depend on any id in the
// path, so a refused caller learns nothing about what exists.
func (s *Server) requireRole(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := currentUser(c)
		if u.Role != role {
			s.audit(c, store.AuditEvent{ActorID: u.ID, ActorKind: u.Role, Action: "auth.denied",
				Target: c.FullPath(), Details: map[string]any{"method": c.Request.Method, "required_role": role}})
			abort(c, http.StatusForbidden, "forbidden", "This endpoint is for MSP admins.")
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

// windowCounter counts events per key (a client address) in fixed windows. Its memory is
// bounded: past maxKeys live windows, new keys count as over any limit.
type windowCounter struct {
	window  time.Duration
	maxKeys int

	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	count int
	start time.Time
}

func newWindowCounter(w time.Duration) *windowCounter {
	return &windowCounter{window: w, maxKeys: 10000, keys: map[string]*window{}}
}

// add counts one event of key and returns the count in the current window and when the
// window ends.
func (l *windowCounter) add(key string, now time.Time) (int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.keys[key]
	if ok && now.Sub(f.start) < l.window {
		f.count++
		return f.count, f.start.Add(l.window)
	}
	if !ok && len(l.keys) >= l.maxKeys {
		for k, f := range l.keys {
			if now.Sub(f.start) >= l.window {
				delete(l.keys, k)
			}
		}
		if len(l.keys) >= l.maxKeys {
			return int(^uint(0) >> 1), now.Add(l.window)
		}
	}
	l.keys[key] = &window{count: 1, start: now}
	return 1, now.Add(l.window)
}

// anonymousAudit records an event of an unauthenticated request (a refused sign-in or
// callback) unless its address already failed more than AuthFailureLimit times in the
// window: unauthenticated requests cannot write rows without bound.
func (s *Server) anonymousAudit(c *gin.Context, e store.AuditEvent) {
	if n, _ := s.limiter.add(c.ClientIP(), time.Now()); n <= s.deps.AuthFailureLimit {
		s.audit(c, e)
	}
}
