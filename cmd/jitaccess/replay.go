package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/replay"
)

// runReplay replays a grant's workflow history against this build: from Temporal
// (--workflow-id, --run-id) or from a file written by `temporal workflow show --output json`
// (--history-file). Clean: one line on stdout, exit 0. Otherwise the explanation of the
// divergence on stdout and an error (exit 1).
func runReplay(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	workflowID := fs.String("workflow-id", "", "workflow id of the grant (access/<tenant>/<application>/<technician>)")
	runID := fs.String("run-id", "", "run of the workflow id (default: the latest run)")
	file := fs.String("history-file", "", "history file written by `temporal workflow show --output json`")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: jitaccess replay --workflow-id ID [--run-id RID] | --history-file FILE\n\n"+
			"Replays a grant's Temporal history against this build and checks that every decision, activity\n"+
			"input and the result follow from it. Exit 0 and one line when it replays cleanly; exit 1 with\n"+
			"the divergence otherwise. --workflow-id reads JIT_TEMPORAL_ADDRESS and JIT_TEMPORAL_NAMESPACE.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return &usageError{fmt.Sprintf("replay: unexpected argument %q", fs.Arg(0))}
	case (*workflowID == "") == (*file == ""):
		return &usageError{"replay: give either --workflow-id or --history-file"}
	case *runID != "" && *workflowID == "":
		return &usageError{"replay: --run-id needs --workflow-id"}
	}

	var rep replay.Report
	var err error
	if *file != "" {
		rep, err = replay.File(*file)
	} else {
		c, derr := dialForAudit(ctx, env)
		if derr != nil {
			return derr
		}
		defer c.Close()
		rep, err = replay.Fetch(ctx, c, *workflowID, *runID)
	}
	var d *replay.Divergence
	if errors.As(err, &d) {
		where := ""
		if d.EventID > 0 {
			where = fmt.Sprintf(" at event %d", d.EventID)
		}
		fmt.Fprintf(env.stdout, "DIVERGES (%s)%s: %s\n", d.Kind, where, d.Explanation)
		return fmt.Errorf("replay: the history does not replay cleanly against this build (%s)", d.Kind)
	}
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	fmt.Fprintln(env.stdout, rep.String())
	return nil
}

// dialForAudit connects to Temporal with the JIT_TEMPORAL_* settings. Auditors' commands
// never touch secrets, so they do not need JIT_ENCRYPTION_KEY: a placeholder stands in
// for it when it is unset.
func dialForAudit(ctx context.Context, env environment) (client.Client, error) {
	cfg, err := config.Load(func(name string) string {
		v := env.getenv(name)
		if name == "JIT_ENCRYPTION_KEY" && strings.TrimSpace(v) == "" {
			return "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // 32 zero bytes, never used
		}
		return v
	})
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.DialContext(dctx, client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		// The SDK's own chatter is not part of a command's output.
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (JIT_TEMPORAL_ADDRESS), namespace %s: %w", cfg.TemporalAddress, cfg.TemporalNamespace, err)
	}
	return c, nil
}
