package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jitaccess/jitaccess/internal/bench/load"
	"github.com/jitaccess/jitaccess/internal/bench/report"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// mspPlan is the msp scenario's size: sleeping grants spread evenly over tenants, of which
// expiring end within the same minute.
type mspPlan struct{ tenants, grants, expiring int }

// msp is the scenario MSPs live in: p.msp.tenants customers, each its own tenant in the
// emulator (so each has its own Graph budgets), p.msp.grants sleeping grants spread evenly over
// them, and p.msp.expiring of them expiring within one minute (spread evenly over it), under
// the emulator's throttling model (entra_limits) throughout. It reports expiry lateness and how
// much of the per-tenant write budget the busiest tenant used (the emulator's write counters,
// from the last expiring grant active to the end), beside the floor: as many no-op timers
// firing in the same minute, with the same sleeping grants present on the server.
func (r *runner) msp(ctx context.Context) error {
	mp := r.p.msp
	per := (mp.grants + mp.tenants - 1) / mp.tenants
	r.logf("  seeding %d customers (each its own emulator tenant) × %d technicians through the API…", mp.tenants, per)
	tenants := make([]load.Tenant, mp.tenants)
	err := load.Parallel(mp.tenants, 4, func(i int) error {
		name := fmt.Sprintf("customer-%03d", i+1)
		_, admin, err := r.s.Sim.AddTenant(name)
		if err != nil {
			return err
		}
		t, err := load.SeedTenant(ctx, r.api(), r.s.Admin, 1000+i, load.EntraTarget{Admin: admin, Domain: name + ".onmicrosoft.com"})
		if err != nil {
			return fmt.Errorf("seed customer %d: %w", i+1, err)
		}
		if err := load.AddTechnicians(ctx, r.api(), r.s.Admin, &t, per, "msp"); err != nil {
			return err
		}
		tenants[i] = t
		return nil
	})
	if err != nil {
		return err
	}
	// Round-robin over the tenants: the last `expiring` pairs are spread evenly over them.
	pairs := load.Interleave(tenants)[:mp.grants]
	sleeping := mp.grants - mp.expiring
	if err := r.s.Sim.SetFaults(entrasim.Faults{EntraLimits: true}); err != nil {
		return err
	}
	product := r.product(pairs)
	const hold = 2 * time.Hour // sleeping through the whole measurement
	r.logf("  product: %d sleeping grants (POST /v1/access-requests, 50 clients, %s each)…", sleeping, hold)
	began := time.Now()
	runs, err := load.Burst(ctx, product, seq(0, sleeping), 50, hold)
	if err != nil {
		return fmt.Errorf("sleeping grants: %w", err)
	}
	if _, err := load.WaitActive(ctx, product, runs, 2*time.Minute+time.Duration(sleeping)*200*time.Millisecond); err != nil {
		return fmt.Errorf("sleeping grants: %w", err)
	}
	seeded := time.Since(began)
	r.logf("  %d sleeping grants active after %s", sleeping, seeded.Round(time.Second))

	spread := func(first time.Time, n int) []time.Time {
		at := make([]time.Time, n)
		for i := range at {
			at[i] = first.Add(time.Duration(i) * time.Minute / time.Duration(n))
		}
		return at
	}
	scen := fmt.Sprintf("msp: %d sleeping grants / %d tenants, %d expiring in one minute, entra_limits", mp.grants, mp.tenants, mp.expiring)
	r.logf("  %s: floor", scen)
	fl, _, err := r.expireAt(ctx, r.floor(mp.expiring), seq(0, mp.expiring), scen, spread, nil)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	r.logf("  %s: product", scen)
	pr, tls, err := r.expireAt(ctx, product, seq(sleeping, mp.grants), scen, spread, r.s.Sim.ResetStats)
	if err != nil {
		return fmt.Errorf("product: %w", err)
	}
	writes := r.s.Sim.TenantWrites(entrasim.WritesPerAppTenantWindow)
	busiest := entrasim.TenantWrites{}
	throttled := 0
	for _, w := range writes {
		if w.Peak > busiest.Peak {
			busiest = w
		}
		throttled += w.Throttled
	}
	pd, fd := report.Summarize(pr), report.Summarize(fl)
	window := fmt.Sprintf("%.0f s", entrasim.WritesPerAppTenantWindow.Seconds())
	r.add(report.NewFigure(scen, "lateness p50", "ms", pd.P50, fd.P50, report.Budget{}))
	r.add(report.NewFigure(scen, "lateness p99", "ms", pd.P99, fd.P99, report.Budget{}))
	r.add(report.NewFigure(scen, "lateness max", "ms", pd.Max, fd.Max, report.Budget{}))
	r.add(report.NewFigure(scen, "grants not ended expired", "", float64(notExpired(tls)), math.NaN(), report.Budget{Kind: "max", Limit: 0}))
	r.add(report.NewFigure(scen, "peak writes per tenant per "+window+" (busiest tenant)", "", float64(busiest.Peak), math.NaN(), report.Budget{}))
	r.add(report.NewFigure(scen, fmt.Sprintf("write budget used, busiest tenant (of %d per %s)", entrasim.WritesPerAppTenant, window), "%",
		100*float64(busiest.Peak)/entrasim.WritesPerAppTenant, math.NaN(), report.Budget{}))
	r.add(report.NewFigure(scen, "writes answered 429 (all tenants)", "", float64(throttled), math.NaN(), report.Budget{}))
	r.rep.Series = append(r.rep.Series, report.Series{Scenario: scen + ": lateness", Product: pr, Floor: fl})
	r.rep.Raw[scen] = map[string]any{"product": pd, "floor": fd, "sleeping_seed_seconds": seeded.Seconds(),
		"tenant_writes_per_150s": writes, "tenants_writing": len(writes)}
	r.note("msp: %d customers, each its own emulator tenant (entrasim.AddTenant) with one application authorized through its consent; "+
		"%d technicians added through the API; the %d sleeping grants were seeded like the rss scenario's, by POST /v1/access-requests "+
		"from 50 concurrent clients (%s each, %s until all active); the %d expiring grants were provisioned the same way, then moved "+
		"with the extend update to expire evenly spread over one minute; entra_limits on throughout; writes counted by the emulator "+
		"(per tenant, sliding %s window) from the last expiring grant active to the last disabled",
		mp.tenants, mp.tenants*per, sleeping, hold, seeded.Round(time.Second), mp.expiring, window)
	return nil
}

// seq is from, from+1, …, to-1.
func seq(from, to int) []int {
	out := make([]int, 0, max(0, to-from))
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return slices.Clip(out)
}
