package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
)

// csvHeader is the one header of a report's CSV; the record column says what a row is
// (grant, denied, drift) so that a spreadsheet filter separates them.
var csvHeader = []string{"record", "id", "technician", "application", "roles", "ticket", "justification", "approver",
	"requested_at", "activated_at", "ended_at", "held_seconds", "outcome", "ended_by", "disabled_at", "roles_removed_at",
	"proof_event_id", "proof_event_seq", "workflow_id", "run_id", "detail"}

// WriteCSV writes r as CSV: times in RFC 3339 UTC, empty when unknown.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	for _, g := range r.Grants {
		_ = cw.Write([]string{"grant", g.ID, g.Technician, g.Application, strings.Join(g.Roles, ";"), cell(g.Ticket), cell(g.Justification),
			g.Approver, ts(g.RequestedAt), ts(g.ActivatedAt), ts(g.EndedAt), fmt.Sprint(int64(g.Held().Seconds())), g.Outcome, g.EndedBy,
			ts(g.DisabledAt), ts(g.RolesGoneAt), g.ProofEventID, seq(g.ProofSeq), g.WorkflowID, g.RunID, ""})
	}
	for _, rec := range []struct {
		kind   string
		events []Event
	}{{"denied", r.Denied}, {"drift", r.Drift}} {
		for _, e := range rec.events {
			_ = cw.Write([]string{rec.kind, e.EventID, e.Actor, "", "", "", "", "", ts(e.At), "", "", "", e.Action, "", "", "",
				e.EventID, seq(e.Seq), "", "", cell(e.Target + " " + e.Detail)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report csv: %w", err)
	}
	return nil
}

// cell keeps free text from being read as a formula by a spreadsheet.
func cell(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func seq(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}
