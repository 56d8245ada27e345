package replay_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/replay"
	"github.com/jitaccess/jitaccess/workflows"
)

// golden is the directory of the histories recorded by the workflows package's real-server test.
var golden = filepath.Join("..", "workflows", "testdata")

func load(t *testing.T, name string) *historypb.History {
	t.Helper()
	h, err := replay.ReadFile(filepath.Join(golden, name))
	require.NoError(t, err)
	return h
}

// divergence asserts err is a *replay.Divergence of kind k and returns it.
func divergence(t *testing.T, err error, k replay.Kind) *replay.Divergence {
	t.Helper()
	require.Error(t, err)
	var d *replay.Divergence
	require.True(t, errors.As(err, &d), "want a *replay.Divergence, got %T: %v", err, err)
	assert.Equal(t, k, d.Kind, "explanation: %s", d.Explanation)
	t.Logf("%s (event %d): %s", d.Kind, d.EventID, d.Explanation)
	return d
}

// editPayload decodes a JSON payload into a map, lets edit change it, and re-encodes it.
func editPayload(t *testing.T, p *commonpb.Payload, edit func(map[string]any)) {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(p.Data, &m))
	edit(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	p.Data = b
}

// Every committed golden history replays cleanly, with every activity input and the result checked.
func TestGoldenHistoriesReplayCleanly(t *testing.T) {
	files := goldenFiles(t)
	require.NotEmpty(t, files, "no golden histories in %s", golden)
	for _, file := range files {
		name, _ := filepath.Rel(golden, file)
		t.Run(name, func(t *testing.T) {
			rep, err := replay.File(file)
			require.NoError(t, err)
			assert.Equal(t, workflows.WorkflowType, rep.WorkflowType)
			assert.True(t, rep.ResultChecked)
			assert.False(t, rep.Running)
			assert.NotEmpty(t, rep.Status)
			if base := filepath.Base(file); base != "denied.json" && base != "refused.json" {
				assert.Positive(t, rep.ActivitiesChecked)
			}
			assert.Regexp(t, `^ok: AccessRequest access/\S+ run \S+ replays cleanly against this build \(\d+ events, ended \w+, \d+ activity inputs and the result match\)$`, rep.String())
		})
	}
}

func TestOtherWorkflowType(t *testing.T) {
	h := load(t, "expired.json")
	h.Events[0].GetWorkflowExecutionStartedEventAttributes().WorkflowType.Name = "OnboardCustomer"
	_, err := replay.History(h)
	d := divergence(t, err, replay.KindWrongType)
	assert.Contains(t, d.Error(), `workflow type "OnboardCustomer", not "AccessRequest"`)
}

func TestTamperedHistory(t *testing.T) {
	t.Run("revoker changed", func(t *testing.T) {
		h := load(t, "extended_revoked.json")
		changed := false
		for _, e := range h.Events {
			if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.SignalName == workflows.RevokeSignalName {
				editPayload(t, a.Input.Payloads[0], func(m map[string]any) { m["By"] = "tec_mallory" })
				changed = true
			}
		}
		require.True(t, changed)
		_, err := replay.History(h)
		d := divergence(t, err, replay.KindAltered)
		assert.Contains(t, d.Error(), `RevokedBy "tec_admin"`)
		assert.Contains(t, d.Error(), `RevokedBy "tec_mallory"`)
		assert.Contains(t, d.Error(), "altered")
		assert.Equal(t, int64(len(h.Events)), d.EventID, "the completion event")
	})

	t.Run("account in an activity result changed", func(t *testing.T) {
		h := load(t, "extended_revoked.json")
		var ensure int64
		for _, e := range h.Events {
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.ActivityType.Name == workflows.EnsureAccountActivity {
				ensure = e.EventId
			}
			if a := e.GetActivityTaskCompletedEventAttributes(); a != nil && a.ScheduledEventId == ensure {
				// EnsureAccount's completion: pretend another account was made.
				editPayload(t, a.Result.Payloads[0], func(m map[string]any) { m["UPN"] = "someone-else@contoso.com" })
				break
			}
		}
		require.NotZero(t, ensure)
		_, err := replay.History(h)
		d := divergence(t, err, replay.KindAltered)
		assert.Contains(t, d.Error(), "activity DisableAccount")
		assert.Contains(t, d.Error(), `UPN "jit-alice_msp.example@contoso.com"`)
		assert.Contains(t, d.Error(), `UPN "someone-else@contoso.com"`)
	})

	t.Run("entitlement result changed", func(t *testing.T) {
		h := load(t, "expired.json")
		changed := false
		for _, e := range h.Events {
			if a := e.GetMarkerRecordedEventAttributes(); a != nil && a.Details["result"] != nil {
				editPayload(t, a.Details["result"].Payloads[0], func(m map[string]any) { m["Domain"] = "attacker.example" })
				changed = true
				break
			}
		}
		require.True(t, changed)
		_, err := replay.History(h)
		d := divergence(t, err, replay.KindAltered)
		assert.Contains(t, d.Error(), "activity EnsureAccount")
		assert.Contains(t, d.Error(), `Domain "attacker.example"`)
	})

	t.Run("activity renamed", func(t *testing.T) {
		h := load(t, "expired.json")
		var id int64
		for _, e := range h.Events {
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
				a.ActivityType.Name = "ExportPasswords"
				id = e.EventId
				break
			}
		}
		_, err := replay.History(h)
		d := divergence(t, err, replay.KindNondeterministic)
		assert.Equal(t, id, d.EventID)
		assert.Contains(t, d.Error(), "scheduling activity ExportPasswords")
		assert.Contains(t, d.Error(), "schedule activity PrepareAccount")
	})

	t.Run("event removed", func(t *testing.T) {
		h := load(t, "expired.json")
		h.Events = append(h.Events[:11:11], h.Events[12:]...)
		_, err := replay.History(h)
		d := divergence(t, err, replay.KindAltered)
		assert.Equal(t, int64(12), d.EventID)
		assert.Contains(t, d.Error(), "event 11 is followed by event 13")
	})

	t.Run("payload no longer decodes", func(t *testing.T) {
		h := load(t, "expired.json")
		h.Events[0].GetWorkflowExecutionStartedEventAttributes().Input.Payloads[0].Data = []byte(`{"Duration":"soon"`)
		_, err := replay.History(h)
		d := divergence(t, err, replay.KindAltered)
		assert.Equal(t, int64(1), d.EventID)
	})
}

func TestTruncatedHistory(t *testing.T) {
	full := load(t, "extended_revoked.json")
	for _, n := range []int{3, 12, 27, 40, len(full.Events) - 1} {
		h := load(t, "extended_revoked.json")
		h.Events = h.Events[:n]
		_, err := replay.History(h)
		d := divergence(t, err, replay.KindTruncated)
		assert.Equal(t, int64(n), d.EventID)
		assert.Contains(t, d.Error(), "before the workflow ended")
	}

	t.Run("beginning cut off", func(t *testing.T) {
		h := load(t, "expired.json")
		h.Events = h.Events[5:]
		_, err := replay.History(h)
		d := divergence(t, err, replay.KindTruncated)
		assert.Contains(t, d.Error(), "beginning was cut off")
	})

	t.Run("allowed while running", func(t *testing.T) {
		h := load(t, "extended_revoked.json")
		h.Events = h.Events[:33] // a whole workflow task, ending in its TimerStarted: the grant is active, waiting
		rep, err := replay.History(h, replay.AllowRunning())
		require.NoError(t, err)
		assert.True(t, rep.Running)
		assert.Equal(t, "active", rep.Status)
		assert.Contains(t, rep.String(), "still running")
	})
}

// changedWorkflow is AccessRequest with a step added in front, deployed without versioning.
func changedWorkflow(ctx workflow.Context, in workflows.AccessRequestInput) (workflows.Result, error) {
	if err := workflow.Sleep(ctx, time.Second); err != nil {
		return workflows.Result{}, err
	}
	return workflows.AccessRequest(ctx, in)
}

// versionedWorkflow adds the same step the right way: only new runs take it.
func versionedWorkflow(ctx workflow.Context, in workflows.AccessRequestInput) (workflows.Result, error) {
	if v := workflow.GetVersion(ctx, "pause-before-request", workflow.DefaultVersion, 1); v == 1 {
		if err := workflow.Sleep(ctx, time.Second); err != nil {
			return workflows.Result{}, err
		}
	}
	return workflows.AccessRequest(ctx, in)
}

func TestChangedWorkflowWouldRejectHistory(t *testing.T) {
	_, err := replay.File(filepath.Join(golden, "expired.json"), replay.WithWorkflow(changedWorkflow))
	d := divergence(t, err, replay.KindNondeterministic)
	assert.Equal(t, int64(7), d.EventID, "the first activity the recorded run scheduled")
	assert.Contains(t, d.Error(), "event 7 of the history records scheduling activity PrepareAccount")
	assert.Contains(t, d.Error(), "workflow.GetVersion")

	// The same change behind workflow.GetVersion keeps every recorded history valid.
	files := goldenFiles(t)
	for _, file := range files {
		_, err := replay.File(file, replay.WithWorkflow(versionedWorkflow))
		assert.NoError(t, err, filepath.Base(file))
	}
}

func TestNotAHistory(t *testing.T) {
	dir := t.TempDir()
	_, err := replay.File(filepath.Join(dir, "missing.json"))
	require.Error(t, err)

	_, err = replay.History(&historypb.History{})
	divergence(t, err, replay.KindMalformed)
}

// goldenFiles lists every committed history: today's code (testdata/*.json) and, should a
// change ever need it, earlier versions' (testdata/<version>/).
func goldenFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(golden, "*.json"))
	require.NoError(t, err)
	older, err := filepath.Glob(filepath.Join(golden, "*", "*.json"))
	require.NoError(t, err)
	return append(files, older...)
}
