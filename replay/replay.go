// Package replay proves that a recorded AccessRequest history is what this build's workflow
// code does: it replays the history with the Temporal SDK's replayer and then checks more
// than the replayer does on its own.
//
// The SDK replayer compares the kind and order of the commands the code issues with the
// events in the history (activity type, timer, marker…), not their data. To catch a history
// whose data was changed, this package also checks, on top of the replayer:
//
//   - that the events are numbered 1, 2, 3… without a gap (nothing cut out),
//   - that every regular activity's input in the history is the input this build computes
//     from the history's own earlier events (start input, signals, updates, results),
//   - that a completed workflow's recorded result is the result this build computes,
//   - that the history reaches the end of the workflow (unless the workflow is still
//     running, which only Fetch can know).
//
// Every failure is a *Divergence with a plain-language explanation for an auditor.
package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/workflows"
)

// Kind classifies a divergence.
type Kind string

const (
	// KindMalformed: not a usable history (no events, not starting with the workflow's start).
	KindMalformed Kind = "malformed"
	// KindWrongType: the history is of another workflow type than AccessRequest.
	KindWrongType Kind = "wrong_workflow_type"
	// KindTruncated: the history stops before the workflow ended (or starts after it began).
	KindTruncated Kind = "truncated"
	// KindAltered: the history's data does not follow from its own events (an event was
	// changed or removed).
	KindAltered Kind = "altered"
	// KindNondeterministic: this build issues other commands than the recorded run did:
	// the workflow code changed without workflow.GetVersion, or an event was altered.
	KindNondeterministic Kind = "nondeterministic"
	// KindFailed: the replay could not run the history at all (e.g. undecodable input).
	KindFailed Kind = "replay_failed"
)

// Divergence is a history that does not replay cleanly against this build.
type Divergence struct {
	Kind Kind
	// EventID is the event where the divergence shows, 0 when unknown.
	EventID int64
	// Explanation says in plain language what differs and what it means.
	Explanation string
	// Cause is the underlying error of the SDK replayer, if any.
	Cause error
}

func (d *Divergence) Error() string { return d.Explanation }
func (d *Divergence) Unwrap() error { return d.Cause }

// Report describes a history that replayed cleanly.
type Report struct {
	WorkflowID   string
	RunID        string
	WorkflowType string
	Events       int
	// Running: the workflow had not ended when the history was read (Fetch only).
	Running bool
	// Status is the grant's final status from the result, or its latest JitStatus while running.
	Status string
	// ActivitiesChecked is the number of activity inputs compared with this build's.
	ActivitiesChecked int
	// ResultChecked: the recorded result was compared with this build's.
	ResultChecked bool
}

// String is the one line printed for a clean replay.
func (r Report) String() string {
	id := r.WorkflowID
	if id == "" {
		id = "(unknown id)"
	}
	if r.Running {
		return fmt.Sprintf("ok: %s %s run %s replays cleanly against this build so far (%d events, workflow still running, status %s, %d activity inputs match)",
			r.WorkflowType, id, r.RunID, r.Events, orUnknown(r.Status), r.ActivitiesChecked)
	}
	return fmt.Sprintf("ok: %s %s run %s replays cleanly against this build (%d events, ended %s, %d activity inputs and the result match)",
		r.WorkflowType, id, r.RunID, r.Events, orUnknown(r.Status), r.ActivitiesChecked)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Option changes how a history is replayed.
type Option func(*settings)

type settings struct {
	dc           converter.DataConverter
	workflow     any
	logger       log.Logger
	allowRunning bool
}

// WithWorkflow replays against fn registered under workflows.WorkflowType instead of
// workflows.AccessRequest (tests use it to simulate a changed workflow).
func WithWorkflow(fn any) Option { return func(s *settings) { s.workflow = fn } }

// WithDataConverter decodes the history's payloads with dc (temporalclient.ReaderConverter:
// encrypted payloads and those recorded before the codec). Default: the SDK's default converter.
func WithDataConverter(dc converter.DataConverter) Option { return func(s *settings) { s.dc = dc } }

// WithLogger receives the replayer's log (default: discarded).
func WithLogger(l log.Logger) Option { return func(s *settings) { s.logger = l } }

// AllowRunning accepts a history that stops before the workflow ended: the workflow is
// known to be still running. Fetch sets it from what Temporal says.
func AllowRunning() Option { return func(s *settings) { s.allowRunning = true } }

func newSettings(opts []Option) settings {
	s := settings{workflow: workflows.AccessRequest}
	for _, o := range opts {
		o(&s)
	}
	if s.dc == nil {
		s.dc = converter.GetDefaultDataConverter()
	}
	if s.logger == nil {
		s.logger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	return s
}

// File replays a history file written by `temporal workflow show --output json` (the same
// protojson form as client.HistoryFromJSON reads; testdata/*.json are such files).
func File(path string, opts ...Option) (Report, error) {
	h, err := ReadFile(path)
	if err != nil {
		return Report{}, err
	}
	return History(h, opts...)
}

// ReadFile reads a history file written by `temporal workflow show --output json`.
func ReadFile(path string) (*historypb.History, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read history file: %w", err)
	}
	h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s is not a Temporal history in JSON (as written by `temporal workflow show --output json`): %w", path, err)
	}
	return h, nil
}

// Fetch reads the history of a workflow run from Temporal (runID empty: the latest run) and
// replays it. A run that is still running is replayed as far as it has gone.
func Fetch(ctx context.Context, c client.Client, workflowID, runID string, opts ...Option) (Report, error) {
	h, running, err := FetchHistory(ctx, c, workflowID, runID)
	if err != nil {
		return Report{}, err
	}
	if running {
		opts = append(opts, AllowRunning())
	}
	r, err := History(h, opts...)
	r.Running = r.Running || (running && err == nil && !closed(h))
	return r, err
}

// FetchHistory reads the whole history of a run (runID empty: the latest run) and reports
// whether the run was still running when it was read.
func FetchHistory(ctx context.Context, c client.Client, workflowID, runID string) (*historypb.History, bool, error) {
	desc, err := c.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			if runID != "" {
				return nil, false, fmt.Errorf("no workflow %q with run %q in this namespace", workflowID, runID)
			}
			return nil, false, fmt.Errorf("no workflow %q in this namespace", workflowID)
		}
		return nil, false, fmt.Errorf("describe workflow %s: %w", workflowID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	// Pin the run, so that a new run starting meanwhile cannot mix two histories.
	runID = info.GetExecution().GetRunId()
	running := info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING

	h := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, false, fmt.Errorf("read history of workflow %s run %s: %w", workflowID, runID, err)
		}
		h.Events = append(h.Events, e)
	}
	return h, running, nil
}

// History replays h against this build and runs the checks described in the package doc.
func History(h *historypb.History, opts ...Option) (Report, error) {
	s := newSettings(opts)
	events := h.GetEvents()
	if len(events) == 0 {
		return Report{}, &Divergence{Kind: KindMalformed, Explanation: "the history has no events: it is empty or not a Temporal workflow history"}
	}
	first := events[0]
	start := first.GetWorkflowExecutionStartedEventAttributes()
	if first.GetEventId() != 1 || start == nil {
		return Report{}, &Divergence{Kind: KindTruncated, EventID: first.GetEventId(), Explanation: fmt.Sprintf(
			"the history does not begin at the workflow's start: its first event is event %d (%s), "+
				"so the beginning was cut off and the request itself is missing; it cannot be replayed",
			first.GetEventId(), eventName(first.GetEventType()))}
	}
	rep := Report{
		WorkflowID:   start.GetWorkflowId(),
		RunID:        start.GetOriginalExecutionRunId(),
		WorkflowType: start.GetWorkflowType().GetName(),
		Events:       len(events),
	}
	if rep.WorkflowType != workflows.WorkflowType {
		return rep, &Divergence{Kind: KindWrongType, EventID: 1, Explanation: fmt.Sprintf(
			"the history is of workflow type %q, not %q: it does not record a grant, so this build cannot vouch for it",
			rep.WorkflowType, workflows.WorkflowType)}
	}
	for i, e := range events {
		if want := int64(i + 1); e.GetEventId() != want {
			return rep, &Divergence{Kind: KindAltered, EventID: want, Explanation: fmt.Sprintf(
				"the history's events are not numbered without a gap: event %d is followed by event %d, "+
					"so events were removed or reordered; the history was altered and proves nothing",
				want-1, e.GetEventId())}
		}
	}

	// An input that no longer decodes would only show as a confusing mismatch later.
	var in workflows.AccessRequestInput
	if err := s.dc.FromPayloads(start.GetInput(), &in); err != nil {
		return rep, &Divergence{Kind: KindAltered, EventID: 1, Cause: err, Explanation: fmt.Sprintf(
			"the request recorded in event 1 does not decode as an AccessRequest input (%v): the history was altered, "+
				"or it was recorded by an incompatible build", err)}
	}

	// Replay with a recorder of the activity inputs the code computes.
	rec := &recorder{dc: s.dc}
	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{
		DataConverter: s.dc,
		Interceptors:  []interceptor.WorkerInterceptor{rec},
	})
	if err != nil {
		return rep, fmt.Errorf("create replayer: %w", err)
	}
	replayer.RegisterWorkflowWithOptions(s.workflow, workflow.RegisterOptions{Name: workflows.WorkflowType})
	replayErr := replayer.ReplayWorkflowHistoryWithOptions(s.logger, h, sdkworker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: rep.WorkflowID, RunID: rep.RunID},
	})

	isClosed := closed(h)
	if !isClosed && !s.allowRunning {
		return rep, truncated(events, replayErr)
	}
	if replayErr != nil {
		return rep, explainReplayError(h, replayErr)
	}
	n, err := checkActivityInputs(s.dc, events, rec.calls)
	if err != nil {
		return rep, err
	}
	rep.ActivitiesChecked = n
	rep.Status = latestStatus(events)
	if !isClosed {
		rep.Running = true
		return rep, nil
	}
	last := events[len(events)-1]
	if done := last.GetWorkflowExecutionCompletedEventAttributes(); done != nil {
		if !rec.returned || rec.resultErr != nil {
			return rep, &Divergence{Kind: KindNondeterministic, EventID: last.GetEventId(), Cause: rec.resultErr, Explanation: fmt.Sprintf(
				"the history records that the workflow completed (event %d), but this build does not complete it with a result at that point. "+
					"Either the workflow code changed without workflow.GetVersion, or the history was altered", last.GetEventId())}
		}
		if err := compareResult(s.dc, last.GetEventId(), done.GetResult(), rec.result); err != nil {
			return rep, err
		}
		rep.ResultChecked = true
		if st := resultStatus(s.dc, done.GetResult()); st != "" {
			rep.Status = st
		}
	} else {
		rep.Status = closeDescription(last)
	}
	return rep, nil
}

// closed reports whether the history reaches the end of the run.
func closed(h *historypb.History) bool {
	events := h.GetEvents()
	if len(events) == 0 {
		return false
	}
	switch events[len(events)-1].GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		return true
	}
	return false
}

func closeDescription(last *historypb.HistoryEvent) string {
	switch last.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		return "with the workflow failed"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		return "with the workflow timed out"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		return "with the workflow cancelled"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		return "with the workflow terminated from outside"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		return "by continuing as a new run"
	}
	return eventName(last.GetEventType())
}

// truncated explains a history that stops before the workflow ended.
func truncated(events []*historypb.HistoryEvent, replayErr error) error {
	last := events[len(events)-1]
	msg := fmt.Sprintf("the history stops at event %d (%s) before the workflow ended: it was cut short, "+
		"or it was exported while the grant was still running. An incomplete history proves only its first steps, "+
		"not how the grant ended; for a running grant use `jitaccess replay --workflow-id`, which asks Temporal whether it is still running.",
		last.GetEventId(), eventName(last.GetEventType()))
	switch {
	case replayErr == nil:
		msg += fmt.Sprintf(" The %d events present replay cleanly.", len(events))
	case strings.Contains(replayErr.Error(), "extra replay command"):
		msg += " It ends in the middle of the commands of one workflow task, which a whole history never does."
	default:
		msg += " Replaying the events present fails too: " + explainReplayError(&historypb.History{Events: events}, replayErr).Error()
	}
	return &Divergence{Kind: KindTruncated, EventID: last.GetEventId(), Explanation: msg, Cause: replayErr}
}

// latestStatus is the last JitStatus the workflow upserted. Search attributes are always
// encoded with the default converter (never with a codec).
func latestStatus(events []*historypb.HistoryEvent) string {
	status := ""
	for _, e := range events {
		var fields map[string]*commonpb.Payload
		if a := e.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
			fields = a.GetSearchAttributes().GetIndexedFields()
		} else if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			fields = a.GetSearchAttributes().GetIndexedFields()
		}
		if p, ok := fields[workflows.StatusKey.GetName()]; ok {
			var s string
			if converter.GetDefaultDataConverter().FromPayload(p, &s) == nil {
				status = s
			}
		}
	}
	return status
}

func resultStatus(dc converter.DataConverter, p *commonpb.Payloads) string {
	var res workflows.Result
	if err := dc.FromPayloads(p, &res); err != nil {
		return ""
	}
	if res.Refused != "" {
		return "refused"
	}
	return string(res.Status)
}

// eventName is the event type as Temporal's UI shows it, e.g. ActivityTaskScheduled.
func eventName(t enumspb.EventType) string { return t.String() }
