package reconcile_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/reconcile"
	"github.com/jitaccess/jitaccess/store"
)

// A full disable that did not finish (the account off and without roles, but its sessions
// never revoked after its last grant began) is found and done again by the next sweep; an
// account signed out after its grant, or whose grant never began, is left alone.
func TestSweepFinishesAnUnfinishedFullDisable(t *testing.T) {
	activated := time.Date(2026, 12, 7, 10, 0, 0, 700e6, time.UTC)
	st := &fakeStore{accounts: []store.CreatedAccount{
		{TenantID: "tnt_1", ApplicationID: "app_1", AccountID: "acct-never-began", TechnicianID: "tec_1"},
		{TenantID: "tnt_1", ApplicationID: "app_1", AccountID: "acct-signed-in", TechnicianID: "tec_2", LastActivatedAt: activated},
		{TenantID: "tnt_1", ApplicationID: "app_1", AccountID: "acct-signed-out", TechnicianID: "tec_3", LastActivatedAt: activated},
		{TenantID: "tnt_1", ApplicationID: "app_1", AccountID: "acct-same-second", TechnicianID: "tec_4", LastActivatedAt: activated},
	}}
	dir := &fakeDirectory{throttled: true, states: map[string]directory.AccountState{
		"acct-never-began": {ObjectID: "acct-never-began", Exists: true},
		"acct-signed-in":   {ObjectID: "acct-signed-in", Exists: true, SessionsValidFrom: activated.Add(-time.Hour).Truncate(time.Second)},
		"acct-signed-out":  {ObjectID: "acct-signed-out", Exists: true, SessionsValidFrom: activated.Add(time.Minute).Truncate(time.Second)},
		// Graph's whole second: a revoke 0.2 s after the activation reads as 10:00:00.
		"acct-same-second": {ObjectID: "acct-same-second", Exists: true, SessionsValidFrom: activated.Truncate(time.Second)},
	}}
	sw := &reconcile.Sweeper{Store: st, Directory: dir, Runs: noRuns{}, Pace: time.Millisecond}
	findings, err := sw.Sweep(context.Background(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 1 {
		t.Fatalf("findings %v, want one", findings)
	}
	f := findings[0]
	if f.Kind != reconcile.KindSessionsNotRevoked || f.AccountID != "acct-signed-in" || f.Error != "" ||
		!strings.Contains(f.Seen, "sign-in sessions valid since 2026-12-07T09:00:00Z, before its last grant began (2026-12-07T10:00:00Z)") {
		t.Errorf("finding %s", f)
	}
	if fmt.Sprint(dir.disabled) != "[acct-signed-in]" || fmt.Sprint(dir.tapsGone) != "[acct-signed-in]" {
		t.Errorf("disabled %v, passes deleted %v", dir.disabled, dir.tapsGone)
	}
	if len(st.audits) != 1 || st.audits[0].Action != reconcile.KindSessionsNotRevoked || st.audits[0].Target != "acct-signed-in" {
		t.Errorf("audit events %+v", st.audits)
	}
}
