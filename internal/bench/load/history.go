package load

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/jitaccess/jitaccess/workflows"
)

// Timeline is what a workflow's history says happened, in server time.
type Timeline struct {
	Start     time.Time // WorkflowExecutionStarted
	Active    time.Time // first TimerStarted: the grant is active and its projection written
	Fired     time.Time // last TimerFired: the expiry timer went off
	Timer     time.Duration
	Disabled  time.Time // DisableAccount's ActivityTaskCompleted (the floor's no-op has the same name)
	Closed    time.Time // WorkflowExecutionCompleted
	Regular   int       // regular activities completed
	Local     int       // local-activity markers
	Final     workflows.State
	Completed bool
	// Steps are the critical path to Active: each workflow task (its local activities
	// included) and each regular activity, as the time since the previous step ended.
	Steps []Step
}

// localActivityMarker names the markers of local activities (the SDK's; version markers differ).
const localActivityMarker = "LocalActivity"

// Step is one stretch of the path to Active.
type Step struct {
	Kind string // "workflow task" or "activity <type>"
	Took time.Duration
}

// Timelines reads every run's history.
func Timelines(ctx context.Context, c client.Client, dc converter.DataConverter, runs []Launch) ([]Timeline, error) {
	out := make([]Timeline, len(runs))
	err := Parallel(len(runs), 8, func(i int) error {
		tl, err := timeline(ctx, c, dc, runs[i])
		out[i] = tl
		return err
	})
	return out, err
}

func timeline(ctx context.Context, c client.Client, dc converter.DataConverter, r Launch) (Timeline, error) {
	var tl Timeline
	var mark time.Time
	activityTypes := map[int64]string{}
	step := func(kind string, at time.Time) {
		if tl.Active.IsZero() {
			tl.Steps = append(tl.Steps, Step{Kind: kind, Took: at.Sub(mark)})
			mark = at
		}
	}
	it := c.GetWorkflowHistory(ctx, r.WorkflowID, r.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return tl, fmt.Errorf("history of %s: %w", r.WorkflowID, err)
		}
		at := e.GetEventTime().AsTime()
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			tl.Start, mark = at, at
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			step("workflow task", at)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			activityTypes[e.GetEventId()] = e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			if tl.Active.IsZero() {
				tl.Active = at
			}
			tl.Timer = e.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration()
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			tl.Fired = at
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			typ := activityTypes[e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]
			step("activity "+typ, at)
			if typ == workflows.DisableAccountActivity {
				tl.Disabled = at
			}
			tl.Regular++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if e.GetMarkerRecordedEventAttributes().GetMarkerName() == localActivityMarker {
				tl.Local++
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			tl.Closed = at
			tl.Completed = true
			if p := e.GetWorkflowExecutionCompletedEventAttributes().GetResult(); p != nil {
				_ = dc.FromPayloads(p, &tl.Final)
			}
		}
	}
	return tl, nil
}
