package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/store"
)

// statementLog keeps every statement sent, in order.
type statementLog struct {
	mu  sync.Mutex
	log []string
}

func (h *statementLog) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	h.mu.Lock()
	h.log = append(h.log, e.Query)
	h.mu.Unlock()
	return ctx
}

func (h *statementLog) AfterQuery(context.Context, *bun.QueryEvent) {}

func (h *statementLog) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.log
	h.log = nil
	return out
}

// The chain head is one row every audited write of the deployment locks: a grant's record
// locks its own row first and the head last, for as few statements as possible.
func TestRecordTransitionLocksTheChainHeadLast(t *testing.T) {
	db := testenv.MigratedDB(t, "postgres")
	st := store.New(db, newSealer(t))
	f := setup(t, st)
	ctx := context.Background()
	g, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "wf-lock", TenantID: f.tenant.ID,
		ApplicationID: f.app.ID, TechnicianID: f.tech.ID, Justification: "t", Duration: time.Hour})
	require.NoError(t, err)
	h := &statementLog{}
	db.AddQueryHook(h)
	require.NoError(t, st.RecordTransition(ctx, store.GrantUpdate{GrantID: g.ID, Status: "provisioning"},
		&store.AuditEvent{ID: "aud-lock-1", TenantID: f.tenant.ID, Action: "grant.requested", Target: g.ID}))
	stmts := h.take()
	head, grant := -1, -1
	for i, q := range stmts {
		switch {
		case head < 0 && strings.Contains(q, "audit_chain_heads"):
			head = i
		case grant < 0 && strings.Contains(q, `"grants"`):
			grant = i
		}
	}
	require.NotEqual(t, -1, head, "no chain head statement in %q", stmts)
	require.NotEqual(t, -1, grant, "no grant statement in %q", stmts)
	require.Less(t, grant, head, "the chain head is locked before the grant's row: %q", stmts)
	// Lock, insert, advance, commit.
	require.LessOrEqual(t, len(stmts)-head, 4, "statements while holding the chain head: %q", stmts[head:])

	// A repeat (an activity's retry) logs nothing twice and leaves the head where it was.
	require.NoError(t, st.RecordTransition(ctx, store.GrantUpdate{GrantID: g.ID, Status: "provisioning"},
		&store.AuditEvent{ID: "aud-lock-1", TenantID: f.tenant.ID, Action: "grant.requested", Target: g.ID}))
	evs, err := st.AuditEventsAfter(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
}

// A grant's record and the reconciler's termination of the same grant, at once, many times:
// both lock the grant's row before the chain head, so neither is chosen as a deadlock victim.
func TestRecordAndTerminateOfOneGrantDoNotDeadlock(t *testing.T) {
	db := testenv.MigratedDB(t, "postgres")
	st := store.New(db, newSealer(t))
	f := setup(t, st)
	ctx := context.Background()
	const n = 30
	ids := make([]string, n)
	for i := range ids {
		tech, _, err := st.CreateTechnician(ctx, fmt.Sprintf("dl%d@msp.example", i), "T", "")
		require.NoError(t, err)
		require.NoError(t, st.AddMember(ctx, f.tenant.ID, tech.ID))
		g, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: fmt.Sprint("wf-dl-", i), TenantID: f.tenant.ID,
			ApplicationID: f.app.ID, TechnicianID: tech.ID, Justification: "t", Duration: time.Hour})
		require.NoError(t, err)
		ids[i] = g.ID
	}
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- st.RecordTransition(ctx, store.GrantUpdate{GrantID: id, Status: "active"},
				&store.AuditEvent{ID: fmt.Sprint("aud-dl-rec-", i), TenantID: f.tenant.ID, Action: "grant.activated", Target: id})
		}()
		go func() {
			defer wg.Done()
			_, err := st.TerminateGrant(ctx, id, "run terminated", time.Time{},
				store.AuditEvent{ID: fmt.Sprint("aud-dl-term-", i), TenantID: f.tenant.ID, Action: "grant.terminated", Target: id})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, id := range ids {
		g, err := st.Grant(ctx, id)
		require.NoError(t, err)
		require.Contains(t, []string{store.StatusTerminated, "active"}, g.Status)
	}
}
