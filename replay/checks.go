package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// recorder captures the input of every activity the replayed code schedules, encoded as
// the worker encodes it, to compare with the inputs recorded in the history.
type recorder struct {
	interceptor.WorkerInterceptorBase
	dc    converter.DataConverter
	calls []activityCall
	// returned: the workflow function returned (with result or err) during the replay.
	returned  bool
	result    any
	resultErr error
}

type activityCall struct {
	activityType string
	input        *commonpb.Payloads
}

func (r *recorder) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &recordingInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, r: r}
}

type recordingInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	r *recorder
}

// ExecuteWorkflow records what the workflow function returns.
func (i *recordingInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := i.Next.ExecuteWorkflow(ctx, in)
	i.r.returned, i.r.result, i.r.resultErr = true, res, err
	return res, err
}

func (i *recordingInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&recordingOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, r: i.r})
}

type recordingOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	r *recorder
}

// ExecuteActivity records the call. Workflow coroutines run one at a time, so no lock.
func (o *recordingOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	if p, err := o.r.dc.ToPayloads(args...); err == nil {
		o.r.calls = append(o.r.calls, activityCall{activityType: activityType, input: p})
	}
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

// checkActivityInputs matches every ActivityTaskScheduled event, in order, with a call of
// the same activity type and the same input. Calls without an event are allowed (a call
// cancelled before its command was sent leaves none). It returns the number matched.
func checkActivityInputs(dc converter.DataConverter, events []*historypb.HistoryEvent, calls []activityCall) (int, error) {
	next, matched := 0, 0
	for _, e := range events {
		a := e.GetActivityTaskScheduledEventAttributes()
		if a == nil {
			continue
		}
		typ := a.GetActivityType().GetName()
		firstSame, found := -1, -1
		for j := next; j < len(calls); j++ {
			if calls[j].activityType != typ {
				continue
			}
			if firstSame < 0 {
				firstSame = j
			}
			if _, _, differ := diffPayloads(dc, a.GetInput(), calls[j].input); !differ {
				found = j
				break
			}
		}
		switch {
		case found >= 0:
			next = found + 1
			matched++
		case firstSame >= 0:
			recorded, computed, _ := diffPayloads(dc, a.GetInput(), calls[firstSame].input)
			return matched, &Divergence{Kind: KindAltered, EventID: e.GetEventId(), Explanation: fmt.Sprintf(
				"event %d schedules activity %s with %s, but this build, replaying the same history, schedules it with %s. "+
					"The code derives that input from earlier events (the request, the entitlement check, an earlier activity's result, "+
					"a revoke or an extension), so one of them was changed after the fact: the history was altered",
				e.GetEventId(), typ, recorded, computed)}
		default:
			// The SDK replayer already matched the command; nothing recorded to compare.
		}
	}
	return matched, nil
}

// compareResult compares the result recorded in the completion event with the one this
// build computed from the same history.
func compareResult(dc converter.DataConverter, eventID int64, recorded *commonpb.Payloads, computed any) error {
	comp, err := dc.ToPayloads(computed)
	if err != nil {
		return fmt.Errorf("encode computed result: %w", err)
	}
	r, c, differ := diffPayloads(dc, recorded, comp)
	if !differ {
		return nil
	}
	return &Divergence{Kind: KindAltered, EventID: eventID, Explanation: fmt.Sprintf(
		"the history records that the grant ended (event %d) with %s, but this build, replaying the history's own events, "+
			"ends it with %s: the recorded result does not follow from the events before it, so the history was altered",
		eventID, r, c)}
}

// diffPayloads compares two encoded argument lists. JSON objects are compared field by field
// on the fields both have, so that adding or removing a field in the code (a compatible
// change) is not a difference. It describes the differing fields of each side. Payloads are
// compared decoded by dc (encrypted ones differ in every byte).
func diffPayloads(dc converter.DataConverter, recorded, computed *commonpb.Payloads) (string, string, bool) {
	rp, cp := recorded.GetPayloads(), computed.GetPayloads()
	if len(rp) != len(cp) {
		return fmt.Sprintf("%d arguments", len(rp)), fmt.Sprintf("%d arguments", len(cp)), true
	}
	var rdiff, cdiff []string
	for i := range rp {
		rd, cd := plainData(dc, rp[i]), plainData(dc, cp[i])
		if bytes.Equal(rd, cd) {
			continue
		}
		var rv, cv any
		if json.Unmarshal(rd, &rv) != nil || json.Unmarshal(cd, &cv) != nil {
			rdiff, cdiff = append(rdiff, fmt.Sprintf("%q", rd)), append(cdiff, fmt.Sprintf("%q", cd))
			continue
		}
		ro, rok := rv.(map[string]any)
		co, cok := cv.(map[string]any)
		if !rok || !cok {
			if !reflect.DeepEqual(rv, cv) {
				rdiff, cdiff = append(rdiff, compact(rv)), append(cdiff, compact(cv))
			}
			continue
		}
		keys := make([]string, 0, len(ro))
		for k := range ro {
			if _, ok := co[k]; ok && !reflect.DeepEqual(ro[k], co[k]) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			rdiff = append(rdiff, k+" "+compact(ro[k]))
			cdiff = append(cdiff, k+" "+compact(co[k]))
		}
	}
	if len(rdiff) == 0 {
		return "", "", false
	}
	return strings.Join(rdiff, ", "), strings.Join(cdiff, ", "), true
}

// plainData is the payload's data as the default converter wrote it (JSON), after dc's codec.
func plainData(dc converter.DataConverter, p *commonpb.Payload) []byte {
	var raw json.RawMessage
	if dc.FromPayload(p, &raw) == nil && raw != nil {
		return raw
	}
	return p.GetData()
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

var (
	reMismatch  = regexp.MustCompile(`history event is (\w+): (.*?), replay command is (\w+): (.*)`)
	reMissing   = regexp.MustCompile(`missing replay command for (\w+): (.*)`)
	reExtra     = regexp.MustCompile(`extra replay command for (\w+): (.*)`)
	reActivity  = regexp.MustCompile(`ActivityType:\(Name:(\w+)\)`)
	reActID     = regexp.MustCompile(`ActivityId:(\d+)`)
	reTimerID   = regexp.MustCompile(`TimerId:(\d+)`)
	reMarker    = regexp.MustCompile(`MarkerName:(\w+)`)
	reTMPRLCode = regexp.MustCompile(`\[TMPRL\d+\]`)
	reLookup    = regexp.MustCompile(`lookup failed for scheduledEventID to activityID: scheduleEventID: (\d+)`)
	reExpected  = regexp.MustCompile(`a matching (\w+) command was expected in history event position (\w+)`)
	reLocal     = regexp.MustCompile(`code executed local activity (\w+), but history event found (\w+)`)
)

// explainReplayError turns the SDK replayer's error into an auditor's explanation.
func explainReplayError(h *historypb.History, err error) *Divergence {
	msg := err.Error()
	if !strings.Contains(msg, "nondeterministic") && !reTMPRLCode.MatchString(msg) {
		return &Divergence{Kind: KindFailed, Cause: err, Explanation: "this build could not replay the history: " + firstLine(msg) +
			". Either an event's data was altered so that it no longer decodes, or the history was recorded by an incompatible build"}
	}
	const why = "Either the workflow code changed since this grant ran without workflow.GetVersion " +
		"(an incompatible build: see docs/auditing.md), or the history was altered"
	d := &Divergence{Kind: KindNondeterministic, Cause: err}
	switch {
	case reMismatch.MatchString(msg):
		m := reMismatch.FindStringSubmatch(msg)
		d.EventID = findEvent(h, m[1], m[2])
		d.Explanation = fmt.Sprintf("this build does not make the decisions the recorded run made: %s records %s, "+
			"where this build would %s. %s", at(d.EventID, "the history"), describeEvent(m[1], m[2]), describeCommand(m[3], m[4]), why)
	case reMissing.MatchString(msg):
		m := reMissing.FindStringSubmatch(msg)
		d.EventID = findEvent(h, m[1], m[2])
		d.Explanation = fmt.Sprintf("this build does not make the decisions the recorded run made: %s records %s, "+
			"which this build never does at that point. %s", at(d.EventID, "the history"), describeEvent(m[1], m[2]), why)
	case reExtra.MatchString(msg):
		m := reExtra.FindStringSubmatch(msg)
		d.Explanation = fmt.Sprintf("this build does not make the decisions the recorded run made: it would %s, "+
			"which the recorded run never did at that point. %s", describeCommand(m[1], m[2]), why)
	case reLookup.MatchString(msg):
		m := reLookup.FindStringSubmatch(msg)
		d.EventID, _ = strconv.ParseInt(m[1], 10, 64)
		d.Explanation = fmt.Sprintf("this build does not make the decisions the recorded run made: %s records scheduling activity %s, "+
			"which this build does not do at that point. %s", at(d.EventID, "the history"), scheduledActivity(h, d.EventID), why)
	case reExpected.MatchString(msg):
		m := reExpected.FindStringSubmatch(msg)
		d.Explanation = fmt.Sprintf("this build does not make the decisions the recorded run made: the history records a %s command (id %s) "+
			"that this build does not issue at that point. %s", strings.TrimPrefix(m[1], "COMMAND_TYPE_"), m[2], why)
	case reLocal.MatchString(msg):
		m := reLocal.FindStringSubmatch(msg)
		d.Explanation = fmt.Sprintf("this build does not make the decisions the recorded run made: the history records local activity %s "+
			"where this build runs local activity %s. %s", m[2], m[1], why)
	default:
		d.Explanation = "this build does not make the decisions the recorded run made (" + firstLine(msg) + "). " + why
	}
	return d
}

func at(eventID int64, fallback string) string {
	if eventID > 0 {
		return fmt.Sprintf("event %d of the history", eventID)
	}
	return fallback
}

func scheduledActivity(h *historypb.History, eventID int64) string {
	for _, e := range h.GetEvents() {
		if e.GetEventId() == eventID {
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
				return a.GetActivityType().GetName()
			}
		}
	}
	return "(unknown)"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// findEvent locates the event the SDK names by its type and id (activity and timer ids are
// the event ids of their scheduling in this SDK); 0 when not found.
func findEvent(h *historypb.History, typ, attrs string) int64 {
	for _, e := range h.GetEvents() {
		if eventName(e.GetEventType()) != typ {
			continue
		}
		if m := reActID.FindStringSubmatch(attrs); m != nil {
			if e.GetActivityTaskScheduledEventAttributes().GetActivityId() == m[1] {
				return e.GetEventId()
			}
			continue
		}
		if m := reTimerID.FindStringSubmatch(attrs); m != nil {
			if e.GetTimerStartedEventAttributes().GetTimerId() == m[1] {
				return e.GetEventId()
			}
			continue
		}
	}
	return 0
}

// describeEvent says what a history event of the given type records.
func describeEvent(typ, attrs string) string {
	switch typ {
	case eventName(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED):
		return "scheduling activity " + activityName(attrs)
	case eventName(enumspb.EVENT_TYPE_TIMER_STARTED):
		return "starting a timer"
	case eventName(enumspb.EVENT_TYPE_MARKER_RECORDED):
		return "a " + markerName(attrs) + " marker"
	case eventName(enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES):
		return "an update of the search attributes (JitStatus…)"
	case eventName(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED):
		return "the end of the workflow"
	}
	return "a " + typ + " event"
}

// describeCommand says what the replayed code would do instead.
func describeCommand(typ, attrs string) string {
	switch typ {
	case enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK.String():
		return "schedule activity " + activityName(attrs)
	case enumspb.COMMAND_TYPE_START_TIMER.String():
		return "start a timer"
	case enumspb.COMMAND_TYPE_RECORD_MARKER.String():
		return "record a " + markerName(attrs) + " marker"
	case enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES.String():
		return "update the search attributes"
	case enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION.String():
		return "end the workflow"
	case enumspb.COMMAND_TYPE_CANCEL_TIMER.String():
		return "cancel a timer"
	case enumspb.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK.String():
		return "cancel an activity"
	}
	return "issue a " + typ + " command"
}

func activityName(attrs string) string {
	if m := reActivity.FindStringSubmatch(attrs); m != nil {
		return m[1]
	}
	return "(unnamed)"
}

// markerName names local activity markers by what they are in this workflow.
func markerName(attrs string) string {
	m := reMarker.FindStringSubmatch(attrs)
	switch {
	case m == nil:
		return "marker"
	case m[1] == "LocalActivity":
		return "local activity (BeginGrant, RecordGrant, VerifyActor or CheckExtend)"
	case m[1] == "Version":
		return "workflow.GetVersion"
	}
	return m[1]
}
