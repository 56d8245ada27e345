package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
)

// runReconcile sweeps now, in this process, what the reconciler's Schedule sweeps every
// JIT_RECONCILE_INTERVAL: it prints one line per finding on stdout and, unless --dry-run,
// repairs toward disabled and writes each finding to the audit log.
func runReconcile(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	tenant := fs.String("tenant", "", "sweep only this customer tenant (tnt_…)")
	dryRun := fs.Bool("dry-run", false, "change nothing and write no audit event: print what would be done")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: jitaccess reconcile [--tenant ID] [--dry-run]\n\n"+
			"Compares the directory, Temporal and the database for every application (or one tenant's) and\n"+
			"repairs toward disabled: grants whose run closed without cleanup, accounts enabled or privileged\n"+
			"without a live grant, extra roles on a live grant's account. One line per finding on stdout.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("reconcile: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	if cfg.LogLevel != "debug" {
		cfg.LogLevel = "error" // the findings are the output; the sweep's own log lines would repeat them
	}
	logger := app.NewLogger(cfg, env.stderr)
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	sweeper := a.Reconciler()
	sweeper.Logger = logger
	findings, err := sweeper.Sweep(ctx, *tenant, *dryRun)
	for _, f := range findings {
		fmt.Fprintln(env.stdout, f.String())
	}
	mode := ""
	if *dryRun {
		mode = " (dry run: nothing changed)"
	}
	fmt.Fprintf(env.stderr, "reconcile: %d findings%s\n", len(findings), mode)
	if err != nil {
		logger.Error("reconcile", slog.Any("error", err))
		return fmt.Errorf("reconcile: %w", err)
	}
	return nil
}
