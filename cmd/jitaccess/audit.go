package main

import (
	"context"
	"flag"
	"fmt"

	historypb "go.temporal.io/api/history/v1"

	"github.com/jitaccess/jitaccess/replay"
	"github.com/jitaccess/jitaccess/timeline"
)

// runAudit prints a grant's timeline derived from its Temporal history (not from the
// database): human-readable lines, or one JSON object per line with --json.
func runAudit(ctx context.Context, env environment, args []string) error {
	if len(args) > 0 && (args[0] == "verify" || args[0] == "seal" || args[0] == "purge") {
		return runAuditChain(ctx, env, args[0], args[1:])
	}
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	workflowID := fs.String("workflow-id", "", "workflow id of the grant (access/<tenant>/<application>/<technician>)")
	runID := fs.String("run-id", "", "run of the workflow id (default: the latest run)")
	file := fs.String("history-file", "", "read the history from a file written by `temporal workflow show --output json` instead")
	asJSON := fs.Bool("json", false, "one JSON object per line: time, kind, actor, detail, event_id, data")
	findings := fs.Bool("findings", true, "also list the reconciler's findings (drift.* audit events) about the grant and its account, from the database (JIT_DATABASE_URL)")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: jitaccess audit --workflow-id ID [--run-id RID] [--json] | --history-file FILE [--json]\n"+
			"       jitaccess audit verify [--since TIME] | seal | purge   (the tamper-evident audit log; see audit verify -h)\n\n"+
			"Prints the grant's timeline from its Temporal history: who requested and why, the rule that entitled\n"+
			"them, the account and roles, when access began, extensions, who revoked, when the account was\n"+
			"disabled, and the retries on the way. Prove the history with `jitaccess replay` as well. Then the\n"+
			"reconciler's findings about the grant and its account (drift.*), which are in the database's audit\n"+
			"log, not in the history.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return &usageError{fmt.Sprintf("audit: unexpected argument %q", fs.Arg(0))}
	case (*workflowID == "") == (*file == ""):
		return &usageError{"audit: give either --workflow-id or --history-file"}
	case *runID != "" && *workflowID == "":
		return &usageError{"audit: --run-id needs --workflow-id"}
	}

	cfg, dc, err := auditConfig(env)
	if err != nil {
		return err
	}
	var h *historypb.History
	running := false
	if *file != "" {
		if h, err = replay.ReadFile(*file); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	} else {
		c, err := dialForAudit(ctx, cfg, dc)
		if err != nil {
			return err
		}
		defer c.Close()
		if h, running, err = replay.FetchHistory(ctx, c, *workflowID, *runID); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	grant, err := timeline.Describe(h, dc)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	entries, err := timeline.Timeline(h, dc)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	var drift []timeline.Entry
	var driftErr error
	if *findings {
		drift, driftErr = reconcilerFindings(ctx, cfg, grant, entries)
	}
	if *asJSON {
		for _, e := range append(entries, drift...) {
			fmt.Fprintln(env.stdout, e.JSON())
		}
		if driftErr != nil {
			fmt.Fprintf(env.stderr, "audit: reconciler findings not read: %v\n", driftErr)
		}
		return nil
	}
	fmt.Fprintf(env.stdout, "Grant %s: %s for application %s in tenant %s (workflow %s, run %s)\n",
		grant.GrantID, auditFirstOf(grant.TechnicianEmail, grant.TechnicianID), grant.ApplicationID, grant.TenantID, grant.WorkflowID, grant.RunID)
	for _, e := range entries {
		fmt.Fprintln(env.stdout, e.Text())
	}
	if running {
		fmt.Fprintf(env.stdout, "(the workflow is still running; status %s)\n", grant.Status)
	}
	if *findings {
		printFindings(env, drift, driftErr)
	}
	return nil
}

func auditFirstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return "(unknown)"
}

// printFindings prints the reconciler's findings under their own heading: they come from
// the audit log, not from the history above.
func printFindings(env environment, drift []timeline.Entry, err error) {
	fmt.Fprintln(env.stdout, "\nReconciler findings about this grant and its account (audit log, not the history):")
	switch {
	case err != nil:
		fmt.Fprintf(env.stdout, "  (not read: %v)\n", err)
	case len(drift) == 0:
		fmt.Fprintln(env.stdout, "  (none)")
	}
	for _, e := range drift {
		fmt.Fprintln(env.stdout, e.Text())
	}
}
