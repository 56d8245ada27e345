package replay_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/replay"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/temporalclient"
	"github.com/jitaccess/jitaccess/timeline"
	"github.com/jitaccess/jitaccess/worker"
	"github.com/jitaccess/jitaccess/workflows"
)

const (
	roleGlobalAdmin = "62e90394-69f5-4237-9190-012177145e10"
	roleHelpdesk    = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
)

// TestRealServer runs a grant on the pinned Temporal dev server with a real worker (fake
// Store and Directory), then replays and audits its history as an auditor would: fetched
// from Temporal while running and after the end, and exported by the pinned CLI's
// `temporal workflow show --output json`.
func TestRealServer(t *testing.T) {
	cli, err := temporaldev.CLI()
	if err != nil {
		if testing.Short() {
			t.Skipf("short mode: %v", err)
		}
		t.Fatalf("temporal: %v", err)
	}
	sa := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sa[d.Name] = d.Type
	}
	srv, err := temporaldev.Start(context.Background(), temporaldev.Options{SearchAttributes: sa})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Dialled as the product dials: payloads encrypted by the codec.
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"JIT_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
			"JIT_TEMPORAL_ADDRESS": srv.Address, "JIT_TEMPORAL_NAMESPACE": srv.Namespace}[k]
	})
	require.NoError(t, err)
	opts, err := temporalclient.ClientOptions(cfg, temporalclient.Deps{})
	require.NoError(t, err)
	opts.Logger = quiet
	c, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	reader, err := temporalclient.ReaderConverter(cfg)
	require.NoError(t, err)
	dc := replay.WithDataConverter(reader)

	st := &activitiestest.Store{Entitlement: store.Entitlement{
		Allowed: true, RuleID: "ent_rule1", RuleName: "All admins → Contoso",
		Application: store.ApplicationConfig{ID: "app_1", TenantID: "tnt_1", Name: "Contoso", Status: "ready",
			Domain: "contoso.com", Roles: []string{roleGlobalAdmin, roleHelpdesk}},
		Technician: store.Technician{ID: "tec_alice", Email: "alice@msp.example", DisplayName: "Alice Smith"},
	}, Admins: []string{"tec_bob"}, Policy: &policy.Policy{Justification: policy.Optional}} // saved: no approval
	// The first disable attempt is throttled by Graph: the timeline must show the retry.
	dir := &activitiestest.Directory{DisableErrs: []error{&directory.ThrottledError{Op: "disable", RetryAfter: time.Second}}}
	w := worker.New(c, &activities.Activities{Store: st, Directory: dir, MaxAccessDuration: 4 * time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		worker.Options{TaskQueue: "jit-replay-test", StopTimeout: 5 * time.Second})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	in := workflows.AccessRequestInput{GrantID: "grt_audit1", TenantID: "tnt_1", ApplicationID: "app_1", TechnicianID: "tec_alice"}
	st.AddGrant(store.Grant{ID: in.GrantID, WorkflowID: workflows.WorkflowID(in.TenantID, in.ApplicationID, in.TechnicianID),
		TenantID: in.TenantID, ApplicationID: in.ApplicationID, TechnicianID: in.TechnicianID, Justification: "INC-4711 mailbox restore",
		RequestedAt: time.Now().UTC(), RequestedDuration: time.Hour})
	run, err := c.ExecuteWorkflow(ctx, workflows.StartOptions(in, "jit-replay-test"), workflows.WorkflowType, in)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.StatusQueryName)
		var s workflows.State
		return err == nil && v.Get(&s) == nil && s.Status == workflows.StatusActive
	}, 30*time.Second, 20*time.Millisecond)

	// While the grant is active: Temporal says it is running, so the partial history is fine…
	rep, err := replay.Fetch(ctx, c, run.GetID(), "", dc)
	require.NoError(t, err)
	assert.True(t, rep.Running)
	assert.Equal(t, string(workflows.StatusActive), rep.Status)
	assert.Equal(t, run.GetRunID(), rep.RunID)
	// …but the same history exported to a file cannot tell it was not cut short.
	running := export(t, cli, srv.Address, run.GetID(), run.GetRunID())
	_, err = replay.File(running, dc)
	divergence(t, err, replay.KindTruncated)

	upd, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), RunID: run.GetRunID(), UpdateName: workflows.ExtendUpdateName,
		Args:         []any{workflows.ExtendRequest{Duration: 30 * time.Minute, By: "tec_alice", ByKind: "technician"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	require.NoError(t, upd.Get(ctx, nil))
	require.NoError(t, c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.RevokeSignalName,
		workflows.RevokeSignal{By: "tec_bob", ByKind: "admin", Reason: "incident closed"}))
	var res workflows.Result
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, workflows.StatusRevoked, res.Status)

	// The whole history, from Temporal and from the CLI's export, replays cleanly.
	rep, err = replay.Fetch(ctx, c, run.GetID(), run.GetRunID(), dc)
	require.NoError(t, err)
	assert.False(t, rep.Running)
	assert.True(t, rep.ResultChecked)
	assert.Equal(t, string(workflows.StatusRevoked), rep.Status)
	assert.Equal(t, 4, rep.ActivitiesChecked, "PrepareAccount, EnsureAccount, AssignRoles, DisableAccount")
	file := export(t, cli, srv.Address, run.GetID(), run.GetRunID())
	rep, err = replay.File(file, dc)
	require.NoError(t, err, "the pinned CLI's `workflow show --output json` is what replay.File reads")
	assert.Equal(t, run.GetID(), rep.WorkflowID)

	_, err = replay.Fetch(ctx, c, "access/tnt_1/app_1/nobody", "", dc)
	require.ErrorContains(t, err, `no workflow "access/tnt_1/app_1/nobody"`)

	// The timeline of the revoked grant, from the same history.
	h, _, err := replay.FetchHistory(ctx, c, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	entries, err := timeline.Timeline(h, reader)
	require.NoError(t, err)
	var text, jsonLines strings.Builder
	for _, e := range entries {
		text.WriteString(e.Text() + "\n")
		jsonLines.WriteString(e.JSON() + "\n")
	}
	t.Logf("timeline:\n%s", text.String())
	byKind := map[string]timeline.Entry{}
	for _, e := range entries {
		if _, seen := byKind[e.Kind]; !seen {
			byKind[e.Kind] = e
		}
	}
	assert.Equal(t, "technician:tec_alice", byKind[timeline.KindRequested].Actor)
	assert.Contains(t, byKind[timeline.KindRequested].Detail, "grt_audit1")
	assert.NotContains(t, text.String(), "INC-4711", "the justification is the database's, not the history's")
	assert.Contains(t, byKind[timeline.KindEntitled].Detail, `rule "All admins → Contoso" (ent_rule1)`)
	assert.Contains(t, byKind[timeline.KindEntitled].Detail, "alice@msp.example")
	assert.Contains(t, byKind[timeline.KindEntitled].Detail, "for 1h0m0s")
	upn := "jit-alice_msp.example@contoso.com"
	assert.Contains(t, byKind[timeline.KindAccount].Detail, upn)
	assert.Contains(t, byKind[timeline.KindRolesAssigned].Detail, "Global Administrator ("+roleGlobalAdmin+")")
	assert.Contains(t, byKind[timeline.KindRolesAssigned].Detail, "Helpdesk Administrator")
	assert.Contains(t, byKind[timeline.KindActive].Detail, upn)
	assert.Equal(t, "technician:tec_alice", byKind[timeline.KindExtended].Actor)
	assert.Contains(t, byKind[timeline.KindExtended].Detail, "extended by 30m0s")
	assert.Equal(t, "admin:tec_bob", byKind[timeline.KindRevokeRequested].Actor)
	assert.Contains(t, byKind[timeline.KindRevokeRequested].Detail, "incident closed")
	assert.Equal(t, "Throttled", byKind[timeline.KindRetry].Data["failure_type"])
	assert.Contains(t, byKind[timeline.KindRetry].Detail, "DisableAccount attempt 2")
	assert.Contains(t, byKind[timeline.KindDisabled].Detail, upn+" disabled")
	assert.Contains(t, byKind[timeline.KindDisabled].Detail, "2 role assignments removed")
	assert.Equal(t, "admin:tec_bob", byKind[timeline.KindEnded].Actor)
	assert.Contains(t, byKind[timeline.KindEnded].Detail, "revoked by tec_bob")
	assert.False(t, byKind[timeline.KindDisabled].Time.Before(byKind[timeline.KindRevokeRequested].Time), "disabled after the revoke")

	// `temporal workflow show` shows encrypted payloads only (search attributes aside).
	shown, err := replay.ReadFile(file)
	require.NoError(t, err)
	payloads := 0
	require.NoError(t, proxy.VisitPayloads(ctx, shown, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				payloads++
				assert.True(t, temporalclient.IsEncrypted(p), "plain payload in the history: %s", p.GetMetadata())
			}
			return ps, nil
		}}))
	assert.Greater(t, payloads, 10)
	_, err = replay.File(file)
	require.Error(t, err, "without the key the history does not decode")

	// No secret anywhere: neither the password the technician got nor the scrambles.
	exported, err := os.ReadFile(file)
	require.NoError(t, err)

	require.NotEmpty(t, dir.Passwords())
	for _, pw := range dir.Passwords() {
		assert.NotContains(t, text.String(), pw)
		assert.NotContains(t, jsonLines.String(), pw)
		assert.NotContains(t, string(exported), pw)
	}
}

// export writes the run's history with the pinned CLI, as an auditor would.
func export(t *testing.T, cli, address, workflowID, runID string) string {
	t.Helper()
	out, err := exec.Command(cli, "workflow", "show", "--address", address, "--namespace", "default",
		"--workflow-id", workflowID, "--run-id", runID, "--output", "json").Output()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "history.json")
	require.NoError(t, os.WriteFile(path, out, 0o644))
	return path
}
