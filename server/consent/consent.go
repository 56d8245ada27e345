// Package consent finishes an admin's consent to an application: GET /oauth/callback, where
// Entra ID sends the admin's browser back, checked against the browser that started it, and
// the small page that says how it ended.
package consent

import (
	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/server/web"
)

// Callback serves GET /oauth/callback.
type Callback struct {
	*web.Base
	sessionCookie string // the portal's session cookie
}

// New is the callback over b.
func New(b *web.Base) *Callback {
	return &Callback{Base: b, sessionCookie: portal.SessionCookieName(b.Deps.PublicURL)}
}
