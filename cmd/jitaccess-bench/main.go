// Command jitaccess-bench measures the product against the Temporal floor (SPEC §8) on a stack
// it starts itself: the dev topology (default) or the production topology (--topology
// production). It is kept out of the production binary.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/internal/bench"
	"github.com/jitaccess/jitaccess/internal/bench/report"
	"github.com/jitaccess/jitaccess/internal/bench/topology"
	"github.com/jitaccess/jitaccess/internal/cli"
)

// environment is what the command may read from its process: no globals.
type environment struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// usageError is a mistake on the command line: exit status 2 (cli.ExitCode).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
func (*usageError) UsageError()     {}

func main() {
	gin.SetMode(gin.ReleaseMode)
	cli.Main("jitaccess-bench", func(ctx context.Context, args []string) error {
		return runBench(ctx, environment{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}, args)
	})
}

// runBench prints the table and writes JSON, SVG and the table under --out.
func runBench(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	quick := fs.Bool("quick", false, "small samples: the whole run in a few minutes")
	topo := fs.String("topology", topology.Dev, "where to measure: dev (the Temporal CLI dev server, the product in this process) or production (internal/stack: Temporal server on PostgreSQL, 2 worker and 2 API processes)")
	mspGrants := fs.Int("msp-grants", 0, "msp scenario: sleeping grants (default 10000, quick 1000)")
	mspExpiring := fs.Int("msp-expiring", 0, "msp scenario: how many of them expire in the same minute (default 1000, quick 100)")
	out := fs.String("out", "internal/bench/results", "directory for the JSON report, the SVG chart and the table")
	scenarios := fs.String("scenarios", "", "comma-separated subset of: "+strings.Join(bench.AllScenarios(), ","))
	stickyCache := fs.Int("sticky-cache", 0, "sticky workflow cache size of the RSS scenario's worker processes started by the benchmark (0: JIT_WORKER_CACHE_SIZE; dev topology only)")
	verbose := fs.Bool("v", false, "print the product's warnings and errors")
	gzip := fs.Bool("tune-gzip", false, "experiment: gRPC gzip to Temporal, the SDK default jitaccess turned off (product and floor)")
	pollers := fs.Int("tune-pollers", 0, "experiment: workflow and activity task pollers per worker (product and floor; SDK default 2)")
	dbIdle := fs.Int("tune-db-idle", 0, "experiment: idle PostgreSQL connections kept by the product (database/sql default 2; jitaccess keeps its pool of 32)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (dev: API, worker, emulator, load generator; production: emulator, load generator) to the file")
	// Internal: the RSS scenario re-executes this binary as a lone worker process.
	workerProcess := fs.String("worker-process", "", "internal: run only a worker (product or floor) in this process")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("bench: unexpected argument %q", fs.Arg(0))}
	}
	if *workerProcess != "" {
		return topology.RunWorkerProcess(ctx, *workerProcess, env.getenv, *stickyCache, env.stderr)
	}
	if *topo != topology.Dev && *topo != topology.Production {
		return &usageError{fmt.Sprintf("bench: --topology %q: want %s or %s", *topo, topology.Dev, topology.Production)}
	}
	if *topo == topology.Production && (*pollers > 0 || *dbIdle > 0 || *stickyCache > 0) {
		return &usageError{"bench: --tune-pollers, --tune-db-idle and --sticky-cache change the in-process product, which the production topology does not have"}
	}
	if *mspGrants < 0 || *mspExpiring < 0 {
		return &usageError{"bench: --msp-grants and --msp-expiring must not be negative"}
	}
	var list []string
	for _, s := range strings.Split(*scenarios, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(bench.AllScenarios(), s) {
			return &usageError{fmt.Sprintf("bench: unknown scenario %q (known: %s)", s, strings.Join(bench.AllScenarios(), ", "))}
		}
		list = append(list, s)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	o := bench.Options{Quick: *quick, Topology: *topo, Scenarios: list, DatabaseURL: env.getenv("JIT_DATABASE_URL"),
		Executable: exe, StickyCache: *stickyCache, MSPGrants: *mspGrants, MSPExpiring: *mspExpiring, Progress: env.stderr,
		Tuning: topology.Tuning{Gzip: *gzip, Pollers: *pollers, DBIdle: *dbIdle}}
	if *verbose {
		o.ProductLog = env.stderr
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, o)
	if rep == nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	if werr := rep.WriteTable(env.stdout); werr != nil {
		return werr
	}
	paths, werr := report.WriteOutputs(rep, *out)
	for _, p := range paths {
		fmt.Fprintln(env.stdout, "wrote "+p)
	}
	if err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	if len(rep.Failures) > 0 {
		return fmt.Errorf("bench: %d scenario errors (see above)", len(rep.Failures))
	}
	return nil
}
