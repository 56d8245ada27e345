package main

import (
	"context"
	"flag"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
)

// runServe runs the HTTP API (and portal) until interrupted. It migrates the database and
// registers the search attributes at start-up, so a fresh deployment needs no manual step.
func runServe(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(cfg, env.stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	stopMetrics, err := a.ServeMetrics(ctx)
	if err != nil {
		return err
	}
	defer stopMetrics()
	return a.ServeAPI(ctx)
}
