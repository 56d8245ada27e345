package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// graph counts Graph round trips (emulator /_sim/stats, /v1.0/ paths only) of whole
// lifecycles with 3 roles and a Temporary Access Pass (sign_in_method password_and_tap, set
// here rather than left to the default): one for a technician whose account does not exist
// yet, then several for existing accounts (re-enabled after cleaning), one at a time.
func (r *runner) graph(ctx context.Context) error {
	t := &r.tenants[0]
	if err := r.s.AddTechnicians(ctx, t, 1, "graph"); err != nil {
		return err
	}
	a := &api{base: r.s.API, http: r.s.http}
	if _, err := a.do(ctx, r.s.Admin, http.MethodPatch, "/v1/tenants/"+t.ID+"/applications/"+t.ApplicationID,
		map[string]any{"sign_in_method": "password_and_tap"}, nil); err != nil {
		return fmt.Errorf("graph scenario: turn the Temporary Access Pass on: %w", err)
	}
	target := r.product([]Pair{t.Pairs[len(t.Pairs)-1]})
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

// post: POST /v1/access-requests latency, client side, at postClients concurrent clients,
// every request a new grant; the floor is StartWorkflowExecution of the floor workflow.
func (r *runner) post(ctx context.Context) error {
	n := r.p.postClients * r.p.postPerClient
	pairs, err := r.pairs(1, len(r.tenants), n)
	if err != nil {
		return err
	}
	slots := make([]int, n)
	for i := range slots {
		slots[i] = i
	}
	measure := func(t Target) ([]float64, error) {
		runs, err := burst(ctx, t, slots, r.p.postClients, time.Hour)
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
		return lat, terminate(ctx, r.s.App.Temporal, runs)
	}
	fl, err := measure(r.floor(n))
	if err != nil {
		return err
	}
	pr, err := measure(r.product(pairs))
	if err != nil {
		return err
	}
	pd, fd := Summarize(pr), Summarize(fl)
	scen := fmt.Sprintf("POST /v1/access-requests, %d clients", r.p.postClients)
	r.add(NewFigure(scen, "latency p50", "ms", pd.P50, fd.P50, Budget{}))
	r.add(NewFigure(scen, "latency p99", "ms", pd.P99, fd.P99, Budget{Kind: "max", Limit: 50}))
	r.rep.Series = append(r.rep.Series, Series{Scenario: scen, Product: pr, Floor: fl})
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
	run := func(t Target, limits bool) ([]float64, []Timeline, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute+time.Duration(grants)*time.Second)
		defer cancel()
		if err := r.s.Sim.SetFaults(entrasim.Faults{EntraLimits: limits}); err != nil {
			return nil, nil, err
		}
		initial := r.burstSpan(t.Name(), grants)
		began := time.Now()
		runs, err := burst(ctx, t, slots, 50, initial)
		if err != nil {
			return nil, nil, err
		}
		expires, err := waitActive(ctx, t, runs, initial)
		if err != nil {
			return nil, nil, err
		}
		r.provisionRate[t.Name()] = float64(grants) / time.Since(began).Seconds()
		latest := slices.MaxFunc(expires, func(a, b time.Time) int { return a.Compare(b) })
		// The next whole second after the latest expiry, and far enough to deliver the extensions.
		at := latest.Add(300 * time.Millisecond).Truncate(time.Second).Add(time.Second)
		if soon := time.Now().Add(3*time.Second + time.Duration(grants)*10*time.Millisecond); at.Before(soon) {
			at = soon.Truncate(time.Second).Add(time.Second)
		}
		r.logf("  %s %s: %d active, all expire at %s", scen, t.Name(), len(runs), at.Format("15:04:05"))
		if err := extendTo(ctx, r.s.App.Temporal, t, runs, expires, at); err != nil {
			return nil, nil, err
		}
		if late := time.Until(at); late < 0 {
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s %s: the extensions finished %s after the common expiry", scen, t.Name(), -late))
		}
		if err := waitDone(ctx, r.s.App.Temporal, runs); err != nil {
			return nil, nil, err
		}
		tls, err := timelines(ctx, r.s.App.Temporal, r.s.App.Converter, runs)
		if err != nil {
			return nil, nil, err
		}
		var lateness []float64
		for _, tl := range tls {
			lateness = append(lateness, ms(tl.Disabled.Sub(at)))
		}
		return lateness, tls, nil
	}
	r.logf("  %s: floor", scen)
	fl, _, err := run(r.floor(grants), false)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	fd := Summarize(fl)
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
		pd := Summarize(pr)
		b := Budget{}
		if judged {
			b = Budget{Kind: "max", Limit: 1000}
		}
		r.add(NewFigure(name, "lateness p50", "ms", pd.P50, fd.P50, Budget{}))
		r.add(NewFigure(name, "lateness p99", "ms", pd.P99, fd.P99, b))
		r.add(NewFigure(name, "lateness max", "ms", pd.Max, fd.Max, Budget{}))
		r.add(NewFigure(name, "grants not ended expired", "", float64(notExpired(tls)), math.NaN(), Budget{Kind: "max", Limit: 0}))
		r.rep.Series = append(r.rep.Series, Series{Scenario: name + ": lateness", Product: pr, Floor: fl})
		r.rep.Raw[name] = map[string]any{"product": pd, "floor": fd}
	}
	return nil
}
