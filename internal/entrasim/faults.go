package entrasim

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Faults are injected into Graph requests, switched at run time (SPEC §7).
type Faults struct {
	LatencyMS         int     `json:"latency_ms"`
	ThrottleRate      float64 `json:"throttle_rate"`
	RetryAfterSeconds int     `json:"retry_after_seconds"`
	ErrorRate         float64 `json:"error_rate"`
	ReplicationLagMS  int     `json:"replication_lag_ms"`
	EntraLimits       bool    `json:"entra_limits"`
}

// Validate rejects values outside their meaningful range.
func (f Faults) Validate() error {
	var errs []error
	if f.LatencyMS < 0 || f.LatencyMS > 600_000 {
		errs = append(errs, errors.New("latency_ms must be between 0 and 600000"))
	}
	if !(f.ThrottleRate >= 0 && f.ThrottleRate <= 1) {
		errs = append(errs, errors.New("throttle_rate must be between 0 and 1"))
	}
	if !(f.ErrorRate >= 0 && f.ErrorRate <= 1) {
		errs = append(errs, errors.New("error_rate must be between 0 and 1"))
	}
	if f.RetryAfterSeconds < 0 || f.RetryAfterSeconds > 3600 {
		errs = append(errs, errors.New("retry_after_seconds must be between 0 and 3600"))
	}
	if f.ReplicationLagMS < 0 || f.ReplicationLagMS > 3_600_000 {
		errs = append(errs, errors.New("replication_lag_ms must be between 0 and 3600000"))
	}
	return errors.Join(errs...)
}

// SetFaults replaces the injected faults; it resets the throttling buckets when entra_limits changes.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faultsMu.Lock()
	if f.EntraLimits != s.faults.EntraLimits {
		s.buckets = map[string]*bucket{}
	}
	s.faults = f
	s.faultsMu.Unlock()
	s.log.Info("entrasim: faults set", "faults", f)
	return nil
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return s.faults
}

// Stats counts Graph HTTP round trips; a $batch is one.
type Stats struct {
	Total    int64            `json:"total"`
	Requests map[string]int64 `json:"requests"`
}

func (s *Server) countRequest(key string) {
	s.statsMu.Lock()
	s.statTotal++
	s.statReqs[key]++
	s.statsMu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	st := Stats{Total: s.statTotal, Requests: make(map[string]int64, len(s.statReqs))}
	for k, v := range s.statReqs {
		st.Requests[k] = v
	}
	return st
}

// ResetStats zeroes the counters (the per-tenant writes of TenantWrites too).
func (s *Server) ResetStats() {
	s.statsMu.Lock()
	s.statTotal = 0
	s.statReqs = map[string]int64{}
	s.writeLog = map[string]*tenantWriteLog{}
	s.statsMu.Unlock()
}

// bucket is a token bucket refilling continuously at capacity/period.
type bucket struct {
	tokens   float64
	last     time.Time
	capacity float64
	period   time.Duration
}

func (b *bucket) refill(now time.Time) {
	if b.last.IsZero() {
		b.tokens, b.last = b.capacity, now
		return
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(b.capacity, b.tokens+b.capacity*el.Seconds()/b.period.Seconds())
		b.last = now
	}
}

// wait is how long until cost tokens are available.
func (b *bucket) wait(cost float64) time.Duration {
	if b.tokens >= cost {
		return 0
	}
	return time.Duration((cost - b.tokens) / b.capacity * float64(b.period))
}

func (s *Server) bucketLocked(key string, capacity float64, period time.Duration) *bucket {
	b := s.buckets[key]
	if b == nil {
		b = &bucket{capacity: capacity, period: period}
		s.buckets[key] = b
	}
	b.capacity, b.period = capacity, period
	return b
}

// requestCost is the identity-and-access resource-unit cost (throttling-limits.md):
// GET users costs 2, other GETs 1, writes 1 unit + 1 write.
func requestCost(gr *graphReq) (units, writes float64) {
	if gr.method == http.MethodGet {
		if seg(gr.segs, 0, "users") || seg(gr.segs, 0, "me") {
			return 2, 0
		}
		return 1, 0
	}
	return 1, 1
}

// injectFaults applies error_rate, throttle_rate and the Entra token buckets to one request or batch item.
func (s *Server) injectFaults(gr *graphReq) *gresp {
	f := s.Faults()
	if f.ErrorRate > 0 && rand.Float64() < f.ErrorRate {
		// Graph sends Retry-After with 503 too.
		return gr.ids.unavailable(f.RetryAfterSeconds)
	}
	if f.ThrottleRate > 0 && rand.Float64() < f.ThrottleRate {
		return gr.ids.throttled(f.RetryAfterSeconds)
	}
	units, writes := requestCost(gr)
	if !f.EntraLimits {
		s.countWrites(gr.pr.tenantID, writes, false)
		return nil
	}
	s.mu.Lock()
	users := 0
	if t := s.tenantByIDLocked(gr.pr.tenantID); t != nil {
		users = len(t.Users)
	}
	s.mu.Unlock()
	ru := 3500.0 // per app and tenant per 10 s, by tenant size
	switch {
	case users > 500:
		ru = 8000
	case users >= 50:
		ru = 5000
	}
	now := s.now()
	app, tid := gr.pr.appID, gr.pr.tenantID
	type need struct {
		b    *bucket
		cost float64
	}
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	needs := []need{{s.bucketLocked("ru|"+app+"|"+tid, ru, 10*time.Second), units}}
	if writes > 0 {
		needs = append(needs,
			need{s.bucketLocked("w|"+app+"|"+tid, WritesPerAppTenant, WritesPerAppTenantWindow), writes},
			need{s.bucketLocked("wt|"+tid, WritesPerTenant, WritesPerTenantWindow), writes},
			need{s.bucketLocked("wa|"+app, 35000, 5*time.Minute), writes})
	}
	var longest time.Duration
	for _, n := range needs {
		n.b.refill(now)
		longest = max(longest, n.b.wait(n.cost))
	}
	if longest > 0 {
		s.countWrites(tid, writes, true)
		return gr.ids.throttled(int(math.Ceil(longest.Seconds())))
	}
	for _, n := range needs {
		n.b.tokens -= n.cost
	}
	s.countWrites(tid, writes, false)
	return nil
}

// resourceUnitHeader is Graph's x-ms-resource-unit response header.
func resourceUnitHeader(gr *graphReq) string {
	u, _ := requestCost(gr)
	return strconv.Itoa(int(u))
}
