package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jitaccess/jitaccess/internal/bench/load"
	"github.com/jitaccess/jitaccess/internal/bench/report"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// lifecycleBatch runs a closed loop and reads the histories.
func (r *runner) lifecycleBatch(ctx context.Context, t load.Target, conc, total int) ([]load.Timeline, error) {
	// A grant stuck in retries must not hang the benchmark.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute+time.Duration(total)*2*time.Second)
	defer cancel()
	runs, err := load.ClosedLoop(ctx, r.s.Temporal, t, conc, total, r.p.timer)
	if err != nil {
		return nil, fmt.Errorf("%s c=%d: %w", t.Name(), conc, err)
	}
	return load.Timelines(ctx, r.s.Temporal, r.s.Converter, runs)
}

// latency: request→active and lifecycles/s at each level, floor then product.
func (r *runner) latency(ctx context.Context, graphMS int, levels []int, judged bool) error {
	if err := r.s.Sim.SetFaults(entrasim.Faults{LatencyMS: graphMS}); err != nil {
		return err
	}
	maxLevel := slices.Max(levels)
	pairs, err := r.pairs(0, len(r.tenants), maxLevel)
	if err != nil {
		return err
	}
	// Warm-up: connections, token caches, accounts created once (later grants re-enable
	// them, the common case), worker caches. Not measured; once per run is enough.
	if !r.warmed {
		if _, err := r.lifecycleBatch(ctx, r.floor(maxLevel), maxLevel, maxLevel); err != nil {
			return err
		}
		if _, err := r.lifecycleBatch(ctx, r.product(pairs), maxLevel, maxLevel); err != nil {
			return err
		}
		r.warmed = maxLevel == slices.Max(r.p.levels)
	}
	for _, c := range levels {
		n := r.p.runs[c]
		scen := fmt.Sprintf("lifecycle c=%d", c)
		if graphMS > 0 {
			scen += fmt.Sprintf(", Graph +%d ms", graphMS)
		}
		r.logf("  %s: %d lifecycles each, floor then product", scen, n)
		c0 := r.s.CPU()
		fl, err := r.lifecycleBatch(ctx, r.floor(c), c, n)
		if err != nil {
			return err
		}
		floorCPU := r.s.CPUPerRun(c0, n)
		c0 = r.s.CPU()
		pr, err := r.lifecycleBatch(ctx, r.product(pairs), c, n)
		if err != nil {
			return err
		}
		productCPU := r.s.CPUPerRun(c0, n)
		pLat, fLat := activeLatencies(pr), activeLatencies(fl)
		pd, fd := report.Summarize(pLat), report.Summarize(fLat)
		pt, ft := throughput(pr), throughput(fl)
		if c == maxLevel && graphMS == 0 {
			r.rate["product"], r.rate["floor"] = pt, ft
		}
		b13, b08 := report.Budget{Kind: "max_ratio", Limit: 1.3}, report.Budget{Kind: "min_ratio", Limit: 0.8}
		if !judged {
			b13, b08 = report.Budget{}, report.Budget{}
		}
		r.add(report.NewFigure(scen, "request→active p50", "ms", pd.P50, fd.P50, b13))
		r.add(report.NewFigure(scen, "request→active p95", "ms", pd.P95, fd.P95, report.Budget{}))
		r.add(report.NewFigure(scen, "request→active p99", "ms", pd.P99, fd.P99, b13))
		r.add(report.NewFigure(scen, "lifecycles/s", "/s", pt, ft, b08))
		if bad := notExpired(pr); bad > 0 {
			r.rep.Failures = append(r.rep.Failures, fmt.Sprintf("%s: %d product lifecycles did not end expired", scen, bad))
		}
		r.rep.Series = append(r.rep.Series, report.Series{Scenario: scen + ": request→active", Product: pLat, Floor: fLat})
		r.rep.Raw[scen] = map[string]any{"product": pd, "floor": fd, "product_per_s": pt, "floor_per_s": ft,
			"product_phases": phases(pr), "floor_phases": phases(fl), "product_cpu": productCPU, "floor_cpu": floorCPU}
	}
	return nil
}

// burstSpan is a grant duration long enough to provision n grants at once and send their
// extensions before any expires, with margin: every second of it is waited out. It comes
// from the provisioning rate of the target's previous burst, or else from the lifecycle rate
// of the latency scenario (provisioning is about half a lifecycle's work).
func (r *runner) burstSpan(target string, n int) time.Duration {
	rate := r.provisionRate[target]
	if rate <= 0 {
		rate = 2 * r.rate[target]
	}
	if rate <= 0 {
		rate = 10
	}
	return 2*time.Second + time.Duration(1.5*float64(n)/rate*float64(time.Second)) + time.Duration(n)*10*time.Millisecond
}

func (r *runner) add(f report.Figure) { r.rep.Figures = append(r.rep.Figures, f) }

func activeLatencies(tls []load.Timeline) []float64 {
	out := make([]float64, 0, len(tls))
	for _, t := range tls {
		if !t.Active.IsZero() {
			out = append(out, ms(t.Active.Sub(t.Start)))
		}
	}
	return out
}

func throughput(tls []load.Timeline) float64 {
	if len(tls) == 0 {
		return 0
	}
	first, last := tls[0].Start, tls[0].Closed
	for _, t := range tls {
		if t.Start.Before(first) {
			first = t.Start
		}
		if t.Closed.After(last) {
			last = t.Closed
		}
	}
	span := last.Sub(first).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(len(tls)) / span
}

// phases splits the lifecycle (medians) to show where the time goes: start→active,
// how late the timer fired, fired→disabled, disabled→closed, and the whole lifecycle.
func phases(tls []load.Timeline) map[string]float64 {
	var act, timer, disable, tail, total []float64
	for _, t := range tls {
		act = append(act, ms(t.Active.Sub(t.Start)))
		timer = append(timer, ms(t.Fired.Sub(t.Active)-t.Timer))
		disable = append(disable, ms(t.Disabled.Sub(t.Fired)))
		tail = append(tail, ms(t.Closed.Sub(t.Disabled)))
		total = append(total, ms(t.Closed.Sub(t.Start)))
	}
	out := map[string]float64{"start_to_active_p50": report.Summarize(act).P50, "timer_late_p50": report.Summarize(timer).P50,
		"fired_to_disabled_p50": report.Summarize(disable).P50, "disabled_to_closed_p50": report.Summarize(tail).P50,
		"lifecycle_p50": report.Summarize(total).P50}
	// The path to active step by step (runs with another shape, e.g. a retried activity,
	// are left out of a step's median).
	steps := map[string][]float64{}
	for _, t := range tls {
		for i, s := range t.Steps {
			key := fmt.Sprintf("step%d %s_p50", i+1, s.Kind)
			steps[key] = append(steps[key], ms(s.Took))
		}
	}
	for k, v := range steps {
		out[k] = report.Summarize(v).P50
	}
	return out
}

func notExpired(tls []load.Timeline) int {
	n := 0
	for _, t := range tls {
		if !t.Completed || t.Final.Status != "expired" {
			n++
		}
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
