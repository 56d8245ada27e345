package reconcile_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/reconcile"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// TestReconcile sets up the three kinds of drift on the real stack — a grant whose run an
// operator terminated, a role added out of band to a live grant's account, and a JIT account
// re-enabled (and given a role) out of band after its grant ended — then checks that a dry
// run reports all three and changes nothing, that one Reconcile run (through the worker)
// repairs them, and that a second run finds nothing.
func TestReconcile(t *testing.T) {
	s := newStack(t, "7m")
	ctx := context.Background()
	configured := []string{demo.RoleHelpdeskAdministrator, demo.RoleUserAdministrator}
	slices.Sort(configured)

	// A: a live grant whose run is terminated (as from the Temporal UI or CLI).
	tokA := s.technician("alice")
	a := s.activeGrant(tokA)
	if code := s.call(tokA, http.MethodGet, "/v1/access-requests/"+a.ID+"/credentials", nil, nil); code != http.StatusOK {
		t.Fatalf("credentials of the active grant: %d", code)
	}
	terminatedAt := time.Now()
	if err := s.app.Temporal.TerminateWorkflow(ctx, a.WorkflowID, a.RunID, "operator pressed Terminate"); err != nil {
		t.Fatal(err)
	}

	// B: a live grant whose account gets a third role out of band.
	b := s.activeGrant(s.technician("bob"))
	if _, err := s.app.Entra.AssignRoles(ctx, s.demo.ApplicationID, b.Account.ObjectID, []string{demo.RolePasswordAdministrator}); err != nil {
		t.Fatal(err)
	}

	// C: a grant revoked, then its account re-enabled and given a role out of band.
	c := s.activeGrant(s.technician("carol"))
	if code := s.call(s.admin, http.MethodPost, "/v1/access-requests/"+c.ID+"/revoke", map[string]any{"reason": "done"}, nil); code != http.StatusAccepted {
		t.Fatalf("revoke: %d", code)
	}
	s.waitStatus(c.ID, string(workflows.StatusRevoked))
	if u := s.user(c.Account.UPN); u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 {
		t.Fatalf("the revoked grant's account is enabled=%v with roles %v", u.AccountEnabled, u.RoleDefinitionIDs)
	}
	nick, _ := directory.MailNickname(c.Account.UPN)
	if _, err := s.app.Entra.EnsureAccount(ctx, s.demo.ApplicationID, directory.AccountSpec{UPN: c.Account.UPN, DisplayName: "carol",
		MailNickname: nick, ObjectID: c.Account.ObjectID}, directory.NewPassword()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Entra.AssignRoles(ctx, s.demo.ApplicationID, c.Account.ObjectID, []string{demo.RolePasswordAdministrator}); err != nil {
		t.Fatal(err)
	}
	// ... and given a Temporary Access Pass out of band too.
	if _, err := s.app.Entra.IssueTAP(ctx, s.demo.ApplicationID, c.Account.ObjectID, time.Hour); err != nil {
		t.Fatal(err)
	}
	// A's pass (the demo application signs in with password and TAP) and C's are there.
	for _, upn := range []string{a.Account.UPN, c.Account.UPN} {
		if n := s.taps(upn); n != 1 {
			t.Fatalf("account %s holds %d temporary access passes before the reconcile, want 1", upn, n)
		}
	}

	want := map[string]string{a.ID: reconcile.KindRunClosed, b.Account.ObjectID: reconcile.KindExtraRoles, c.Account.ObjectID: reconcile.KindAccountEnabled}
	check := func(t *testing.T, findings []reconcile.Finding, dry bool) {
		t.Helper()
		got := map[string]string{}
		for _, f := range findings {
			t.Logf("finding: %s", f)
			if f.DryRun != dry {
				t.Errorf("finding %s: dry run %v", f, f.DryRun)
			}
			key := f.AccountID
			if f.Kind == reconcile.KindRunClosed {
				key = f.GrantID
			}
			got[key] = f.Kind
		}
		for k, kind := range want {
			if got[k] != kind {
				t.Errorf("%s: finding %q, want %q (all: %v)", k, got[k], kind, got)
			}
		}
		if len(findings) != len(want) {
			t.Errorf("%d findings, want %d", len(findings), len(want))
		}
	}

	t.Run("dry run reports and changes nothing", func(t *testing.T) {
		findings, err := s.app.Reconciler().Sweep(ctx, s.demo.TenantID, true)
		if err != nil {
			t.Fatal(err)
		}
		check(t, findings, true)
		for _, f := range findings {
			if line := f.String(); strings.Contains(line, "\n") || !strings.Contains(line, "would=") {
				t.Errorf("not one line saying what would be done: %q", line)
			}
		}
		if g := s.grant(a.ID); g.Status != string(workflows.StatusActive) {
			t.Errorf("dry run changed grant A to %q", g.Status)
		}
		if u := s.user(a.Account.UPN); !u.AccountEnabled || len(u.RoleDefinitionIDs) != 2 {
			t.Errorf("dry run changed account A: enabled=%v roles %v", u.AccountEnabled, u.RoleDefinitionIDs)
		}
		if u := s.user(b.Account.UPN); len(u.RoleDefinitionIDs) != 3 {
			t.Errorf("dry run changed account B's roles: %v", u.RoleDefinitionIDs)
		}
		if u := s.user(c.Account.UPN); !u.AccountEnabled || len(u.RoleDefinitionIDs) != 1 {
			t.Errorf("dry run changed account C: enabled=%v roles %v", u.AccountEnabled, u.RoleDefinitionIDs)
		}
		if s.taps(a.Account.UPN) != 1 || s.taps(c.Account.UPN) != 1 {
			t.Errorf("dry run deleted a temporary access pass")
		}
		for action := range s.auditActions() {
			if strings.HasPrefix(action, "drift.") || action == "grant.terminated" {
				t.Errorf("dry run wrote an audit event %s", action)
			}
		}
	})

	t.Run("one reconcile run repairs", func(t *testing.T) {
		res := s.runReconcile(t)
		check(t, res.Findings, false)
		if len(res.Errors) != 0 {
			t.Errorf("errors: %v", res.Errors)
		}

		// A: final `terminated` with the reason, credentials refused, account fully disabled.
		g := s.grant(a.ID)
		if g.Status != store.StatusTerminated || g.Failure == nil || !strings.Contains(*g.Failure, "terminated") {
			t.Errorf("grant A: status %q failure %v", g.Status, g.Failure)
		}
		if code := s.call(tokA, http.MethodGet, "/v1/access-requests/"+a.ID+"/credentials", nil, nil); code != http.StatusConflict {
			t.Errorf("credentials of the terminated grant: %d, want 409", code)
		}
		u := s.user(a.Account.UPN)
		if u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 {
			t.Errorf("account A: enabled=%v roles %v", u.AccountEnabled, u.RoleDefinitionIDs)
		}
		if !u.SignInSessionsValidFrom.After(terminatedAt) || !u.PasswordChangedAt.After(terminatedAt) {
			t.Errorf("account A not signed out (%s) or password not scrambled (%s) after the terminate (%s)",
				u.SignInSessionsValidFrom, u.PasswordChangedAt, terminatedAt)
		}

		// B: the extra role is gone, the configured ones stay, the grant is untouched.
		u = s.user(b.Account.UPN)
		if !u.AccountEnabled || !slices.Equal(u.RoleDefinitionIDs, configured) {
			t.Errorf("account B: enabled=%v roles %v, want %v", u.AccountEnabled, u.RoleDefinitionIDs, configured)
		}
		if g := s.grant(b.ID); g.Status != string(workflows.StatusActive) {
			t.Errorf("grant B: %q", g.Status)
		}

		// C: disabled again without roles.
		if u := s.user(c.Account.UPN); u.AccountEnabled || len(u.RoleDefinitionIDs) != 0 {
			t.Errorf("account C: enabled=%v roles %v", u.AccountEnabled, u.RoleDefinitionIDs)
		}

		// A and C: no Temporary Access Pass left (no live grant owns either account), and
		// the findings say so.
		for _, upn := range []string{a.Account.UPN, c.Account.UPN} {
			if n := s.taps(upn); n != 0 {
				t.Errorf("account %s still holds %d temporary access passes after the full disable", upn, n)
			}
		}
		for _, f := range res.Findings {
			if (f.Kind == reconcile.KindRunClosed || f.Kind == reconcile.KindAccountEnabled) && !strings.Contains(f.Done, "temporary access passes deleted") {
				t.Errorf("finding %s does not report the passes deleted", f)
			}
		}

		// Every finding is in the audit log the portal and GET /v1/audit-events list.
		acts := s.auditActions()
		for target, kind := range want {
			if !slices.Contains(acts[kind], target) {
				t.Errorf("no audit event %s for %s (log: %v)", kind, target, acts)
			}
		}
		if !slices.Contains(acts["grant.terminated"], a.ID) {
			t.Errorf("no grant.terminated event for %s", a.ID)
		}
	})

	t.Run("converged", func(t *testing.T) {
		res := s.runReconcile(t)
		if len(res.Findings) != 0 || len(res.Errors) != 0 {
			t.Errorf("second run: findings %v errors %v", res.Findings, res.Errors)
		}
		if res.Accounts != 3 {
			t.Errorf("second run read %d accounts, want the 3 jitaccess created", res.Accounts)
		}
	})
}

// taps counts the account's Temporary Access Pass methods in the emulator's directory.
func (s *stack) taps(upn string) int {
	n := 0
	for _, m := range s.user(upn).AuthMethods {
		if m.Type == "temporaryAccessPass" {
			n++
		}
	}
	return n
}

// runReconcile runs the Reconcile workflow on the stack's worker, as the Schedule does.
func (s *stack) runReconcile(t *testing.T) reconcile.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := s.app.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "test-reconcile-" + randomString(t)[:8], TaskQueue: s.cfg.TaskQueue},
		reconcile.WorkflowType, reconcile.Input{})
	if err != nil {
		t.Fatal(err)
	}
	var res reconcile.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestScheduleEnsuredAtWorkerStart checks that starting a worker creates the Schedule with
// JIT_RECONCILE_INTERVAL and that EnsureSchedule moves it to a new interval.
func TestScheduleEnsuredAtWorkerStart(t *testing.T) {
	s := newStack(t, "7m")
	ctx := context.Background()
	h := s.app.Temporal.ScheduleClient().GetHandle(ctx, reconcile.ScheduleID)
	interval := func() (time.Duration, string) {
		d, err := h.Describe(ctx)
		if err != nil {
			return 0, err.Error()
		}
		act, _ := d.Schedule.Action.(*client.ScheduleWorkflowAction)
		if len(d.Schedule.Spec.Intervals) != 1 || act == nil {
			return 0, "unexpected schedule shape"
		}
		if act.TaskQueue != s.cfg.TaskQueue || act.Workflow != any(reconcile.WorkflowType) {
			return 0, fmt.Sprintf("action %s %v", act.TaskQueue, act.Workflow)
		}
		return d.Schedule.Spec.Intervals[0].Every, ""
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		every, why := interval()
		if every == 7*time.Minute {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("schedule after worker start: every %s (%s)", every, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := reconcile.EnsureSchedule(ctx, s.app.Temporal, 3*time.Minute, s.cfg.TaskQueue); err != nil {
		t.Fatal(err)
	}
	if every, why := interval(); every != 3*time.Minute {
		t.Errorf("after EnsureSchedule(3m): every %s (%s)", every, why)
	}
}
