package retention_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/replay"
	"github.com/jitaccess/jitaccess/retention"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

func tiny(ctx workflow.Context, n int) (int, error) {
	if err := workflow.Sleep(ctx, time.Millisecond); err != nil {
		return 0, err
	}
	return n * 2, nil
}

// A closed grant's history is written once to the archive, in the JSON form the replay and
// audit commands read, with every event of the run.
func TestArchiveWritesClosedHistories(t *testing.T) {
	srv := testenv.Temporal(t, temporaldev.Options{})
	ctx := context.Background()
	c, err := client.Dial(client.Options{HostPort: srv.Address, Namespace: srv.Namespace})
	require.NoError(t, err)
	defer c.Close()
	w := worker.New(c, "archive-test", worker.Options{})
	w.RegisterWorkflowWithOptions(tiny, workflow.RegisterOptions{Name: "Tiny"})
	require.NoError(t, w.Start())
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "access/ten_1/app_1/tec_1", TaskQueue: "archive-test"}, "Tiny", 21)
	require.NoError(t, err)
	var out int
	require.NoError(t, run.Get(ctx, &out))

	db := testenv.MigratedDB(t, "postgres")
	sealer, err := seal.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	st := store.New(db, sealer)
	now := time.Now().UTC()
	tn, err := st.CreateTenant(ctx, "Contoso")
	require.NoError(t, err)
	tech, _, err := st.CreateTechnician(ctx, "alice@msp.example", "Alice", "")
	require.NoError(t, err)
	app, err := st.CreateApplication(ctx, tn.ID, store.NewApplication{Name: "Entra", Type: "web", Credentials: "entra_oidc"})
	require.NoError(t, err)
	pg, err := st.CreatePendingGrant(ctx, store.PendingGrant{WorkflowID: run.GetID(), TenantID: tn.ID, ApplicationID: app.ID,
		TechnicianID: tech.ID, RequestedAt: now.Add(-time.Hour)})
	require.NoError(t, err)
	require.NoError(t, st.AttachRun(ctx, pg.ID, run.GetRunID()))
	require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: pg.ID, RunID: run.GetRunID(), Status: "expired", EndedAt: now}))
	a := &retention.Archiver{Dir: t.TempDir(), Grants: st, Fetch: func(ctx context.Context, wid, rid string) (*historypb.History, bool, error) {
		return replay.FetchHistory(ctx, c, wid, rid)
	}}
	n, err := a.ArchiveClosed(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	g, err := st.Grant(ctx, pg.ID)
	require.NoError(t, err)
	path := a.Path(g)
	require.FileExists(t, path)
	h, err := replay.ReadFile(path)
	require.NoError(t, err)
	live, _, err := replay.FetchHistory(ctx, c, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, len(live.GetEvents()), len(h.GetEvents()))
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, h.GetEvents()[len(h.GetEvents())-1].GetEventType())

	info, err := os.Stat(path)
	require.NoError(t, err)
	n, err = a.ArchiveClosed(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "written once")
	again, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, info.ModTime(), again.ModTime())
}
