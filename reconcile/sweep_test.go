package reconcile_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/reconcile"
	"github.com/jitaccess/jitaccess/store"
)

// fakeStore holds n recorded accounts, none held by a live grant.
type fakeStore struct {
	reconcile.Store // methods the sweep must not call panic
	accounts        []store.CreatedAccount
	audits          []store.AuditEvent
	entraTenant     string
}

func (f *fakeStore) PinnedEntraTenant(context.Context, string) (string, error) {
	return f.entraTenant, nil
}

func (f *fakeStore) ReconcileApplications(context.Context, string) ([]string, error) {
	return []string{"app_1"}, nil
}

func (f *fakeStore) OpenGrants(context.Context, string, string, int) ([]store.Grant, error) {
	return nil, nil
}

func (f *fakeStore) CreatedAccounts(_ context.Context, _ string, after string, limit int) ([]store.CreatedAccount, error) {
	var out []store.CreatedAccount
	for _, a := range f.accounts {
		if a.AccountID > after && len(out) < limit {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeStore) LiveGrantsOfAccount(context.Context, string, string, string) ([]store.Grant, error) {
	return nil, nil
}

func (f *fakeStore) RecordAudit(_ context.Context, e store.AuditEvent) error {
	f.audits = append(f.audits, e)
	return nil
}

// fakeDirectory answers the first read with a 429 and reports each account disabled, except
// "acct-07", which is enabled.
type fakeDirectory struct {
	mu        sync.Mutex
	reads     [][]string
	readAt    []time.Time
	throttled bool
	disabled  []string
	tapsGone  []string // accounts whose passes DeleteTAP deleted (every pass: empty id)
	states    map[string]directory.AccountState
	boundTo   []string // the Entra tenant each read and disable was bound to
}

func (d *fakeDirectory) AccountStates(ctx context.Context, _ string, refs []string) ([]directory.AccountState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.boundTo = append(d.boundTo, directory.TenantOf(ctx))
	if !d.throttled {
		d.throttled = true
		return nil, &directory.ThrottledError{Op: "read", RetryAfter: 1200 * time.Millisecond}
	}
	d.reads = append(d.reads, append([]string(nil), refs...))
	d.readAt = append(d.readAt, time.Now())
	out := make([]directory.AccountState, len(refs))
	for i, r := range refs {
		out[i] = directory.AccountState{ObjectID: r, Exists: true, Enabled: r == "acct-07" && !containsStr(d.disabled, r)}
		if st, ok := d.states[r]; ok {
			out[i] = st
		}
	}
	return out, nil
}

func (d *fakeDirectory) DeleteTAP(_ context.Context, _, objectID, tapID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if tapID != "" {
		return fmt.Errorf("DeleteTAP(%s, %q): the reconciler must delete every pass", objectID, tapID)
	}
	d.tapsGone = append(d.tapsGone, objectID)
	return nil
}

func (d *fakeDirectory) DisableAccount(ctx context.Context, _, objectID string, _ []string, scramble string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.boundTo = append(d.boundTo, directory.TenantOf(ctx))
	if directory.ValidPassword(scramble) != nil {
		return fmt.Errorf("weak scramble")
	}
	d.disabled = append(d.disabled, objectID)
	return nil
}

func (d *fakeDirectory) RemoveAssignments(context.Context, string, []string) error { return nil }

func containsStr(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

type noRuns struct{}

func (noRuns) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, fmt.Errorf("not expected")
}

func (noRuns) GetWorkflowHistory(context.Context, string, string, bool, enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	return nil
}

// A sweep reads only the recorded accounts, ten per read, no faster than its pace, waits out
// a 429's Retry-After, and disables the one enabled account.
func TestSweepPacesReadsAndWaitsOutThrottling(t *testing.T) {
	st := &fakeStore{entraTenant: "2f3e4d5c-0000-4000-8000-00000000c0de"}
	for i := range 25 {
		st.accounts = append(st.accounts, store.CreatedAccount{TenantID: "tnt_1", ApplicationID: "app_1", AccountID: fmt.Sprintf("acct-%02d", i), TechnicianID: "tec_1"})
	}
	dir := &fakeDirectory{}
	pace := 300 * time.Millisecond
	sw := &reconcile.Sweeper{Store: st, Directory: dir, Runs: noRuns{}, Pace: pace}
	start := time.Now()
	findings, err := sw.Sweep(context.Background(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 1200*time.Millisecond+2*pace-20*time.Millisecond {
		t.Errorf("sweep took %s: the Retry-After or the pace was not honoured", took)
	}
	// Three reads of 10, 10 and 5 for the sweep, one more for the full disable of acct-07.
	var sizes []int
	for _, r := range dir.reads {
		sizes = append(sizes, len(r))
		if len(r) > reconcile.AccountsPerRead {
			t.Errorf("a read of %d accounts", len(r))
		}
	}
	if fmt.Sprint(sizes) != "[10 1 10 5]" {
		t.Errorf("reads of %v accounts, want [10 1 10 5] (the single read is the disable's)", sizes)
	}
	for i := 1; i < len(dir.readAt); i++ {
		if i != 1 && dir.readAt[i].Sub(dir.readAt[i-1]) < pace-10*time.Millisecond {
			t.Errorf("reads %d and %d only %s apart", i-1, i, dir.readAt[i].Sub(dir.readAt[i-1]))
		}
	}
	if len(findings) != 1 || findings[0].Kind != reconcile.KindAccountEnabled || findings[0].AccountID != "acct-07" || findings[0].Error != "" {
		t.Fatalf("findings %v", findings)
	}
	if !strings.HasPrefix(findings[0].Done, "account disabled, signed out, password scrambled") {
		t.Errorf("done %q", findings[0].Done)
	}
	if fmt.Sprint(dir.disabled) != "[acct-07]" {
		t.Errorf("disabled %v", dir.disabled)
	}
	for _, tid := range dir.boundTo {
		if tid != st.entraTenant {
			t.Fatalf("a directory call bound to tenant %q, want the application's pinned %q (all: %v)", tid, st.entraTenant, dir.boundTo)
		}
	}
	if fmt.Sprint(dir.tapsGone) != "[acct-07]" || !strings.HasSuffix(findings[0].Done, "temporary access passes deleted") {
		t.Errorf("passes deleted of %v, done %q", dir.tapsGone, findings[0].Done)
	}
	if len(st.audits) != 1 || st.audits[0].Action != reconcile.KindAccountEnabled || st.audits[0].Target != "acct-07" {
		t.Errorf("audit events %+v", st.audits)
	}
}
