// Command jitaccess-bench measures the product against the Temporal floor (SPEC §8) on a stack
// it starts itself. It is kept out of the production binary.
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
	quick := fs.Bool("quick", false, "small samples: the whole run in about two minutes")
	out := fs.String("out", "internal/bench/results", "directory for the JSON report, the SVG chart and the table")
	scenarios := fs.String("scenarios", "", "comma-separated subset of: "+strings.Join(bench.AllScenarios(), ","))
	stickyCache := fs.Int("sticky-cache", 0, "sticky workflow cache size of the RSS scenario's worker processes (0: JIT_WORKER_CACHE_SIZE)")
	verbose := fs.Bool("v", false, "print the product's warnings and errors")
	gzip := fs.Bool("tune-gzip", false, "experiment: gRPC gzip to Temporal, the SDK default jitaccess turned off (product and floor)")
	pollers := fs.Int("tune-pollers", 0, "experiment: workflow and activity task pollers per worker (product and floor; SDK default 2)")
	dbIdle := fs.Int("tune-db-idle", 0, "experiment: idle PostgreSQL connections kept by the product (database/sql default 2; jitaccess keeps its pool of 32)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (API, worker, emulator, load generator) to the file")
	// Internal: the RSS scenario re-executes this binary as a lone worker process.
	workerProcess := fs.String("worker-process", "", "internal: run only a worker (product or floor) in this process")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("bench: unexpected argument %q", fs.Arg(0))}
	}
	if *workerProcess != "" {
		return bench.RunWorkerProcess(ctx, *workerProcess, env.getenv, *stickyCache, env.stderr)
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
	o := bench.Options{Quick: *quick, Scenarios: list, DatabaseURL: env.getenv("JIT_DATABASE_URL"),
		Executable: exe, StickyCache: *stickyCache, Progress: env.stderr,
		Tuning: bench.Tuning{Gzip: *gzip, Pollers: *pollers, DBIdle: *dbIdle}}
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
	paths, werr := bench.WriteOutputs(rep, *out)
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
