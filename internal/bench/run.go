package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

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
)

// AllScenarios in the order they run.
func AllScenarios() []string {
	return []string{ScenarioLatency, ScenarioLatency50, ScenarioGraph, ScenarioPost, ScenarioExpiry, ScenarioRSS}
}

// Options configures Run.
type Options struct {
	Quick       bool
	Scenarios   []string // empty: all
	DatabaseURL string   // server for the throwaway database (JIT_DATABASE_URL)
	// Executable is the jitaccess-bench binary, started as `--worker-process …` for the RSS
	// scenario (the worker must be its own process to measure its memory).
	Executable string
	// StickyCache, when positive, is passed to the RSS worker processes
	// (worker.SetStickyWorkflowCacheSize) to measure the effect of a smaller cache.
	StickyCache int
	// Tuning runs an experiment with Temporal settings the product does not use (yet).
	Tuning     Tuning
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
	}
}

// runner holds one benchmark run's state.
type runner struct {
	o       Options
	p       plan
	s       *Stack
	rep     *Report
	tenants []Tenant // [0] is demo.Seed's
	prog    io.Writer
	batch   int
	// rate is the lifecycles/s measured at the highest level, by target, to size bursts.
	rate map[string]float64
	// provisionRate is grants/s from a burst's start to its last grant active, by target.
	provisionRate map[string]float64
	// warmed: the latency scenario created the accounts and warmed the caches.
	warmed bool
	cpu    cpuMeter
}

// Run starts the stack, runs the scenarios and returns the report. A scenario that fails is
// recorded in Report.Failures and the others still run.
func Run(ctx context.Context, o Options) (*Report, error) {
	started := time.Now()
	r := &runner{o: o, p: planFor(o.Quick), prog: o.Progress, rate: map[string]float64{}, provisionRate: map[string]float64{}}
	if r.prog == nil {
		r.prog = io.Discard
	}
	mode := "full"
	if o.Quick {
		mode = "quick"
	}
	load, _ := os.ReadFile("/proc/loadavg")
	r.rep = &Report{Mode: mode, Started: started.UTC(), Raw: map[string]any{},
		Machine: Machine{NProc: runtime.NumCPU(), MemTotalMiB: memTotalMiB(), GoVersion: runtime.Version(),
			OS: runtime.GOOS + "/" + runtime.GOARCH, LoadAvg: strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " ")},
		Config: map[string]any{"lifecycle_timer": r.p.timer.String(), "levels": r.p.levels, "levels_50ms": r.p.levels50,
			"runs_per_level": r.p.runs, "tenants": r.p.tenants + 1, "technicians_per_tenant": r.p.techsPerTenant,
			"expiry": r.p.expiry, "post_clients": r.p.postClients, "post_per_client": r.p.postPerClient, "rss_grants": r.p.rss,
			"roles": 3, "sticky_cache": o.StickyCache, "tuning": o.Tuning.String(), "temporal_cli": os.Getenv("JIT_TEMPORAL_CLI")},
	}
	r.logf("starting the stack (Temporal dev server, emulator, PostgreSQL, API, worker, floor worker)…")
	s, err := StartStack(ctx, StackOptions{DatabaseURL: o.DatabaseURL, Log: o.ProductLog, Tuning: o.Tuning})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r.s = s
	r.cpu = cpuMeter{server: findServerPID(s.Temporal.Address)}
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
		fmt.Sprintf("lifecycle timer %s for product and floor; 3 roles; the emulator's 2 customer tenants host every jitaccess tenant (contoso: 2 domains, northwind: 1)", r.p.timer))
	r.rep.Elapsed = time.Since(started).Round(time.Second).String()
	return r.rep, nil
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.prog, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// seed: demo.Seed's tenant plus p.tenants more, each with p.techsPerTenant technicians.
func (r *runner) seed(ctx context.Context) error {
	r.logf("seeding %d tenants × %d technicians through the API…", r.p.tenants+1, r.p.techsPerTenant)
	demoT, err := r.s.SeedDemo(ctx)
	if err != nil {
		return err
	}
	r.tenants = []Tenant{demoT}
	for i := 1; i <= r.p.tenants; i++ {
		t, err := r.s.SeedTenant(ctx, i)
		if err != nil {
			return fmt.Errorf("seed tenant %d: %w", i, err)
		}
		if err := r.s.AddTechnicians(ctx, &t, r.p.techsPerTenant, "tech"); err != nil {
			return err
		}
		r.tenants = append(r.tenants, t)
	}
	return nil
}

// pairs lists the first n pairs of tenants [from, to) round-robin.
func (r *runner) pairs(from, to, n int) ([]Pair, error) {
	all := interleave(r.tenants[from:min(to, len(r.tenants))])
	if n > len(all) {
		return nil, fmt.Errorf("need %d technician/application pairs, seeded %d", n, len(all))
	}
	return all[:n], nil
}

func (r *runner) product(pairs []Pair) *productTarget {
	return &productTarget{api: &api{base: r.s.API, http: r.s.http}, pairs: pairs, store: r.s.App.Store}
}

func (r *runner) floor(slots int) *floorTarget {
	r.batch++
	return &floorTarget{c: r.s.App.Temporal, queue: FloorTaskQueue, tag: fmt.Sprintf("b%d", r.batch), slots: slots}
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
	}
	return fmt.Errorf("unknown scenario %q", name)
}
