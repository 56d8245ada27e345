package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
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
			timer: 200 * time.Millisecond,
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
		timer:   200 * time.Millisecond,
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

// lifecycleBatch runs a closed loop and reads the histories.
func (r *runner) lifecycleBatch(ctx context.Context, t Target, conc, total int) ([]Timeline, error) {
	// A grant stuck in retries must not hang the benchmark.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute+time.Duration(total)*2*time.Second)
	defer cancel()
	runs, err := closedLoop(ctx, r.s.App.Temporal, t, conc, total, r.p.timer)
	if err != nil {
		return nil, fmt.Errorf("%s c=%d: %w", t.Name(), conc, err)
	}
	return timelines(ctx, r.s.App.Temporal, r.s.App.Converter, runs)
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
		c0 := r.cpu.sample()
		fl, err := r.lifecycleBatch(ctx, r.floor(c), c, n)
		if err != nil {
			return err
		}
		floorCPU := r.cpu.perRun(c0, n)
		c0 = r.cpu.sample()
		pr, err := r.lifecycleBatch(ctx, r.product(pairs), c, n)
		if err != nil {
			return err
		}
		productCPU := r.cpu.perRun(c0, n)
		pLat, fLat := activeLatencies(pr), activeLatencies(fl)
		pd, fd := Summarize(pLat), Summarize(fLat)
		pt, ft := throughput(pr), throughput(fl)
		if c == maxLevel && graphMS == 0 {
			r.rate["product"], r.rate["floor"] = pt, ft
		}
		b13, b08 := Budget{Kind: "max_ratio", Limit: 1.3}, Budget{Kind: "min_ratio", Limit: 0.8}
		if !judged {
			b13, b08 = Budget{}, Budget{}
		}
		r.add(NewFigure(scen, "request→active p50", "ms", pd.P50, fd.P50, b13))
		r.add(NewFigure(scen, "request→active p95", "ms", pd.P95, fd.P95, Budget{}))
		r.add(NewFigure(scen, "request→active p99", "ms", pd.P99, fd.P99, b13))
		r.add(NewFigure(scen, "lifecycles/s", "/s", pt, ft, b08))
		if bad := notExpired(pr); bad > 0 {
			r.rep.Failures = append(r.rep.Failures, fmt.Sprintf("%s: %d product lifecycles did not end expired", scen, bad))
		}
		r.rep.Series = append(r.rep.Series, Series{Scenario: scen + ": request→active", Product: pLat, Floor: fLat})
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

func (r *runner) add(f Figure) { r.rep.Figures = append(r.rep.Figures, f) }

func activeLatencies(tls []Timeline) []float64 {
	out := make([]float64, 0, len(tls))
	for _, t := range tls {
		if !t.Active.IsZero() {
			out = append(out, ms(t.Active.Sub(t.Start)))
		}
	}
	return out
}

func throughput(tls []Timeline) float64 {
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
func phases(tls []Timeline) map[string]float64 {
	var act, timer, disable, tail, total []float64
	for _, t := range tls {
		act = append(act, ms(t.Active.Sub(t.Start)))
		timer = append(timer, ms(t.Fired.Sub(t.Active)-t.Timer))
		disable = append(disable, ms(t.Disabled.Sub(t.Fired)))
		tail = append(tail, ms(t.Closed.Sub(t.Disabled)))
		total = append(total, ms(t.Closed.Sub(t.Start)))
	}
	out := map[string]float64{"start_to_active_p50": Summarize(act).P50, "timer_late_p50": Summarize(timer).P50,
		"fired_to_disabled_p50": Summarize(disable).P50, "disabled_to_closed_p50": Summarize(tail).P50,
		"lifecycle_p50": Summarize(total).P50}
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
		out[k] = Summarize(v).P50
	}
	return out
}

func notExpired(tls []Timeline) int {
	n := 0
	for _, t := range tls {
		if !t.Completed || t.Final.Status != "expired" {
			n++
		}
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

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

// WriteOutputs writes report.json, latency.svg and table.txt (timestamped) under dir and
// returns their paths.
func WriteOutputs(rep *Report, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	stamp := rep.Started.Format("20060102-150405")
	var paths []string
	write := func(name string, fn func(io.Writer) error) error {
		p := filepath.Join(dir, fmt.Sprintf("bench-%s-%s-%s", rep.Mode, stamp, name))
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return err
		}
		paths = append(paths, p)
		return f.Close()
	}
	err := errors.Join(write("report.json", rep.WriteJSON), write("latency.svg", rep.WriteSVG), write("table.txt", rep.WriteTable))
	return paths, err
}
