package workflows_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/worker"
	"github.com/jitaccess/jitaccess/workflows"
	"github.com/jitaccess/jitaccess/workflows/approvalstage"
)

// -record rewrites testdata/*.json with the histories of TestRealServer's scenarios.
var record = flag.Bool("record", false, "write the histories recorded against the dev server to testdata/")

func newReplayer(t *testing.T) sdkworker.WorkflowReplayer {
	t.Helper()
	r := sdkworker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowType})
	return r
}

// Every committed history must replay against the current code: a change to the command
// sequence without workflow.GetVersion fails here.
func TestReplayRecordedHistories(t *testing.T) {
	// testdata/*.json are today's code; testdata/<version>/ would hold the histories of
	// earlier versions that runs still in flight may have.
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	older, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	require.NoError(t, err)
	files = append(files, older...)
	if len(files) == 0 {
		t.Skip("no recorded histories in testdata/ (record them with: go test ./workflows/ -run TestRealServer -record)")
	}
	for _, file := range files {
		name, _ := filepath.Rel("testdata", file)
		t.Run(name, func(t *testing.T) {
			require.NoError(t, newReplayer(t).ReplayWorkflowHistoryFromJSONFile(quietLogger(), file))
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.NotContains(t, string(b), "password", "histories carry no password field")
		})
	}
}

// A history with a command the code does not issue must be refused (the replay test can fail).
func TestReplayDetectsDivergence(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "expired.json"))
	if os.IsNotExist(err) {
		t.Skip("no recorded histories")
	}
	require.NoError(t, err)
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	// Rename the first regular or local activity: the code schedules another one.
	changed := false
	for _, e := range h.Events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			a.ActivityType.Name = "SomethingElse"
			changed = true
			break
		}
	}
	require.True(t, changed)
	err = newReplayer(t).ReplayWorkflowHistory(quietLogger(), h)
	require.Error(t, err)
	assert.Contains(t, strings.ToLower(err.Error()), "nondetermin")
}

func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// server is the pinned Temporal dev server, started once for TestRealServer.
func startServer(t *testing.T) client.Client {
	t.Helper()
	if _, err := temporaldev.CLI(); err != nil {
		if testing.Short() {
			t.Skipf("short mode: %v", err)
		}
		t.Fatalf("temporal: %v", err)
	}
	sa := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sa[d.Name] = d.Type
	}
	s, err := temporaldev.Start(context.Background(), temporaldev.Options{SearchAttributes: sa})
	require.NoError(t, err)
	t.Cleanup(s.Stop)
	c, err := client.Dial(client.Options{HostPort: s.Address, Namespace: s.Namespace, Logger: quietLogger()})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

type realEnv struct {
	t   *testing.T
	c   client.Client
	st  *activitiestest.Store
	dir *activitiestest.Directory
	tq  string
	w   sdkworker.Worker
}

// startWorker starts the grant worker; register adds activities registered elsewhere in
// production (the approval decision).
func (e *realEnv) startWorker(register ...func(sdkworker.Worker)) {
	e.t.Helper()
	e.w = worker.New(e.c, &activities.Activities{Store: e.st, Directory: e.dir, MaxAccessDuration: 4 * time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		worker.Options{TaskQueue: e.tq, StopTimeout: 5 * time.Second})
	for _, r := range register {
		r(e.w)
	}
	require.NoError(e.t, e.w.Start())
}

func (e *realEnv) stopWorker() {
	if e.w != nil {
		e.w.Stop()
		e.w = nil
	}
}

// start creates the grant row (the API's part) and starts its run.
func (e *realEnv) start(tech string, d time.Duration) client.WorkflowRun {
	e.t.Helper()
	in := input()
	in.TechnicianID, in.GrantID = tech, "grt_"+tech
	e.st.AddGrant(store.Grant{ID: in.GrantID, WorkflowID: workflows.WorkflowID(in.TenantID, in.ApplicationID, tech), TenantID: in.TenantID,
		ApplicationID: in.ApplicationID, TechnicianID: tech, RequestedAt: time.Now().UTC(), RequestedDuration: d})
	run, err := e.c.ExecuteWorkflow(context.Background(), workflows.StartOptions(in, e.tq), workflows.WorkflowType, in)
	require.NoError(e.t, err)
	return run
}

func (e *realEnv) waitStatus(run client.WorkflowRun, status workflows.Status) workflows.State {
	e.t.Helper()
	var s workflows.State
	require.Eventually(e.t, func() bool {
		v, err := e.c.QueryWorkflow(context.Background(), run.GetID(), run.GetRunID(), workflows.StatusQueryName)
		if err != nil {
			return false
		}
		return v.Get(&s) == nil && s.Status == status
	}, 30*time.Second, 20*time.Millisecond, "waiting for status %s", status)
	return s
}

func (e *realEnv) result(run client.WorkflowRun) workflows.Result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var res workflows.Result
	require.NoError(e.t, run.Get(ctx, &res))
	return res
}

// history fetches the run's history, checks it holds no password and replays it against
// the current code; with -record it is written to testdata/<name>.json.
func (e *realEnv) history(run client.WorkflowRun, name string) *historypb.History {
	e.t.Helper()
	it := e.c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(e.t, err)
		h.Events = append(h.Events, ev)
	}
	compact, err := protojson.Marshal(h)
	require.NoError(e.t, err)
	// protojson's own spacing is deliberately unstable; indent with encoding/json instead.
	var buf bytes.Buffer
	require.NoError(e.t, json.Indent(&buf, compact, "", "  "))
	b := buf.Bytes()
	for _, pw := range e.dir.Passwords() {
		require.NotContains(e.t, string(b), pw, "a password reached the workflow history")
	}
	require.NoError(e.t, newReplayer(e.t).ReplayWorkflowHistory(quietLogger(), h), "replay of %s", name)
	if *record {
		require.NoError(e.t, os.MkdirAll("testdata", 0o755))
		require.NoError(e.t, os.WriteFile(filepath.Join("testdata", name+".json"), append(b, '\n'), 0o644))
	}
	return h
}

// TestRealServer runs grants on the pinned Temporal dev server with a real worker (fake
// Store and Directory): the worker restarting mid-grant, histories free of secrets that
// replay against the current code, and (with -record) the histories committed in testdata/.
func TestRealServer(t *testing.T) {
	c := startServer(t)
	newEnv := func(t *testing.T) *realEnv {
		st := &activitiestest.Store{Entitlement: newFixture(t).st.Entitlement}
		st.Entitlement.Application.SignInMethod = "password_and_tap" // a new application's default
		e := &realEnv{t: t, c: c, st: st, dir: &activitiestest.Directory{}, tq: "jit-test-" + strings.ReplaceAll(t.Name(), "/", "-")}
		t.Cleanup(e.stopWorker)
		return e
	}

	t.Run("expiry", func(t *testing.T) {
		e := newEnv(t)
		e.startWorker()
		run := e.start("tec_expiry", 2*time.Second)
		res := e.result(run)
		assert.Equal(t, workflows.StatusExpired, res.Status)
		acct, _ := e.dir.Account(upn)
		assert.False(t, acct.Enabled)
		e.history(run, "expired")
	})

	t.Run("worker restart mid-grant", func(t *testing.T) {
		e := newEnv(t)
		e.startWorker()
		run := e.start("tec_restart", 3*time.Second)
		active := e.waitStatus(run, workflows.StatusActive)
		// The worker goes away while the grant sleeps; a fresh one (empty cache) must
		// rebuild the workflow from its history to fire the timer and disable.
		e.stopWorker()
		e.startWorker()
		res := e.result(run)
		assert.Equal(t, workflows.StatusExpired, res.Status)
		assert.Equal(t, active.ExpiresAt, res.ExpiresAt)
		acct, _ := e.dir.Account(upn)
		assert.False(t, acct.Enabled)
		e.history(run, "worker_restart")
	})

	t.Run("extend and revoke", func(t *testing.T) {
		e := newEnv(t)
		e.startWorker()
		run := e.start("tec_revoke", time.Hour)
		active := e.waitStatus(run, workflows.StatusActive)

		h, err := c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
			WorkflowID: run.GetID(), RunID: run.GetRunID(), UpdateName: workflows.ExtendUpdateName,
			Args: []any{workflows.ExtendRequest{Duration: 30 * time.Minute, By: "tec_revoke"}}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		require.NoError(t, err)
		var ext workflows.ExtendResult
		require.NoError(t, h.Get(context.Background(), &ext))
		assert.Equal(t, active.ExpiresAt.Add(30*time.Minute), ext.ExpiresAt)

		h, err = c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
			WorkflowID: run.GetID(), RunID: run.GetRunID(), UpdateName: workflows.ExtendUpdateName,
			Args: []any{workflows.ExtendRequest{Duration: 24 * time.Hour}}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(context.Background(), nil)
		}
		assertRejected(t, err, workflows.ErrTypeDurationExceedsMaximum)

		// A second start while the grant lives is refused by Temporal (the API then returns the
		// live grant).
		in := input()
		in.TechnicianID, in.GrantID = "tec_revoke", "grt_again"
		_, err = c.ExecuteWorkflow(context.Background(), workflows.StartOptions(in, e.tq), workflows.WorkflowType, in)
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		require.ErrorAs(t, err, &started)
		assert.Equal(t, run.GetRunID(), started.RunId)

		require.NoError(t, c.SignalWorkflow(context.Background(), run.GetID(), run.GetRunID(), workflows.RevokeSignalName,
			workflows.RevokeSignal{By: "tec_admin", ByKind: "admin", Reason: "done"}))
		res := e.result(run)
		assert.Equal(t, workflows.StatusRevoked, res.Status)
		assert.Equal(t, "tec_admin", res.RevokedBy)
		require.Len(t, res.Extensions, 1)
		e.history(run, "extended_revoked")
	})

	t.Run("denied", func(t *testing.T) {
		e := newEnv(t)
		e.st.Entitlement = store.Entitlement{Allowed: false, Reason: "no rule"}
		e.startWorker()
		run := e.start("tec_denied", time.Hour)
		res := e.result(run)
		assert.Equal(t, workflows.StatusDenied, res.Status)
		assert.Empty(t, e.dir.Ops())
		e.history(run, "denied")
	})

	t.Run("compensation", func(t *testing.T) {
		e := newEnv(t)
		e.dir.AssignErrs = []error{&directory.GraphError{Op: "assign", Status: 400, Code: "Request_BadRequest", Message: "bad role"}}
		e.dir.DisableErrs = []error{&directory.ThrottledError{Op: "disable", RetryAfter: time.Second}}
		e.startWorker()
		run := e.start("tec_failed", time.Hour)
		res := e.result(run)
		assert.Equal(t, workflows.StatusFailed, res.Status)
		assert.Equal(t, []string{"EnsureAccount", "AssignRoles", "ListAssignments", "DisableAccount", "ListAssignments", "DisableAccount"}, e.dir.Ops())
		e.history(run, "failed_compensated")
	})

	t.Run("disable blocked", func(t *testing.T) {
		e := newEnv(t)
		e.startWorker()
		run := e.start("tec_blocked", 2*time.Second)
		e.waitStatus(run, workflows.StatusActive)
		e.dir.SetDisableErr(directory.ErrAuthorizationLost)
		// The blocked attempt records itself; the next one comes a minute later (NextRetryDelay).
		require.Eventually(t, func() bool { return countOf(e.st.Actions(), workflows.ActionDisableBlocked) == 1 }, time.Minute, 50*time.Millisecond)
		e.dir.SetDisableErr(nil)
		res := e.result(run)
		assert.Equal(t, workflows.StatusExpired, res.Status)
		assert.Contains(t, res.Failure, "disabled late")
		assert.Equal(t, 1, countOf(e.st.Actions(), workflows.ActionDisableBlocked))
		h := e.history(run, "disable_blocked")
		scheduled := 0
		for _, ev := range h.Events {
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == workflows.DisableAccountActivity {
				scheduled++
			}
		}
		assert.Equal(t, 1, scheduled, "the server retried the disable: no workflow loop, no history growth")
	})

	t.Run("extension approved", func(t *testing.T) {
		e := newEnv(t)
		p := policy.Default(nil)
		p.Approval = policy.Approval{Required: true, ApproverGroupIDs: []string{}, ApprovalsNeeded: 1, Timeout: policy.Duration(8 * time.Hour)}
		e.st.Policy = &p
		e.startWorker(func(w sdkworker.Worker) {
			w.RegisterActivityWithOptions(func(_ context.Context, in approvalstage.RecordApprovalDecisionInput) (approvalstage.RecordApprovalDecisionResult, error) {
				return approvalstage.RecordApprovalDecisionResult{Recorded: true, Decision: in.Decision}, nil
			}, activity.RegisterOptions{Name: approvalstage.RecordApprovalDecisionActivity})
		})
		run := e.start("tec_reapproval", time.Hour)
		e.waitStatus(run, workflows.StatusPendingApproval)
		decide := func(request string) {
			t.Helper()
			h, err := c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
				WorkflowID: run.GetID(), RunID: run.GetRunID(), UpdateName: approvalstage.ApproveUpdateName,
				Args:         []any{approvalstage.ApprovalDecisionRequest{GrantID: "grt_tec_reapproval", ApproverID: "tec_admin", Request: request}},
				WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			require.NoError(t, err)
			require.NoError(t, h.Get(context.Background(), nil))
		}
		decide("")
		active := e.waitStatus(run, workflows.StatusActive)

		// Past the approved hour: sent to the approvers, answered approval_required.
		h, err := c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
			UpdateID: "ext-1", WorkflowID: run.GetID(), RunID: run.GetRunID(), UpdateName: workflows.ExtendUpdateName,
			Args: []any{workflows.ExtendRequest{Duration: 30 * time.Minute, By: "tec_reapproval"}}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(context.Background(), nil)
		}
		assertRejected(t, err, workflows.ErrTypeApprovalRequired)
		pending := e.waitStatus(run, workflows.StatusActive)
		require.NotNil(t, pending.PendingExtension)
		assert.Equal(t, active.ExpiresAt, pending.ExpiresAt)

		decide("extension:ext-1")
		require.Eventually(t, func() bool {
			v, err := c.QueryWorkflow(context.Background(), run.GetID(), run.GetRunID(), workflows.StatusQueryName)
			var s workflows.State
			return err == nil && v.Get(&s) == nil && len(s.Extensions) == 1
		}, 30*time.Second, 20*time.Millisecond)

		require.NoError(t, c.SignalWorkflow(context.Background(), run.GetID(), run.GetRunID(), workflows.RevokeSignalName,
			workflows.RevokeSignal{By: "tec_admin", ByKind: "admin", Reason: "done"}))
		res := e.result(run)
		assert.Equal(t, workflows.StatusRevoked, res.Status)
		require.Len(t, res.Extensions, 1)
		assert.Equal(t, []string{"tec_admin"}, res.Extensions[0].ApprovedBy)
		assert.Equal(t, active.ExpiresAt.Add(30*time.Minute), res.Extensions[0].ExpiresAt)
		e.history(run, "extension_approved")
	})

	t.Run("refused", func(t *testing.T) {
		e := newEnv(t)
		e.startWorker()
		in := input()
		in.GrantID, in.TechnicianID = "grt_forged", "tec_forged"
		run, err := c.ExecuteWorkflow(context.Background(), workflows.StartOptions(in, e.tq), workflows.WorkflowType, in)
		require.NoError(t, err)
		res := e.result(run)
		assert.NotEmpty(t, res.Refused)
		assert.Empty(t, e.dir.Ops())
		assert.Equal(t, []string{workflows.ActionRefused}, e.st.Actions())
		e.history(run, "refused")
	})
}

func assertRejected(t *testing.T, err error, errType string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, errType, appErr.Type())
}
