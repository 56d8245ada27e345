package siem_test

import (
	"context"
	"crypto/tls"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/siem"
	"github.com/jitaccess/jitaccess/store"
)

// worker runs the export the way every worker process does: under the deployment's SIEM lock.
func worker(t *testing.T, st *store.Store, dest siem.Destination) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = st.WhileLeader(ctx, store.LeaderSIEM, 100*time.Millisecond, nil, func(ctx context.Context) {
			_ = siem.Run(ctx, st, []siem.Destination{dest}, siem.Options{Batch: 7, Poll: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
		})
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// Two workers of one deployment (each its own connection pool to the same PostgreSQL) both
// run the export: the receiver gets every event exactly once, all from the worker holding
// the lock; when that worker stops, the other takes over from the cursor, again once each.
func TestTwoWorkersDeliverEachEventOnce(t *testing.T) {
	url := testenv.Postgres(t)
	sealer, err := seal.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	open := func() *store.Store {
		db, err := schema.Open(context.Background(), url, "", 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return store.New(db, sealer)
	}
	st1 := open()
	require.NoError(t, schema.Migrate(context.Background(), st1.DB()))
	st2 := open()

	rcv, pool := newReceiver(t)
	dest := func(host string) *siem.Syslog {
		return &siem.Syslog{Addr: rcv.addr, TLS: &tls.Config{RootCAs: pool, ServerName: "siem.test"}, Hostname: host}
	}
	stop1 := worker(t, st1, dest("jit-worker-1"))
	stop2 := worker(t, st2, dest("jit-worker-2"))

	record(t, st1, 0, 20)
	record(t, st2, 20, 20)
	require.Eventually(t, func() bool { return rcv.distinct() == 40 }, 60*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second) // time for a second sender, were there one, to deliver again
	first := senders(rcv)
	require.Len(t, first, 1, "frames came from %v", first)
	requireOnce(t, rcv, st1, 40)

	// The worker that delivers stops; the other one takes over from the cursor.
	leader, other := stop1, "jit-worker-2"
	if first["jit-worker-2"] > 0 {
		leader, other = stop2, "jit-worker-1"
	}
	leader()
	record(t, st1, 40, 10)
	require.Eventually(t, func() bool { return rcv.distinct() == 50 }, 60*time.Second, 50*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	requireOnce(t, rcv, st1, 50)
	require.Equal(t, 10, senders(rcv)[other], "the events after the hand-over come from the other worker")
}

// senders counts the frames by the hostname of the worker that sent them.
func senders(r *receiver) map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, f := range r.frames {
		if parts := strings.SplitN(f, " ", 4); len(parts) == 4 {
			out[parts[2]]++
		}
	}
	return out
}

func requireOnce(t *testing.T, r *receiver, st *store.Store, n int) {
	t.Helper()
	evs, err := st.AuditEventsAfter(context.Background(), 0, 1000)
	require.NoError(t, err)
	require.Len(t, evs, n)
	for _, e := range evs {
		require.Equal(t, 1, r.count(e.ID), "event %d (%s)", e.Seq, e.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.frames, n, "frames beyond one per event")
}
