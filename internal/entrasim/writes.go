package entrasim

import (
	"cmp"
	"slices"
	"time"
)

// Graph's write budgets that entra_limits enforces (throttling-limits.md, identity and access):
// one application in one tenant, and one tenant whatever the application.
const (
	WritesPerAppTenant       = 3000
	WritesPerAppTenantWindow = 150 * time.Second
	WritesPerTenant          = 18000
	WritesPerTenantWindow    = 5 * time.Minute
)

// tenantWriteLog is when a tenant's Graph writes were accepted, and how many were throttled.
type tenantWriteLog struct {
	at        []time.Time
	throttled int
}

// countWrites records n writes to tenant id (a request or a $batch item), accepted or
// answered 429 by the entra_limits buckets.
func (s *Server) countWrites(id string, n float64, throttled bool) {
	if n <= 0 || id == "" {
		return
	}
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	now := s.now() // under the lock: each log stays in order
	l := s.writeLog[id]
	if l == nil {
		l = &tenantWriteLog{}
		s.writeLog[id] = l
	}
	if throttled {
		l.throttled++
		return
	}
	for range int(n) {
		l.at = append(l.at, now)
	}
}

// TenantWrites is one tenant's Graph writes since the counters were last reset.
type TenantWrites struct {
	TenantID string `json:"tenant_id"`
	// Writes is every write accepted; Peak the most accepted within any window of the
	// length TenantWrites was asked for (a sliding window, as the token buckets refill).
	Writes int `json:"writes"`
	Peak   int `json:"peak"`
	// Throttled counts requests and $batch items the entra_limits buckets answered 429.
	Throttled int `json:"throttled"`
}

// TenantWrites reports every tenant that wrote (or was throttled) since ResetStats, with its
// peak writes per window, by tenant id. Compare Peak with WritesPerAppTenant over
// WritesPerAppTenantWindow (one client is registered, so a tenant's writes are one app's).
func (s *Server) TenantWrites(window time.Duration) []TenantWrites {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := make([]TenantWrites, 0, len(s.writeLog))
	for id, l := range s.writeLog {
		out = append(out, TenantWrites{TenantID: id, Writes: len(l.at), Peak: peakInWindow(l.at, window), Throttled: l.throttled})
	}
	slices.SortFunc(out, func(a, b TenantWrites) int { return cmp.Compare(a.TenantID, b.TenantID) })
	return out
}

// peakInWindow is the most instants of at (ascending) within any half-open window [t, t+w).
func peakInWindow(at []time.Time, w time.Duration) int {
	peak, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= w {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}
