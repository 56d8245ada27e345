package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/replay"
	"github.com/jitaccess/jitaccess/temporalclient"
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
			"the divergence otherwise. --workflow-id reads JIT_TEMPORAL_ADDRESS and JIT_TEMPORAL_NAMESPACE;\n"+
			"JIT_ENCRYPTION_KEY decrypts payloads recorded with the codec.")
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

	cfg, dc, err := auditConfig(env)
	if err != nil {
		return err
	}
	var rep replay.Report
	if *file != "" {
		rep, err = replay.File(*file, replay.WithDataConverter(dc))
	} else {
		c, derr := dialForAudit(ctx, cfg, dc)
		if derr != nil {
			return derr
		}
		defer c.Close()
		rep, err = replay.Fetch(ctx, c, *workflowID, *runID, replay.WithDataConverter(dc))
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

// auditConfig is the configuration of the auditors' commands. They never touch the database's
// secrets; JIT_ENCRYPTION_KEY (and JIT_PREVIOUS_ENCRYPTION_KEYS) only decrypt the histories'
// payloads. When it is unset a placeholder stands in: histories recorded before the codec
// still read, encrypted ones fail to decrypt and say so.
func auditConfig(env environment) (config.Config, converter.DataConverter, error) {
	cfg, err := config.Load(func(name string) string {
		v := env.getenv(name)
		if name == "JIT_ENCRYPTION_KEY" && strings.TrimSpace(v) == "" {
			return "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // 32 zero bytes, never used
		}
		return v
	})
	if err != nil {
		return config.Config{}, nil, err
	}
	dc, err := temporalclient.ReaderConverter(cfg)
	if err != nil {
		return config.Config{}, nil, err
	}
	return cfg, dc, nil
}

// dialForAudit connects to Temporal with the JIT_TEMPORAL_* settings (TLS, API key) and
// the reader's converter.
func dialForAudit(ctx context.Context, cfg config.Config, dc converter.DataConverter) (client.Client, error) {
	opts, err := temporalclient.ClientOptions(cfg, temporalclient.Deps{
		// The SDK's own chatter is not part of a command's output.
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	opts.DataConverter = dc
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (JIT_TEMPORAL_ADDRESS), namespace %s: %w", cfg.TemporalAddress, cfg.TemporalNamespace, err)
	}
	return c, nil
}
