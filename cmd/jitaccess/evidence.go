package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/report"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// openEvidence opens the migrated store and the checkpoint keys the configuration derives.
func openEvidence(ctx context.Context, env environment) (*store.Store, *auditchain.Keys, config.Config, func(), error) {
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return nil, nil, cfg, nil, err
	}
	sealer, err := seal.New(cfg.EncryptionKey, cfg.PreviousKeys...)
	if err != nil {
		return nil, nil, cfg, nil, err
	}
	keys, err := auditchain.NewKeys(cfg.EncryptionKey, cfg.PreviousKeys...)
	if err != nil {
		return nil, nil, cfg, nil, err
	}
	db, err := schema.Open(ctx, cfg.DatabaseURL, app.SQLitePath(cfg), cfg.DBMaxConns)
	if err != nil {
		return nil, nil, cfg, nil, fmt.Errorf("open database: %w", err)
	}
	if err := schema.Migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, nil, cfg, nil, err
	}
	return store.New(db, sealer), keys, cfg, func() { _ = db.Close() }, nil
}

// runAuditChain serves `jitaccess audit verify|seal|purge`.
func runAuditChain(ctx context.Context, env environment, verb string, args []string) error {
	fs := flag.NewFlagSet("audit "+verb, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	since := fs.String("since", "", "verify: start at the last signed checkpoint made before this time (RFC 3339 or YYYY-MM-DD)")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: jitaccess audit verify [--since TIME] | audit seal | audit purge\n\n"+
			"verify walks the tamper-evident audit chain in the database and names the first row that was edited,\n"+
			"deleted or inserted (exit 1), checking every signed checkpoint on the way. seal signs a checkpoint\n"+
			"over the chain head now. purge removes what is older than JIT_AUDIT_RETENTION behind a checkpoint.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("audit %s: unexpected argument %q", verb, fs.Arg(0))}
	}
	var from time.Time
	if *since != "" {
		t, err := parseDay(*since)
		if err != nil {
			return &usageError{"audit verify: --since " + err.Error()}
		}
		from = t
	}
	st, keys, cfg, closeDB, err := openEvidence(ctx, env)
	if err != nil {
		return err
	}
	defer closeDB()
	switch verb {
	case "seal":
		c, ok, err := st.SealAuditChain(ctx, keys)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(env.stdout, "audit chain: nothing new to seal")
			return nil
		}
		fmt.Fprintf(env.stdout, "audit chain sealed at seq %d (hash %s, key %s)\n", c.Seq, c.Hash, c.KeyID)
		return nil
	case "purge":
		p, err := st.PurgeBefore(ctx, keys, time.Now().Add(-cfg.AuditRetention))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "purged %d audit events (checkpoint at seq %d) and %d grants older than %s\n", p.AuditEvents, p.CutSeq, p.Grants, cfg.AuditRetention)
		return nil
	}
	res, err := st.VerifyAuditChain(ctx, keys, from)
	var f *auditchain.Finding
	if errors.As(err, &f) {
		fmt.Fprintln(env.stdout, f.Error())
		return fmt.Errorf("audit chain does not verify: %s row %s at seq %d", f.Kind, orMissing(f.ID), f.Seq)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "audit chain verified: %d rows (seq %d to %d), %d signed checkpoints (keys %s)\n",
		res.Rows, res.FirstSeq, res.LastSeq, res.Checkpoints, strings.Join(res.KeyIDs, ", "))
	return nil
}

func orMissing(id string) string {
	if id == "" {
		return "(missing)"
	}
	return id
}

func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not RFC 3339 or YYYY-MM-DD", s)
	}
	return t, nil
}

// runReport writes a tenant's access report for a period as CSV or PDF.
func runReport(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	tenant := fs.String("tenant", "", "customer tenant id")
	fromS := fs.String("from", "", "first day (YYYY-MM-DD, UTC; default: the first of last month)")
	toS := fs.String("to", "", "day after the last (YYYY-MM-DD, exclusive; default: --from plus one month)")
	format := fs.String("format", "csv", "csv or pdf")
	out := fs.String("out", "", "file to write (default: standard output)")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: jitaccess report --tenant ID [--from DAY] [--to DAY] [--format csv|pdf] [--out FILE]\n\n"+
			"Every grant of the tenant requested in the period (who, roles, ticket and justification, approver, times,\n"+
			"how it ended, proof of disable), denied requests and drift findings, from the database and the audit log.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("report: unexpected argument %q", fs.Arg(0))}
	}
	if *tenant == "" {
		return &usageError{"report: --tenant is required"}
	}
	if *format != "csv" && *format != "pdf" {
		return &usageError{fmt.Sprintf("report: --format must be csv or pdf, not %q", *format)}
	}
	now := time.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	if *fromS != "" {
		t, err := parseDay(*fromS)
		if err != nil {
			return &usageError{"report: --from " + err.Error()}
		}
		from = t
	}
	to := from.AddDate(0, 1, 0)
	if *toS != "" {
		t, err := parseDay(*toS)
		if err != nil {
			return &usageError{"report: --to " + err.Error()}
		}
		to = t
	}
	if !from.Before(to) {
		return &usageError{"report: --to must be after --from"}
	}
	st, _, _, closeDB, err := openEvidence(ctx, env)
	if err != nil {
		return err
	}
	defer closeDB()
	r, err := report.Build(ctx, st, *tenant, from, to, now)
	if err != nil {
		return err
	}
	var w io.Writer = env.stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if *format == "pdf" {
		return report.WritePDF(w, r)
	}
	return report.WriteCSV(w, r)
}
