package timeline_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/replay"
	"github.com/jitaccess/jitaccess/temporalclient"
	"github.com/jitaccess/jitaccess/timeline"
)

var testCodec = func() *temporalclient.Codec {
	c, err := temporalclient.NewCodec([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	return c
}()

// dc reads encrypted payloads and the plain ones of histories recorded before the codec.
var dc = temporalclient.NewDataConverter(testCodec)

// The histories were recorded from a real dev-server run by the workflows package's
// TestRealServer (real worker, fake Store and Directory).
var golden = filepath.Join("..", "workflows", "testdata")

func load(t *testing.T, name string) *historypb.History {
	t.Helper()
	h, err := replay.ReadFile(filepath.Join(golden, name))
	require.NoError(t, err)
	return h
}

func entriesOf(t *testing.T, h *historypb.History) []timeline.Entry {
	t.Helper()
	entries, err := timeline.Timeline(h, dc)
	require.NoError(t, err)
	for _, e := range entries {
		t.Log(e.Text())
	}
	return entries
}

func kinds(entries []timeline.Entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Kind)
	}
	return out
}

func find(t *testing.T, entries []timeline.Entry, kind string) timeline.Entry {
	t.Helper()
	for _, e := range entries {
		if e.Kind == kind {
			return e
		}
	}
	t.Fatalf("no %s entry", kind)
	return timeline.Entry{}
}

// The details of one recorded history.
func TestRevokedGrantTimeline(t *testing.T) {
	h := load(t, "extended_revoked.json")
	entries := entriesOf(t, h)
	assert.Equal(t, []string{
		timeline.KindRequested, timeline.KindEntitled, timeline.KindStatus, timeline.KindAccount, timeline.KindRolesAssigned,
		timeline.KindActive, timeline.KindVersion, timeline.KindExtended, timeline.KindRevokeRequested, timeline.KindStatus,
		timeline.KindVersion, timeline.KindDisabled, timeline.KindEnded,
	}, kinds(entries))

	req := find(t, entries, timeline.KindRequested)
	assert.Equal(t, "technician:tec_revoke", req.Actor, "the technician whose grant it is")
	assert.Contains(t, req.Detail, "grant grt_tec_revoke")
	assert.Equal(t, int64(1), req.EventID)

	ent := find(t, entries, timeline.KindEntitled)
	assert.Contains(t, ent.Detail, `rule "All admins" (ent_1)`, "the rule that entitled them")
	assert.Contains(t, ent.Detail, "alice@msp.example")
	assert.Contains(t, ent.Detail, "for 1h0m0s", "the duration the database decided")
	assert.Equal(t, "ent_1", ent.Data["rule_id"])

	upn := "jit-alice_msp.example@contoso.com"
	assert.Contains(t, find(t, entries, timeline.KindAccount).Detail, upn)
	roles := find(t, entries, timeline.KindRolesAssigned)
	assert.Contains(t, roles.Detail, "role-a, role-b, role-c")
	assert.Equal(t, []any{"role-a", "role-b", "role-c"}, jsonData(t, roles)["roles"])

	active := find(t, entries, timeline.KindActive)
	activated, err := time.Parse(time.RFC3339Nano, active.Data["activated_at"].(string))
	require.NoError(t, err)
	assert.Contains(t, active.Detail, "until "+activated.Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"))

	ext := find(t, entries, timeline.KindExtended)
	assert.Equal(t, "technician:tec_revoke", ext.Actor)
	assert.Contains(t, ext.Detail, "extended by 30m0s: access now ends at "+activated.Add(90*time.Minute).UTC().Format("2006-01-02T15:04:05.000Z"))

	rev := find(t, entries, timeline.KindRevokeRequested)
	assert.Equal(t, "admin:tec_admin", rev.Actor, "who revoked")
	assert.Contains(t, rev.Detail, `reason "done"`)

	dis := find(t, entries, timeline.KindDisabled)
	assert.Contains(t, dis.Detail, upn+" disabled")
	assert.Contains(t, dis.Detail, "3 role assignments removed")
	assert.True(t, dis.Time.After(rev.Time))

	end := find(t, entries, timeline.KindEnded)
	assert.Equal(t, "admin:tec_admin", end.Actor)
	assert.Contains(t, end.Detail, "revoked by tec_admin")

	g, err := timeline.Describe(h, dc)
	require.NoError(t, err)
	assert.Equal(t, timeline.Grant{WorkflowID: "access/tnt_1/app_1/tec_revoke", RunID: g.RunID, GrantID: "grt_tec_revoke", TenantID: "tnt_1",
		ApplicationID: "app_1", TechnicianID: "tec_revoke", TechnicianEmail: "alice@msp.example", Status: "revoked"}, g)
}

func TestDeniedTimeline(t *testing.T) {
	entries := entriesOf(t, load(t, "denied.json"))
	assert.Equal(t, []string{timeline.KindRequested, timeline.KindDenied, timeline.KindEnded}, kinds(entries))
	assert.Equal(t, "denied: no rule", find(t, entries, timeline.KindDenied).Detail)
}

// A run the API did not create says so, and that nothing was done.
func TestRefusedTimeline(t *testing.T) {
	h := load(t, "refused.json")
	entries := entriesOf(t, h)
	assert.Equal(t, []string{timeline.KindRequested, timeline.KindRefused, timeline.KindEnded}, kinds(entries))
	assert.Contains(t, find(t, entries, timeline.KindRefused).Detail, "refused, nothing done: grant claim refused: no grant grt_forged")
	g, err := timeline.Describe(h, dc)
	require.NoError(t, err)
	assert.Equal(t, timeline.KindRefused, g.Status)
}

// A disable blocked by lost authorization shows the wait and the late disable.
func TestDisableBlockedTimeline(t *testing.T) {
	entries := entriesOf(t, load(t, "disable_blocked.json"))
	retry := find(t, entries, timeline.KindRetry)
	assert.Equal(t, "AuthorizationLost", retry.Data["failure_type"])
	assert.Contains(t, find(t, entries, timeline.KindDisabled).Detail, "late: authorization was lost")
}

func TestExpiredTimeline(t *testing.T) {
	entries := entriesOf(t, load(t, "expired.json"))
	assert.Contains(t, find(t, entries, timeline.KindTimerFired).Detail, "Access expires at")
	assert.Contains(t, find(t, entries, timeline.KindEnded).Detail, "expired")
}

// Retries that mattered: the failure that ended provisioning, the throttled disable.
func TestRetriesAndFailures(t *testing.T) {
	entries := entriesOf(t, load(t, "failed_compensated.json"))
	failed := find(t, entries, timeline.KindStepFailed)
	assert.Contains(t, failed.Detail, "AssignRoles failed for good: GraphRejected")
	assert.Equal(t, "GraphRejected", failed.Data["failure_type"])

	retry := find(t, entries, timeline.KindRetry)
	assert.Contains(t, retry.Detail, "DisableAccount attempt 2")
	assert.Equal(t, "Throttled", retry.Data["failure_type"])
	assert.Contains(t, find(t, entries, timeline.KindEnded).Detail, "failed: assign roles")
}

// A disable that kept failing because consent was withdrawn shows why it took so long.
func TestAuthorizationLostDuringDisable(t *testing.T) {
	h := load(t, "failed_compensated.json")
	for _, e := range h.Events {
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil && a.Attempt > 1 {
			a.Attempt = 7
			a.LastFailure.Message = "disable account 00000000-0000-0000-0000-000000000001: authorization lost"
			a.LastFailure.GetApplicationFailureInfo().Type = "AuthorizationLost"
		}
	}
	retry := find(t, entriesOf(t, h), timeline.KindRetry)
	assert.Contains(t, retry.Detail, "DisableAccount attempt 7 started; the attempt before failed: AuthorizationLost: disable account")
	assert.Equal(t, "AuthorizationLost", retry.Data["failure_type"])
}

// --json: one object per line with time, kind, actor and detail.
func TestJSONLines(t *testing.T) {
	for _, e := range entriesOf(t, load(t, "extended_revoked.json")) {
		line := e.JSON()
		assert.NotContains(t, line, "\n")
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		for _, k := range []string{"time", "kind", "actor", "detail", "event_id"} {
			assert.Contains(t, m, k)
		}
		_, err := time.Parse(time.RFC3339Nano, m["time"].(string))
		assert.NoError(t, err)
	}
}

// Histories carry no secret by design; the timeline must not invent one either: no field
// named like a secret, no value that looks like a generated password.
func TestNoSecrets(t *testing.T) {
	for range 200 {
		require.True(t, looksLikePassword(directory.NewPassword()), "the detector must recognise generated passwords")
	}
	files := goldenFiles(t)
	secretKey := regexp.MustCompile(`(?i)password|secret|token|credential`)
	for _, file := range files {
		h, err := replay.ReadFile(file)
		require.NoError(t, err)
		entries, err := timeline.Timeline(h, dc)
		require.NoError(t, err)
		for _, e := range entries {
			for k := range jsonData(t, e) {
				assert.False(t, secretKey.MatchString(k), "%s: data key %s", filepath.Base(file), k)
			}
			for _, word := range strings.Fields(e.Detail) {
				assert.False(t, looksLikePassword(word), "%s: %q looks like a password", filepath.Base(file), word)
			}
		}
	}
}

var emailLike = regexp.MustCompile(`^[\w.+-]+@[\w-]+(\.[\w-]+)+[,.;)]*$`)

// looksLikePassword: long, and mixing lower, upper, digits and symbols like directory.NewPassword.
func looksLikePassword(s string) bool {
	if len(s) < 16 || strings.Contains(s, "/") || emailLike.MatchString(s) {
		return false
	}
	var lower, upper, digit, other bool
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	return lower && upper && digit && other
}

func jsonData(t *testing.T, e timeline.Entry) map[string]any {
	t.Helper()
	var m struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(e.JSON()), &m))
	return m.Data
}

func TestNotAGrant(t *testing.T) {
	h := load(t, "expired.json")
	h.Events[0].GetWorkflowExecutionStartedEventAttributes().WorkflowType.Name = "Other"
	_, err := timeline.Timeline(h, dc)
	require.ErrorContains(t, err, `workflow type "Other"`)
	_, err = timeline.Timeline(&historypb.History{}, dc)
	require.Error(t, err)
}

// A workflow.GetVersion marker shows which code path a run took.
func TestVersionMarker(t *testing.T) {
	h := load(t, "expired.json")
	recorded := kindsOf(entriesOf(t, h), timeline.KindVersion)
	require.Len(t, recorded, 1, "the disable's version marker")
	assert.Equal(t, `workflow code version 1 for change "tap-delete-beside-disable"`, recorded[0].Detail)
	h = load(t, "before-tap-delete-beside-disable/expired.json")
	require.Empty(t, kindsOf(entriesOf(t, h), timeline.KindVersion), "recorded before any version: no markers")
	dc := converter.GetDefaultDataConverter() // a history recorded before the codec
	changeID, err := dc.ToPayloads("pause-before-request")
	require.NoError(t, err)
	version, err := dc.ToPayloads(1)
	require.NoError(t, err)
	marker := &historypb.HistoryEvent{
		EventId: 5, EventTime: h.Events[4].EventTime, EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
		Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
			MarkerName: "Version", WorkflowTaskCompletedEventId: 4,
			Details: map[string]*commonpb.Payloads{"change-id": changeID, "version": version},
		}},
	}
	h.Events = append(h.Events[:4:4], append([]*historypb.HistoryEvent{marker}, h.Events[4:]...)...)
	v := find(t, entriesOf(t, h), timeline.KindVersion)
	assert.Equal(t, `workflow code version 1 for change "pause-before-request"`, v.Detail)
}

func kindsOf(entries []timeline.Entry, kind string) []timeline.Entry {
	var out []timeline.Entry
	for _, e := range entries {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
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

// A history recorded with the codec reads exactly like the same history recorded in clear.
func TestEncryptedHistoryTimeline(t *testing.T) {
	for _, name := range []string{"extended_revoked.json", "expired.json"} {
		t.Run(name, func(t *testing.T) {
			plain := load(t, name)
			enc := proto.Clone(plain).(*historypb.History)
			encrypted := 0
			require.NoError(t, proxy.VisitPayloads(context.Background(), enc, proxy.VisitPayloadsOptions{
				SkipSearchAttributes: true,
				Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
					encrypted += len(p)
					return testCodec.Encode(p)
				},
			}))
			require.Positive(t, encrypted)
			want, err := timeline.Timeline(plain, dc)
			require.NoError(t, err)
			got, err := timeline.Timeline(enc, dc)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			_, err = timeline.Timeline(enc, converter.GetDefaultDataConverter())
			assert.Error(t, err, "an encrypted history must not read without the key")
		})
	}
}
