// Package reconcile is the reconciler: it compares three truths — the customer's directory
// (through the Entra connector), Temporal (each grant's run) and the database — and repairs
// toward "disabled" wherever they disagree. A Temporal Schedule runs the Reconcile workflow
// every JIT_RECONCILE_INTERVAL (schedule.go); `jitaccess reconcile` runs the same sweep on
// demand (Sweeper.Sweep). Every finding and repair is an audit event (drift.*) and a metric.
package reconcile

import (
	"fmt"
	"strings"
)

// Kinds of finding; each is also the action of its audit event.
const (
	// KindRunClosed: a grant whose run closed (terminated, reset, timed out, failed) without
	// its own cleanup; the grant is made `terminated` and its account fully disabled.
	KindRunClosed = "drift.run_closed"
	// KindGrantSuperseded: a grant whose run was replaced by a newer run of the same workflow
	// id that projects another grant (a Reset); the old grant is made `terminated`, the
	// account is left to the live run.
	KindGrantSuperseded = "drift.grant_superseded"
	// KindRunMissing: a pending grant that no run claimed (the API stopped, or lost the
	// database, between writing the row and starting its workflow); it is made `terminated`.
	// Left pending it would count as the technician's live grant and shield their account.
	KindRunMissing = "drift.run_missing"
	// KindAccountEnabled: an account jitaccess created is enabled without a live grant.
	KindAccountEnabled = "drift.account_enabled"
	// KindAccountPrivileged: such an account is disabled but holds directory roles.
	KindAccountPrivileged = "drift.account_privileged"
	// KindSessionsNotRevoked: such an account is disabled without roles, but its sign-in
	// sessions were not revoked after its last grant began (a full disable that did not
	// finish); the full disable is done again.
	KindSessionsNotRevoked = "drift.sessions_not_revoked"
	// KindExtraRoles: the account of an active grant holds roles the grant was not configured with.
	KindExtraRoles = "drift.extra_roles"
	// KindAccountDisabled / KindAccountMissing: the account of an active grant is disabled or
	// gone in the directory. Recorded, never repaired (nothing is ever re-enabled).
	KindAccountDisabled = "drift.account_disabled"
	KindAccountMissing  = "drift.account_missing"
)

// Finding is one disagreement between directory, Temporal and database, and what the
// reconciler did about it. It holds identifiers only, never a secret.
type Finding struct {
	Kind          string `json:"kind"`
	TenantID      string `json:"tenant_id,omitempty"`
	ApplicationID string `json:"application_id"`
	GrantID       string `json:"grant_id,omitempty"`
	AccountID     string `json:"account_id,omitempty"`
	UPN           string `json:"upn,omitempty"`
	Seen          string `json:"seen"`
	Done          string `json:"done"`
	DryRun        bool   `json:"dry_run,omitempty"`
	Error         string `json:"error,omitempty"`
}

// String is the finding on one line, as `jitaccess reconcile` prints it.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s application=%s", f.Kind, f.ApplicationID)
	if f.GrantID != "" {
		fmt.Fprintf(&b, " grant=%s", f.GrantID)
	}
	if f.UPN != "" {
		fmt.Fprintf(&b, " account=%s", f.UPN)
	}
	if f.AccountID != "" {
		fmt.Fprintf(&b, " object_id=%s", f.AccountID)
	}
	fmt.Fprintf(&b, " seen=%q", f.Seen)
	if f.DryRun {
		fmt.Fprintf(&b, " would=%q", f.Done)
	} else {
		fmt.Fprintf(&b, " done=%q", f.Done)
	}
	if f.Error != "" {
		fmt.Fprintf(&b, " error=%q", f.Error)
	}
	return b.String()
}

// target is what the audit event is about: the grant for a finding on a grant's run, else
// the account (its grant, if any, is in the details).
func (f Finding) target() string {
	if f.Kind == KindRunClosed || f.Kind == KindGrantSuperseded || f.Kind == KindRunMissing || f.AccountID == "" {
		return f.GrantID
	}
	return f.AccountID
}

func (f Finding) details() map[string]any {
	d := map[string]any{"seen": f.Seen, "done": f.Done, "application_id": f.ApplicationID}
	for k, v := range map[string]string{"grant_id": f.GrantID, "account_id": f.AccountID, "upn": f.UPN, "error": f.Error} {
		if v != "" {
			d[k] = v
		}
	}
	return d
}
