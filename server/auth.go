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

// authenticate resolves the bearer token. Clients that keep failing are slowed down with 429
// before their token is even looked at.
func (s *Server) authenticate(c *gin.Context) {
	ip := c.ClientIP()
	if wait := s.limiter.blocked(ip, time.Now()); wait > 0 {
		c.Header("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		abort(c, http.StatusTooManyRequests, "too_many_requests", "Too many failed sign-in attempts from this address; try again later.")
		return
	}
	token, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		s.limiter.fail(ip, time.Now())
		c.Header("WWW-Authenticate", `Bearer realm="jitaccess"`)
		abort(c, http.StatusUnauthorized, "unauthenticated", "Send an API token: Authorization: Bearer <token>.")
		return
	}
	user, err := s.deps.Store.Authenticate(c.Request.Context(), token)
	if errors.Is(err, store.ErrUnauthenticated) {
		s.limiter.fail(ip, time.Now())
		s.audit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "auth.failed",
			Target: c.FullPath(), Details: map[string]any{"client_ip": ip}})
		c.Header("WWW-Authenticate", `Bearer realm="jitaccess", error="invalid_token"`)
		abort(c, http.StatusUnauthorized, "unauthenticated", "The API token is not valid.")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	c.Set(userKey, user)
	c.Next()
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

// failureLimiter counts failed authentications per client IP in fixed windows.
type failureLimiter struct {
	limit  int
	window time.Duration

	mu      sync.Mutex
	clients map[string]*failures
}

type failures struct {
	count int
	start time.Time
}

func newFailureLimiter(limit int, window time.Duration) *failureLimiter {
	return &failureLimiter{limit: limit, window: window, clients: map[string]*failures{}}
}

// blocked returns how long ip must still wait, or 0.
func (l *failureLimiter) blocked(ip string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.clients[ip]
	if !ok {
		return 0
	}
	if now.Sub(f.start) >= l.window {
		delete(l.clients, ip)
		return 0
	}
	if f.count >= l.limit {
		return f.start.Add(l.window).Sub(now)
	}
	return 0
}

func (l *failureLimiter) fail(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget expired windows now and then so the map stays bounded by active attackers.
	if len(l.clients) > 10000 {
		for k, f := range l.clients {
			if now.Sub(f.start) >= l.window {
				delete(l.clients, k)
			}
		}
	}
	f, ok := l.clients[ip]
	if !ok || now.Sub(f.start) >= l.window {
		l.clients[ip] = &failures{count: 1, start: now}
		return
	}
	f.count++
}
