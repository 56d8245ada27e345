package bench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jitaccess/jitaccess/internal/bench/load"
	"github.com/jitaccess/jitaccess/internal/bench/report"
	"github.com/jitaccess/jitaccess/internal/bench/topology"
)

// rss: worker RSS (VmRSS from /proc/PID/status) with rss[0] and then rss[1] live sleeping
// grants, the product's and the floor's. Dev topology: the product's worker alone in a process
// (the in-process one is stopped), the floor's likewise. Production topology: the sum over the
// stack's `jitaccess worker` processes, and over as many floor worker processes.
func (r *runner) rss(ctx context.Context) error {
	few, many := r.p.rss[0], r.p.rss[1]
	// Enough technicians: every live grant needs its own pair.
	all := load.Interleave(r.tenants[1:])
	if need := many - len(all); need > 0 {
		per := (need + r.p.tenants - 1) / r.p.tenants
		r.logf("  adding %d technicians for %d live grants…", per*r.p.tenants, many)
		for i := 1; i < len(r.tenants); i++ {
			if err := load.AddTechnicians(ctx, r.api(), r.s.Admin, &r.tenants[i], per, "rss"); err != nil {
				return err
			}
		}
		all = load.Interleave(r.tenants[1:])
	}
	pairs := all[:many]
	const hold = 2 * time.Hour // sleeping through the whole measurement

	// workers returns the processes to measure and a function stopping what it started.
	workers := func(kind string, t load.Target) ([]int, func(), error) {
		if kind == topology.WorkerProduct && r.s.Topology == topology.Production {
			return r.s.WorkerPIDs(), func() {}, nil
		}
		n := max(1, len(r.s.WorkerPIDs()))
		queue := "jit-rss-" + kind
		restart := func() {}
		if kind == topology.WorkerProduct {
			// The API starts grants on the product's queue: its worker moves out of this process.
			queue = r.s.TaskQueue()
			r.s.StopWorker()
			restart = func() { r.s.StartWorker(ctx) }
		}
		if ft, ok := t.(*load.FloorTarget); ok {
			ft.Queue = queue
		}
		var pids []int
		var wps []*topology.WorkerProcess
		stop := func() {
			for _, wp := range wps {
				wp.Stop()
			}
			restart()
		}
		for range n {
			wp, err := r.s.StartWorkerProcess(r.o.Executable, kind, queue, r.o.StickyCache, r.o.ProductLog)
			if err != nil {
				stop()
				return nil, nil, err
			}
			wps, pids = append(wps, wp), append(pids, wp.Pid())
		}
		return pids, stop, nil
	}
	measure := func(kind string, t load.Target) (float64, float64, error) {
		pids, stop, err := workers(kind, t)
		if err != nil {
			return 0, 0, err
		}
		defer stop()
		var rs [2]float64
		done := 0
		for i, upto := range []int{few, many} {
			slots := make([]int, 0, upto-done)
			for k := done; k < upto; k++ {
				slots = append(slots, k)
			}
			runs, err := load.Burst(ctx, t, slots, 50, hold)
			if err != nil {
				return 0, 0, err
			}
			limit := 2*time.Minute + time.Duration(len(slots))*200*time.Millisecond
			if _, err := load.WaitActive(ctx, t, runs, limit); err != nil {
				return 0, 0, err
			}
			done = upto
			time.Sleep(2 * time.Second) // let the workers settle (GC, idle pollers)
			for _, pid := range pids {
				v, err := topology.RSSMiB(pid)
				if err != nil {
					return 0, 0, err
				}
				rs[i] += v
			}
			r.logf("  %s: %d worker process(es), %d sleeping grants, RSS %.1f MiB", kind, len(pids), upto, rs[i])
		}
		return rs[0], rs[1], nil
	}
	f1, f2, err := measure(topology.WorkerFloor, r.floor(many))
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	p1, p2, err := measure(topology.WorkerProduct, r.product(pairs))
	if err != nil {
		return fmt.Errorf("product: %w", err)
	}
	scen := fmt.Sprintf("worker RSS, %d vs %d sleeping grants", few, many)
	if n := len(r.s.WorkerPIDs()); n > 0 {
		scen += fmt.Sprintf(", sum of %d worker processes", n)
	}
	if r.o.StickyCache > 0 {
		scen += fmt.Sprintf(" (sticky cache %d)", r.o.StickyCache)
	}
	r.add(report.NewFigure(scen, fmt.Sprintf("RSS at %d", few), "MiB", p1, f1, report.Budget{}))
	r.add(report.NewFigure(scen, fmt.Sprintf("RSS at %d", many), "MiB", p2, f2, report.Budget{}))
	ratio := report.NewFigure(scen, fmt.Sprintf("RSS(%d) ÷ RSS(%d)", many, few), "", p2/p1, f2/f1, report.Budget{Kind: "max", Limit: 1.5})
	if math.IsInf(ratio.Product, 0) {
		ratio.Verdict = "n/a"
	}
	r.add(ratio)
	r.rep.Raw[scen] = map[string]any{"product_mib": []float64{p1, p2}, "floor_mib": []float64{f1, f2}}
	if r.s.Topology == topology.Production {
		r.note("worker RSS (production): VmRSS from /proc/PID/status of the stack's %d `jitaccess worker` processes, summed; the floor: as many `jitaccess-bench --worker-process floor` processes, summed", len(r.s.WorkerPIDs()))
	} else {
		r.note("worker RSS (dev): VmRSS from /proc/PID/status of one `jitaccess-bench --worker-process product` process (app.Open + App.RunWorker, the in-process worker stopped meanwhile) and of one floor worker process")
	}
	// The sleeping grants stay in the throwaway Temporal server, which Close stops.
	return nil
}
