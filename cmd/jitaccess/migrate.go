package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/schema"
)

// runMigrate applies (or with --down rolls back the last group of) database migrations.
// serve and dev migrate at start-up too; this is for operators who migrate as a deploy step.
func runMigrate(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	down := fs.Bool("down", false, "roll back the last migration group instead of migrating up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	db, err := schema.Open(ctx, cfg.DatabaseURL, app.SQLitePath(cfg), cfg.DBMaxConns)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if *down {
		if err := schema.Rollback(ctx, db); err != nil {
			return err
		}
	} else if err := schema.Migrate(ctx, db); err != nil {
		return err
	}
	applied, err := schema.Applied(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "migrations applied: %d %v\n", len(applied), applied)
	return nil
}
