package main

import (
	"context"
	"flag"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
)

// runWorker runs a Temporal worker for the AccessRequest workflow until interrupted.
func runWorker(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	app.ConfigureProcess(cfg)
	logger := app.NewLogger(cfg, env.stderr)
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	stopMetrics, err := a.ServeMetrics(ctx)
	if err != nil {
		return err
	}
	defer stopMetrics()
	return a.RunWorker(ctx)
}
