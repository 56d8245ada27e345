package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/jitaccess/jitaccess/internal/bench/load"
	"github.com/jitaccess/jitaccess/internal/bench/report"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// graph counts Graph round trips (emulator /_sim/stats, /v1.0/ paths only) of whole
// lifecycles with 3 roles and a Temporary Access Pass (sign_in_method password_and_tap, set
// here rather than left to the default): one for a technician whose account does not exist
// yet, then several for existing accounts (re-enabled after cleaning), one at a time.
func (r *runner) graph(ctx context.Context) error {
	t := &r.tenants[0]
	if err := load.AddTechnicians(ctx, r.api(), r.s.Admin, t, 1, "graph"); err != nil {
		return err
	}
	a := r.api()
	if _, err := a.Do(ctx, r.s.Admin, http.MethodPatch, "/v1/tenants/"+t.ID+"/applications/"+t.ApplicationID,
		map[string]any{"sign_in_method": "password_and_tap"}, nil); err != nil {
		return fmt.Errorf("graph scenario: turn the Temporary Access Pass on: %w", err)
	}
	target := r.product([]load.Pair{t.Pairs[len(t.Pairs)-1]})
	r.s.Sim.ResetStats()
	if _, err := r.lifecycleBatch(ctx, target, 1, 1); err != nil {
		return err
	}
	newUser := countGraph(r.s.Sim.Stats().Requests)
	const again = 2
	r.s.Sim.ResetStats()
	if _, err := r.lifecycleBatch(ctx, target, 1, again); err != nil {
		return err
	}
	existing := countGraph(r.s.Sim.Stats().Requests)
	for _, f := range graphFigures(newUser, existing, again) {
		r.add(f)
	}
	r.rep.Raw["graph_round_trips"] = map[string]any{"new_account": newUser.By, "existing_account_x2": existing.By}
	return nil
}

// throwawayPairs adds n technicians spread over the base tenants (kept out of r.tenants) and
// returns their pairs, for grants that are terminated: that leaves their accounts locked
// (grants.account_lock is cleared by a final status only), so they serve nothing else.
func (r *runner) throwawayPairs(ctx context.Context, n int, prefix string) ([]load.Pair, error) {
	base := r.tenants[1:]
	per := (n + len(base) - 1) / len(base)
	ts := make([]load.Tenant, len(base))
	for i, t := range base {
		t.Pairs = nil // a copy: the new technicians stay out of r.tenants
		if err := load.AddTechnicians(ctx, r.api(), r.s.Admin, &t, per, prefix); err != nil {
			return nil, err
		}
		ts[i] = t
	}
	return load.Interleave(ts)[:n], nil
}

// post: POST /v1/access-requests latency, client side, at postClients concurrent clients,
// every request a new grant by a throwaway technician; the floor is StartWorkflowExecution of
// the floor workflow.
func (r *runner) post(ctx context.Context) error {
	n := r.p.postClients * r.p.postPerClient
	pairs, err := r.throwawayPairs(ctx, n, "post")
	if err != nil {
		return err
	}
	slots := make([]int, n)
	for i := range slots {
		slots[i] = i
	}
	measure := func(t load.Target) ([]float64, error) {
		runs, err := load.Burst(ctx, t, slots, r.p.postClients, time.Hour)
		if err != nil {
			return nil, err
		}
		var lat []float64
		for _, run := range runs {
			if !run.Created {
				return nil, fmt.Errorf("%s answered with an existing grant: slots overlap", t.Name())
			}
			lat = append(lat, ms(run.Call))
		}
		// Only the answer is measured: end the grants at once (no disable work) so that the
		// next measurement starts from an idle stack and the pairs are free again.
		return lat, load.Terminate(ctx, r.s.Temporal, runs)
	}
	fl, err := measure(r.floor(n))
	if err != nil {
		return err
	}
	pr, err := measure(r.product(pairs))
	if err != nil {
		return err
	}
	pd, fd := report.Summarize(pr), report.Summarize(fl)
	scen := fmt.Sprintf("POST /v1/access-requests, %d clients", r.p.postClients)
	r.add(report.NewFigure(scen, "latency p50", "ms", pd.P50, fd.P50, report.Budget{}))
	// SPEC §8: the bare durable start is the floor, everything else is ours (20 ms).
	r.add(report.NewFigure(scen, "latency p99", "ms", pd.P99, fd.P99, report.Budget{Kind: "max_over", Limit: 20}))
	r.rep.Series = append(r.rep.Series, report.Series{Scenario: scen, Product: pr, Floor: fl})
	r.rep.Raw[scen] = map[string]any{"product": pd, "floor": fd}
	return nil
}

// expiry: grants across tenants all made to expire at the same instant (extend update),
// lateness = disabled_at (DisableAccount completed) − expires_at. The floor runs once (it
// calls no Graph); the product without and with the emulator's Entra throttling model.
func (r *runner) expiry(ctx context.Context, grants, tenants int) error {
	pairs, err := r.pairs(1, 1+tenants, grants)
	if err != nil {
		return err
	}
	slots := make([]int, grants)
	for i := range slots {
		slots[i] = i
	}
	scen := fmt.Sprintf("expiry, %d grants / %d tenants", grants, tenants)
	run := func(t load.Target, limits bool) ([]float64, []load.Timeline, error) {
		if err := r.s.Sim.SetFaults(entrasim.Faults{EntraLimits: limits}); err != nil {
			return nil, nil, err
		}
		return r.expireAt(ctx, t, slots, scen, func(first time.Time, n int) []time.Time {
			at := make([]time.Time, n)
			for i := range at {
				at[i] = first
			}
			return at
		}, nil)
	}
	r.logf("  %s: floor", scen)
	fl, _, err := run(r.floor(grants), false)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	fd := report.Summarize(fl)
	judged := grants <= 100
	for _, limits := range []bool{false, true} {
		name := scen
		if limits {
			name += ", entra_limits"
		}
		r.logf("  %s: product", name)
		pr, tls, err := run(r.product(pairs), limits)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		pd := report.Summarize(pr)
		b := report.Budget{}
		if judged {
			b = report.Budget{Kind: "max", Limit: 1000}
		}
		r.add(report.NewFigure(name, "lateness p50", "ms", pd.P50, fd.P50, report.Budget{}))
		r.add(report.NewFigure(name, "lateness p99", "ms", pd.P99, fd.P99, b))
		r.add(report.NewFigure(name, "lateness max", "ms", pd.Max, fd.Max, report.Budget{}))
		r.add(report.NewFigure(name, "grants not ended expired", "", float64(notExpired(tls)), math.NaN(), report.Budget{Kind: "max", Limit: 0}))
		r.rep.Series = append(r.rep.Series, report.Series{Scenario: name + ": lateness", Product: pr, Floor: fl})
		r.rep.Raw[name] = map[string]any{"product": pd, "floor": fd}
	}
	return nil
}

// expireAt provisions one grant on each of slots, then moves their expiries (extend update)
// to the instants when picks (first is the earliest instant that leaves time to deliver the
// extensions, on a whole second), waits until they have ended and returns each one's lateness
// (DisableAccount completed, the floor's no-op of that name, − its expiry) and their timelines.
// onActive, when set, is called once every grant is active, before the extensions.
func (r *runner) expireAt(ctx context.Context, t load.Target, slots []int, scen string, when func(first time.Time, n int) []time.Time, onActive func()) ([]float64, []load.Timeline, error) {
	n := len(slots)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute+time.Duration(n)*time.Second)
	defer cancel()
	initial := r.burstSpan(t.Name(), n)
	began := time.Now()
	runs, err := load.Burst(ctx, t, slots, 50, initial)
	if err != nil {
		return nil, nil, err
	}
	expires, err := load.WaitActive(ctx, t, runs, initial)
	if err != nil {
		return nil, nil, err
	}
	r.provisionRate[t.Name()] = float64(n) / time.Since(began).Seconds()
	if onActive != nil {
		onActive()
	}
	latest := slices.MaxFunc(expires, func(a, b time.Time) int { return a.Compare(b) })
	// The next whole second after the latest expiry plus the shortest extension the target
	// accepts (the product's 5 minutes), and far enough to deliver the extensions.
	first := latest.Add(t.MinExtension() + 300*time.Millisecond).Truncate(time.Second).Add(time.Second)
	if soon := time.Now().Add(3*time.Second + time.Duration(n)*10*time.Millisecond); first.Before(soon) {
		first = soon.Truncate(time.Second).Add(time.Second)
	}
	at := when(first, n)
	last := slices.MaxFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	r.logf("  %s %s: %d active, expiring from %s to %s", scen, t.Name(), len(runs), first.Format("15:04:05"), last.Format("15:04:05"))
	if m := t.MinExtension(); m > 0 {
		r.note("expiry and msp: the product's grants sleep %s or more between provisioning and their moved expiry: the extend update refuses shorter steps (workflows.MinExtension); the floor's are moved at once", m)
	}
	if err := load.ExtendTo(ctx, r.s.Temporal, t, runs, expires, at); err != nil {
		return nil, nil, err
	}
	if late := time.Until(first); late < 0 {
		r.note("%s %s: the extensions finished %s after the first expiry", scen, t.Name(), -late)
	}
	if err := load.WaitDone(ctx, r.s.Temporal, runs); err != nil {
		return nil, nil, err
	}
	tls, err := load.Timelines(ctx, r.s.Temporal, r.s.Converter, runs)
	if err != nil {
		return nil, nil, err
	}
	lateness := make([]float64, len(tls))
	for i, tl := range tls {
		lateness[i] = ms(tl.Disabled.Sub(at[i]))
	}
	return lateness, tls, nil
}
