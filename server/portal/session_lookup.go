package portal

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// DefaultSessionIdleTimeout ends a portal session unused for this long (Deps.SessionIdleTimeout).
const DefaultSessionIdleTimeout = time.Hour

// Sessions looks portal sessions up for another process sharing the database (the codec
// server), with the portal's idle timeout.
type Sessions struct {
	Store *store.Store
	Idle  time.Duration // zero: DefaultSessionIdleTimeout
}

// SessionTechnician is the technician signed in with this session cookie value, or
// store.ErrUnauthenticated.
func (s Sessions) SessionTechnician(ctx context.Context, cookie string) (store.Technician, error) {
	idle := s.Idle
	if idle <= 0 {
		idle = DefaultSessionIdleTimeout
	}
	_, u, err := s.Store.Session(ctx, cookie, idle)
	if errors.Is(err, store.ErrNotFound) {
		return store.Technician{}, store.ErrUnauthenticated
	}
	if err != nil {
		return store.Technician{}, err
	}
	return u, nil
}

// SessionCookieName is the portal's session cookie for a public URL (__Host- prefixed on https).
func SessionCookieName(publicURL string) string {
	if u, err := url.Parse(publicURL); err == nil && u.Scheme == "https" {
		return hostCookiePref + sessionCookie
	}
	return sessionCookie
}
