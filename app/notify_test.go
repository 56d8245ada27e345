package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// publishLog records who queued which grant event.
type publishLog struct {
	mu  sync.Mutex
	got map[string][]string // grant id → runners that queued expiring_soon for it
}

type recordingPublisher struct {
	name string
	log  *publishLog
}

func (p recordingPublisher) PublishGrantEvent(_ context.Context, n workflows.GrantNotification) (int, error) {
	p.log.mu.Lock()
	defer p.log.mu.Unlock()
	if n.Event == workflows.NotifyExpiringSoon {
		p.log.got[n.GrantID] = append(p.log.got[n.GrantID], p.name)
	}
	return 1, nil
}

// Two workers of one deployment on one PostgreSQL database: only the one holding the scan's
// lock announces expiring_soon, so each grant due is announced by one worker.
func TestExpiringSoonIsScannedByOneWorker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := testenv.Postgres(t)
	sealer, err := seal.New([]byte(strings.Repeat("k", seal.KeySize)))
	require.NoError(t, err)
	open := func() *store.Store {
		db, err := schema.Open(ctx, url, "", 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		require.NoError(t, schema.Migrate(ctx, db))
		return store.New(db, sealer)
	}
	st1, st2 := open(), open()

	tenant, err := st1.CreateTenant(ctx, "Contoso")
	require.NoError(t, err)
	app, err := st1.CreateApplication(ctx, tenant.ID, store.NewApplication{Name: "Entra ID", Type: "web", Credentials: "entra_oidc"})
	require.NoError(t, err)
	var grants []string
	for _, email := range []string{"alice@msp.example", "carol@msp.example"} {
		tech, _, err := st1.CreateTechnician(ctx, email, email, store.RoleTechnician)
		require.NoError(t, err)
		g, err := st1.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: "wf-" + tech.ID, TenantID: tenant.ID,
			ApplicationID: app.ID, TechnicianID: tech.ID})
		require.NoError(t, err)
		_, err = st1.DB().NewRaw("UPDATE grants SET status = 'active', expires_at = ? WHERE id = ?",
			time.Now().Add(10*time.Minute).UTC(), g.ID).Exec(ctx)
		require.NoError(t, err)
		grants = append(grants, g.ID)
	}

	log := &publishLog{got: map[string][]string{}}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var wg sync.WaitGroup
	for i, st := range []*store.Store{st1, st2} {
		a := &App{Store: st, Log: logger}
		pub := recordingPublisher{name: []string{"w1", "w2"}[i], log: log}
		wg.Go(func() { a.runExpiringSoon(ctx, pub, 15*time.Minute, 50*time.Millisecond) })
	}
	require.Eventually(t, func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		return len(log.got) == len(grants) && len(log.got[grants[0]]) >= 3 && len(log.got[grants[1]]) >= 3
	}, 10*time.Second, 20*time.Millisecond, "the leader scans every tick")
	time.Sleep(300 * time.Millisecond) // a second scanner, were there one, would have announced by now
	cancel()
	wg.Wait()

	scanners := map[string]bool{}
	for _, g := range grants {
		for _, w := range log.got[g] {
			scanners[w] = true
		}
	}
	require.Len(t, scanners, 1, "expiring_soon announced by more than one worker: %v", log.got)
}
