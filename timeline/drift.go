package timeline

import (
	"fmt"
	"time"
)

// KindDrift is a reconciler finding (an audit event drift.*) about the grant or its account.
// It comes from the database's audit log, not from the history: the reconciler acts outside
// the grant's run.
const KindDrift = "drift"

// Finding is a reconciler's audit event as the audit log holds it.
type Finding struct {
	AuditEventID string
	Time         time.Time
	Action       string // drift.run_closed, drift.account_enabled, …
	Target       string // the grant id, or the account's object id
	Details      map[string]any
}

// FindingEntries turns the reconciler's findings into timeline entries (actor "reconciler"),
// each saying whether it is about the grant or its account, what was seen and what was done.
func FindingEntries(grantID string, fs []Finding) []Entry {
	out := make([]Entry, 0, len(fs))
	for _, f := range fs {
		about := "account " + f.Target
		if upn, _ := f.Details["upn"].(string); upn != "" {
			about = "account " + upn + " (" + f.Target + ")"
		}
		if f.Target == grantID {
			about = "this grant"
		}
		detail := fmt.Sprintf("reconciler finding %s on %s: seen: %v; done: %v", f.Action, about, f.Details["seen"], f.Details["done"])
		if e, _ := f.Details["error"].(string); e != "" {
			detail += "; error: " + e
		}
		data := map[string]any{"source": "audit_log", "audit_event_id": f.AuditEventID, "action": f.Action, "target": f.Target}
		for k, v := range f.Details {
			data[k] = v
		}
		out = append(out, Entry{Time: f.Time, Kind: KindDrift, Actor: "reconciler", Detail: detail, Data: data})
	}
	return out
}
