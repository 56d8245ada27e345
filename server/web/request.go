package web

import (
	"net/url"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

const (
	userKey        = "user"
	requestIDKey   = "request_id"
	sessionHashKey = "session_hash"
)

// CurrentUser is the authenticated member of staff (API token or portal session).
func CurrentUser(c *gin.Context) store.Technician {
	u, _ := c.Get(userKey)
	t, _ := u.(store.Technician)
	return t
}

// SetUser makes u the request's authenticated member of staff.
func SetUser(c *gin.Context, u store.Technician) { c.Set(userKey, u) }

// SetSession records the hash of the request's portal session (the actor's SessionHash).
func SetSession(c *gin.Context, idHash string) { c.Set(sessionHashKey, idHash) }

// RequestID is the request's id (set by the server's requestID middleware).
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// SetRequestID tags the request with id.
func SetRequestID(c *gin.Context, id string) { c.Set(requestIDKey, id) }

// Actor is the authenticated caller of the request.
func (b *Base) Actor(c *gin.Context) access.Actor {
	return access.Actor{Technician: CurrentUser(c), ClientIP: c.ClientIP(), RequestID: RequestID(c),
		SessionHash: c.GetString(sessionHashKey)}
}

// Audit records an event of the request's caller (see access.Service.Audit).
func (b *Base) Audit(c *gin.Context, e store.AuditEvent) {
	b.Svc.Audit(c.Request.Context(), b.Actor(c), e)
}

// AnonymousAudit records an event of an unauthenticated request (a refused sign-in or
// callback) unless its address already failed more than AuthFailureLimit times in the
// window: unauthenticated requests cannot write rows without bound.
func (b *Base) AnonymousAudit(c *gin.Context, e store.AuditEvent) {
	if n, _ := b.Failures(c.ClientIP(), time.Now()); n <= b.Deps.AuthFailureLimit {
		b.Audit(c, e)
	}
}

// Truncate keeps the first n bytes of s.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ExtensionAllowed reports whether id is a configured browser extension (JIT_EXTENSION_IDS).
func (b *Base) ExtensionAllowed(id string) bool {
	return id != "" && slices.Contains(b.Deps.ExtensionIDs, id)
}

// OriginOf is scheme://host of an absolute URL, or "".
func OriginOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
