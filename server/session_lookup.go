package server

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// DefaultSessionIdleTimeout ends a portal session unused for this long (Deps.SessionIdleTimeout).
const DefaultSessionIdleTimeout = time.Hour

// liveSession returns the live session a cookie value names and its technician; ok is false
// when there is none (unknown, expired, idle, or its technician gone). A dead one is deleted.
func liveSession(ctx context.Context, st *store.Store, cookie string, idle time.Duration) (sessionRow, store.Technician, bool, error) {
	db := st.DB()
	var row sessionRow
	err := db.NewSelect().Model(&row).Where("id_hash = ?", hashToken(cookie)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return sessionRow{}, store.Technician{}, false, nil
	}
	if err != nil {
		return sessionRow{}, store.Technician{}, false, err
	}
	now := dbNow()
	if !now.Before(row.ExpiresAt) || now.Sub(row.LastSeenAt) > idle {
		_, _ = db.NewDelete().Model((*sessionRow)(nil)).Where("id_hash = ?", row.IDHash).Exec(ctx)
		return sessionRow{}, store.Technician{}, false, nil
	}
	u, err := st.Technician(ctx, row.TechnicianID)
	if errors.Is(err, store.ErrNotFound) {
		return sessionRow{}, store.Technician{}, false, nil
	}
	if err != nil {
		return sessionRow{}, store.Technician{}, false, err
	}
	return row, u, true, nil
}

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
	_, u, ok, err := liveSession(ctx, s.Store, cookie, idle)
	if err != nil {
		return store.Technician{}, err
	}
	if !ok {
		return store.Technician{}, store.ErrUnauthenticated
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
