package store_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// Two workers' stores on one PostgreSQL: one runs the job at a time; when the leader's lock
// connection is killed (its worker lost the database), its job is cancelled and the other
// worker takes over.
func TestWhileLeaderRunsOnePerDeploymentAndHandsOver(t *testing.T) {
	url := testenv.Postgres(t)
	sealer, err := seal.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	var stores [2]*store.Store
	for i := range stores {
		db, err := schema.Open(context.Background(), url, "", 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		stores[i] = store.New(db, sealer)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var running, maxRunning atomic.Int32
	var runs [2]atomic.Int32
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			_ = st.WhileLeader(ctx, store.LeaderRetention, 100*time.Millisecond, nil, func(ctx context.Context) {
				runs[i].Add(1)
				n := running.Add(1)
				for {
					if m := maxRunning.Load(); n <= m || maxRunning.CompareAndSwap(m, n) {
						break
					}
				}
				<-ctx.Done()
				running.Add(-1)
			})
		})
	}
	defer func() { cancel(); wg.Wait() }()

	require.Eventually(t, func() bool { return running.Load() == 1 }, 20*time.Second, 20*time.Millisecond)
	time.Sleep(time.Second)
	require.Equal(t, int32(1), maxRunning.Load(), "both workers ran the job")
	leader := 0
	if runs[1].Load() == 1 {
		leader = 1
	}
	require.Equal(t, int32(0), runs[1-leader].Load())

	// The leader's lock connection dies.
	_, err = stores[0].DB().ExecContext(context.Background(),
		"SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return runs[1-leader].Load() >= 1 || runs[leader].Load() >= 2 }, 20*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return running.Load() == 1 }, 20*time.Second, 20*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, int32(1), maxRunning.Load(), "two workers ran the job at once")
}

// On SQLite (one process owns the file) the job runs once per store however often it is asked.
func TestWhileLeaderSQLiteRunsOnce(t *testing.T) {
	db := testenv.MigratedDB(t, "sqlite")
	sealer, err := seal.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	st := store.New(db, sealer)
	ctx, cancel := context.WithCancel(context.Background())
	var running, total atomic.Int32
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			_ = st.WhileLeader(ctx, store.LeaderSIEM, 50*time.Millisecond, nil, func(ctx context.Context) {
				total.Add(1)
				running.Add(1)
				<-ctx.Done()
			})
		})
	}
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, int32(1), running.Load())
	cancel()
	wg.Wait()
	require.Equal(t, int32(1), total.Load())
}
