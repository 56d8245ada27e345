// Package bench measures jitaccess against the Temporal floor (SPEC §8): the real product
// (API, worker, PostgreSQL, the Entra emulator over HTTP) and a bare workflow with the same
// command sequence and no-op activities (package floor), on the same Temporal server, driven
// by the same load generator (package load), on the dev or the production topology (package
// topology). Run executes the scenarios; `jitaccess-bench` prints the table and writes JSON
// and an SVG chart (package report).
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/jitaccess/jitaccess/internal/bench/floor"
	"github.com/jitaccess/jitaccess/internal/bench/load"
	"github.com/jitaccess/jitaccess/internal/bench/report"
	"github.com/jitaccess/jitaccess/internal/bench/topology"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// Scenario names accepted by Options.Scenarios (--scenarios).
const (
	ScenarioLatency   = "latency"   // request→active and lifecycles/s at 1, 20, 50 concurrent
	ScenarioLatency50 = "latency50" // the same with 50 ms of emulated Graph latency
	ScenarioGraph     = "graph"     // Graph round trips per lifecycle with 3 roles
	ScenarioPost      = "post"      // POST /v1/access-requests latency at 50 concurrent clients
	ScenarioExpiry    = "expiry"    // expiry lateness, with and without entra_limits
	ScenarioRSS       = "rss"       // worker RSS with few and many sleeping grants
	ScenarioMSP       = "msp"       // many sleeping grants over many tenants, many expiring in one minute
)

// AllScenarios in the order they run.
func AllScenarios() []string {
	return []string{ScenarioLatency, ScenarioLatency50, ScenarioGraph, ScenarioPost, ScenarioExpiry, ScenarioRSS, ScenarioMSP}
}

// Options configures Run.
type Options struct {
	Quick bool
	// Topology is topology.Dev (default) or topology.Production.
	Topology    string
	Scenarios   []string // empty: all
	DatabaseURL string   // server for the throwaway databases (JIT_DATABASE_URL)
	// Executable is the jitaccess-bench binary, started as `--worker-process …` for the RSS
	// scenario (a worker must be its own process to measure its memory).
	Executable string
	// StickyCache, when positive, is passed to the RSS worker processes
	// (worker.SetStickyWorkflowCacheSize) to measure the effect of a smaller cache.
	StickyCache int
	// MSPGrants and MSPExpiring, when positive, override the msp scenario's sleeping grants
	// and how many of them expire in the same minute (default by mode: 10,000 / 1,000 full,
	// 1,000 / 100 quick).
	MSPGrants, MSPExpiring int
	// Tuning runs an experiment with Temporal settings the product does not use (yet).
	Tuning     topology.Tuning
	Progress   io.Writer // progress lines; nil discards
	ProductLog io.Writer // the product's warnings and errors; nil discards
}

// plan is how much each scenario does, by mode.
type plan struct {
	levels         []int       // concurrency levels
	levels50       []int       // with 50 ms Graph latency
	runs           map[int]int // lifecycles per level
	timer          time.Duration
	tenants        int // seeded tenants besides the demo's
	techsPerTenant int
	expiry         [][2]int // {grants, tenants}
	postClients    int
	postPerClient  int
	rss            [2]int
	msp            mspPlan
}

func planFor(quick bool) plan {
	if quick {
		return plan{
			levels: []int{1, 20, 50}, levels50: []int{1, 20},
			runs:  map[int]int{1: 3, 20: 20, 50: 50},
			timer: time.Second,
			// 25 per tenant: the RSS scenario's 250 live grants need no more technicians.
			tenants: 10, techsPerTenant: 25,
			expiry:      [][2]int{{100, 10}},
			postClients: 50, postPerClient: 2,
			rss: [2]int{100, 250},
			msp: mspPlan{tenants: 100, grants: 1000, expiring: 100},
		}
	}
	return plan{
		levels: []int{1, 20, 50}, levels50: []int{1, 20, 50},
		runs:    map[int]int{1: 20, 20: 200, 50: 500},
		timer:   time.Second,
		tenants: 50, techsPerTenant: 20,
		expiry:      [][2]int{{100, 10}, {1000, 50}},
		postClients: 50, postPerClient: 10,
		rss: [2]int{100, 10000},
		msp: mspPlan{tenants: 100, grants: 10000, expiring: 1000},
	}
}

// runner holds one benchmark run's state.
type runner struct {
	o       Options
	p       plan
	s       *topology.Stack
	rep     *report.Report
	tenants []load.Tenant // [0] is demo.Seed's
	prog    io.Writer
	batch   int
	// rate is the lifecycles/s measured at the highest level, by target, to size bursts.
	rate map[string]float64
	// provisionRate is grants/s from a burst's start to its last grant active, by target.
	provisionRate map[string]float64
	// warmed: the latency scenario created the accounts and warmed the caches.
	warmed bool
}

// Run starts the stack, runs the scenarios and returns the report. A scenario that fails is
// recorded in Report.Failures and the others still run.
func Run(ctx context.Context, o Options) (*report.Report, error) {
	started := time.Now()
	r := &runner{o: o, p: planFor(o.Quick), prog: o.Progress, rate: map[string]float64{}, provisionRate: map[string]float64{}}
	if o.MSPGrants > 0 {
		r.p.msp.grants = o.MSPGrants
	}
	if o.MSPExpiring > 0 {
		r.p.msp.expiring = o.MSPExpiring
	}
	if r.p.msp.expiring > r.p.msp.grants {
		return nil, fmt.Errorf("msp: %d expiring grants of %d", r.p.msp.expiring, r.p.msp.grants)
	}
	if r.prog == nil {
		r.prog = io.Discard
	}
	if o.Topology == "" {
		o.Topology, r.o.Topology = topology.Dev, topology.Dev
	}
	mode := "full"
	if o.Quick {
		mode = "quick"
	}
	r.rep = &report.Report{Mode: mode, Topology: o.Topology, Started: started.UTC(), Raw: map[string]any{},
		Machine: report.Machine{NProc: runtime.NumCPU(), MemTotalMiB: topology.MemTotalMiB(), GoVersion: runtime.Version(),
			OS: runtime.GOOS + "/" + runtime.GOARCH, LoadAvg: topology.LoadAvg()},
		Config: map[string]any{"lifecycle_timer": r.p.timer.String(), "levels": r.p.levels, "levels_50ms": r.p.levels50,
			"runs_per_level": r.p.runs, "tenants": r.p.tenants + 1, "technicians_per_tenant": r.p.techsPerTenant,
			"expiry": r.p.expiry, "post_clients": r.p.postClients, "post_per_client": r.p.postPerClient, "rss_grants": r.p.rss,
			"msp":   map[string]int{"tenants": r.p.msp.tenants, "grants": r.p.msp.grants, "expiring_in_one_minute": r.p.msp.expiring},
			"roles": 3, "sticky_cache": o.StickyCache, "tuning": o.Tuning.String(), "temporal_cli": os.Getenv("JIT_TEMPORAL_CLI")},
	}
	r.logf("starting the %s topology (Temporal, emulator, PostgreSQL, API, worker, floor worker)…", o.Topology)
	s, err := topology.Start(ctx, topology.Options{Topology: o.Topology, DatabaseURL: o.DatabaseURL, Log: o.ProductLog,
		Progress: r.prog, Tuning: o.Tuning})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r.s = s
	if err := r.seed(ctx); err != nil {
		return nil, err
	}
	want := o.Scenarios
	if len(want) == 0 {
		want = AllScenarios()
	}
	for _, name := range AllScenarios() {
		if !slices.Contains(want, name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return r.rep, err
		}
		r.logf("scenario %s…", name)
		t0 := time.Now()
		if err := r.scenario(ctx, name); err != nil {
			r.rep.Failures = append(r.rep.Failures, fmt.Sprintf("%s: %v", name, err))
			r.logf("scenario %s failed: %v", name, err)
		}
		r.rep.Raw["seconds_"+name] = time.Since(t0).Seconds()
		// Leave the emulator clean for the next scenario.
		_ = s.Sim.SetFaults(entrasim.Faults{})
	}
	r.rep.Notes = append(r.rep.Notes,
		"request→active = first TimerStarted − WorkflowExecutionStarted (server time, same rule for product and floor): the grant is active and its projection written",
		"lifecycles/s = lifecycles ÷ (last WorkflowExecutionCompleted − first WorkflowExecutionStarted), closed loop",
		fmt.Sprintf("lifecycle timer %s for product and floor; 3 roles; the emulator's 2 customer tenants host every jitaccess tenant of the base set (contoso: 2 domains, northwind: 1)", r.p.timer),
		r.topologyNote())
	r.rep.Elapsed = time.Since(started).Round(time.Second).String()
	r.rep.Machine.LoadAvgEnd = topology.LoadAvg()
	return r.rep, nil
}

// topologyNote says where the figures come from.
func (r *runner) topologyNote() string {
	if r.s.Topology == topology.Production {
		return "production topology (internal/stack): Temporal server on PostgreSQL with SQL visibility, 2 `jitaccess worker` and 2 `jitaccess serve` processes behind one proxy; " +
			"the emulator, the load generator and the floor's worker in the bench process, the floor on the same Temporal server; " +
			"CPU per lifecycle (JSON) adds the API and worker processes (/proc/PID/stat)"
	}
	return "dev topology: the pinned Temporal CLI dev server; API, worker, emulator, load generator and the floor's worker in the bench process"
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.prog, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// note adds a line under the table, once.
func (r *runner) note(format string, args ...any) {
	if n := fmt.Sprintf(format, args...); !slices.Contains(r.rep.Notes, n) {
		r.rep.Notes = append(r.rep.Notes, n)
	}
}

func (r *runner) api() *load.API { return &load.API{Base: r.s.API, HTTP: r.s.HTTP} }

// seed: demo.Seed's tenant plus p.tenants more, each with p.techsPerTenant technicians, the
// jitaccess tenants spread over the emulator's seeded customer tenants.
func (r *runner) seed(ctx context.Context) error {
	r.logf("seeding %d tenants × %d technicians through the API…", r.p.tenants+1, r.p.techsPerTenant)
	a := r.api()
	demoT, err := load.SeedDemo(ctx, a, r.s.Admin)
	if err != nil {
		return err
	}
	r.tenants = []load.Tenant{demoT}
	targets := load.SeededTargets()
	for i := 1; i <= r.p.tenants; i++ {
		t, err := load.SeedTenant(ctx, a, r.s.Admin, i, targets[i%len(targets)])
		if err != nil {
			return fmt.Errorf("seed tenant %d: %w", i, err)
		}
		if err := load.AddTechnicians(ctx, a, r.s.Admin, &t, r.p.techsPerTenant, "tech"); err != nil {
			return err
		}
		r.tenants = append(r.tenants, t)
	}
	return nil
}

// pairs lists the first n pairs of tenants [from, to) round-robin.
func (r *runner) pairs(from, to, n int) ([]load.Pair, error) {
	all := load.Interleave(r.tenants[from:min(to, len(r.tenants))])
	if n > len(all) {
		return nil, fmt.Errorf("need %d technician/application pairs, seeded %d", n, len(all))
	}
	return all[:n], nil
}

func (r *runner) product(pairs []load.Pair) *load.ProductTarget {
	return &load.ProductTarget{API: r.api(), Pairs: pairs, Store: r.s.Store}
}

func (r *runner) floor(slots int) *load.FloorTarget {
	r.batch++
	return &load.FloorTarget{Client: r.s.Temporal, Queue: floor.TaskQueue, Tag: fmt.Sprintf("b%d", r.batch), N: slots}
}

func (r *runner) scenario(ctx context.Context, name string) error {
	switch name {
	case ScenarioLatency:
		return r.latency(ctx, 0, r.p.levels, true)
	case ScenarioLatency50:
		return r.latency(ctx, 50, r.p.levels50, false)
	case ScenarioGraph:
		return r.graph(ctx)
	case ScenarioPost:
		return r.post(ctx)
	case ScenarioExpiry:
		for _, e := range r.p.expiry {
			if err := r.expiry(ctx, e[0], e[1]); err != nil {
				return err
			}
		}
		return nil
	case ScenarioRSS:
		return r.rss(ctx)
	case ScenarioMSP:
		return r.msp(ctx)
	}
	return fmt.Errorf("unknown scenario %q", name)
}
