// Package timeline derives a grant's timeline from its Temporal workflow history, not from the
// database: who asked and why, which rule entitled them (or why they were refused), the
// account and roles, when access began, every extension and by whom, who revoked, when the
// account was disabled, and every retry or failure on the way.
//
// The history is what the AccessRequest workflow recorded as it ran; `jitaccess replay`
// proves that this build's code agrees with it. Histories hold no secret by design (the
// password never leaves the EnsureAccount activity), so neither does a timeline.
package timeline

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitaccess/jitaccess/workflows"
)

// Kinds of timeline entries.
const (
	KindRequested       = "requested"        // the run started for a grant the API recorded (workflow input: ids only)
	KindEntitled        = "entitled"         // BeginGrant: the database allowed it, with the rule and the duration
	KindDenied          = "denied"           // BeginGrant: the database refused it, with the reason
	KindRefused         = "refused"          // BeginGrant: the run has no grant of its own (not started by the API)
	KindStatus          = "status"           // a status change not covered by a more specific entry
	KindAccount         = "account"          // EnsureAccount created or re-enabled the account
	KindRolesAssigned   = "roles_assigned"   // AssignRoles assigned the roles
	KindActive          = "active"           // access began, until when
	KindExtended        = "extended"         // an accepted extension, by whom
	KindExtendFailed    = "extend_failed"    // an accepted extension that failed
	KindRevokeRequested = "revoke_requested" // the revoke signal, by whom and why
	KindCancelRequested = "cancel_requested" // the workflow was cancelled from outside (treated as a revoke)
	KindTimerFired      = "timer_fired"      // a durable timer fired (access expiry, wait before retrying)
	KindRetry           = "retry"            // a step needed more than one attempt: why the earlier attempts failed
	KindStepFailed      = "step_failed"      // a step failed for good
	KindRecordFailed    = "record_failed"    // the database projection / audit event of a transition was not written
	KindDisabled        = "disabled"         // DisableAccount finished: account disabled, signed out, roles removed
	KindVersion         = "version"          // a workflow.GetVersion decision recorded in the history
	KindWorkflowTask    = "workflow_task"    // a workflow task failed or timed out (worker lost, bug), then continued
	KindEnded           = "ended"            // the grant's final status
)

// Entry is one line of the timeline.
type Entry struct {
	Time time.Time `json:"time"`
	Kind string    `json:"kind"`
	// Actor is "technician:<id>", "admin:<id>", "system", or "client:<identity>" for
	// requests sent directly to Temporal.
	Actor  string `json:"actor"`
	Detail string `json:"detail"`
	// EventID is the history event the entry comes from.
	EventID int64 `json:"event_id"`
	// Data holds the entry's facts as fields, for tools.
	Data map[string]any `json:"data,omitempty"`
}

// Text is the entry as one human-readable line.
func (e Entry) Text() string {
	return fmt.Sprintf("%s  %-16s  %-22s  %s", e.Time.UTC().Format(timeLayout), e.Kind, e.Actor, e.Detail)
}

// JSON is the entry as one line of JSON.
func (e Entry) JSON() string {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Sprintf(`{"kind":"error","detail":%q}`, err.Error())
	}
	return string(b)
}

// Grant summarises the grant a history records.
type Grant struct {
	WorkflowID      string
	RunID           string
	GrantID         string
	TenantID        string
	ApplicationID   string
	TechnicianID    string
	TechnicianEmail string
	// Status is the final status, or the latest one while the workflow runs.
	Status string
}

// Describe reads the grant's identity from the history's first event.
// dc decodes payloads (temporalclient.ReaderConverter: encrypted ones and those recorded before
// the codec).
func Describe(h *historypb.History, dc converter.DataConverter) (Grant, error) {
	events := h.GetEvents()
	if len(events) == 0 || events[0].GetWorkflowExecutionStartedEventAttributes() == nil {
		return Grant{}, fmt.Errorf("the history does not begin with the workflow's start")
	}
	start := events[0].GetWorkflowExecutionStartedEventAttributes()
	if name := start.GetWorkflowType().GetName(); name != workflows.WorkflowType {
		return Grant{}, fmt.Errorf("the history is of workflow type %q, not %q", name, workflows.WorkflowType)
	}
	var in workflows.AccessRequestInput
	if err := decode(dc, start.GetInput(), &in); err != nil {
		return Grant{}, fmt.Errorf("decode the request (event 1): %w", err)
	}
	g := Grant{
		WorkflowID: start.GetWorkflowId(), RunID: start.GetOriginalExecutionRunId(),
		GrantID: in.GrantID, TenantID: in.TenantID, ApplicationID: in.ApplicationID,
		TechnicianID: in.TechnicianID,
	}
	if in.Carry != nil {
		g.TechnicianEmail = in.Carry.Plan.TechnicianEmail
	}
	for _, e := range events {
		if s, ok := statusOf(e); ok {
			g.Status = s
		}
		if plan, ok := beginResult(dc, e); ok && plan.TechnicianEmail != "" {
			g.TechnicianEmail = plan.TechnicianEmail
		}
		if a := e.GetWorkflowExecutionCompletedEventAttributes(); a != nil {
			var res workflows.Result
			if decode(dc, a.GetResult(), &res) == nil && res.Status != "" {
				g.Status = string(res.Status)
			}
			if res.Refused != "" {
				g.Status = KindRefused
			}
		}
	}
	return g, nil
}

// Timeline derives the grant's timeline from its history, in the order of events.
func Timeline(h *historypb.History, dc converter.DataConverter) ([]Entry, error) {
	if _, err := Describe(h, dc); err != nil {
		return nil, err
	}
	t := &timeline{
		dc:        dc,
		byID:      map[int64]*historypb.HistoryEvent{},
		scheduled: map[int64]*historypb.HistoryEvent{},
		timers:    map[string]string{},
		updates:   map[string]workflows.ExtendRequest{},
	}
	for _, e := range h.GetEvents() {
		t.byID[e.GetEventId()] = e
	}
	for _, e := range h.GetEvents() {
		if err := t.add(e); err != nil {
			return t.entries, fmt.Errorf("event %d (%s): %w", e.GetEventId(), e.GetEventType(), err)
		}
	}
	return t.entries, nil
}

type timeline struct {
	dc      converter.DataConverter
	entries []Entry
	byID    map[int64]*historypb.HistoryEvent
	// scheduled: ActivityTaskScheduled events by event id.
	scheduled map[int64]*historypb.HistoryEvent
	// timers: summary of each started timer by timer id.
	timers map[string]string
	// updates: the argument of each accepted extend update, by update id.
	updates map[string]workflows.ExtendRequest

	in     workflows.AccessRequestInput
	plan   workflows.Plan
	upn    string
	status string
}

func (t *timeline) emit(e *historypb.HistoryEvent, at time.Time, kind, actor, detail string, data map[string]any) {
	if at.IsZero() {
		at = e.GetEventTime().AsTime()
	}
	t.entries = append(t.entries, Entry{Time: at.UTC(), Kind: kind, Actor: actor, Detail: detail, EventID: e.GetEventId(), Data: data})
}

// workflowNow is workflow.Now() of the workflow task whose commands produced e: the time
// the workflow itself used (e.g. activated_at), not the time the event was written.
func (t *timeline) workflowNow(completedEventID int64) time.Time {
	done := t.byID[completedEventID].GetWorkflowTaskCompletedEventAttributes()
	if started := t.byID[done.GetStartedEventId()]; started != nil {
		return started.GetEventTime().AsTime()
	}
	return time.Time{}
}

func (t *timeline) add(e *historypb.HistoryEvent) error {
	switch e.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
		return t.started(e)
	case enumspb.EVENT_TYPE_MARKER_RECORDED:
		return t.marker(e)
	case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
		t.upsert(e)
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		t.scheduled[e.GetEventId()] = e
		t.stepScheduled(e)
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
		t.activityStarted(e)
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		return t.activityCompleted(e)
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
		t.activityFailed(e)
	case enumspb.EVENT_TYPE_TIMER_STARTED:
		t.timers[e.GetTimerStartedEventAttributes().GetTimerId()] = t.summary(e.GetUserMetadata().GetSummary())
	case enumspb.EVENT_TYPE_TIMER_FIRED:
		id := e.GetTimerFiredEventAttributes().GetTimerId()
		what := t.timers[id]
		if what == "" {
			what = "timer " + id
		}
		t.emit(e, time.Time{}, KindTimerFired, "system", "timer fired: "+what, map[string]any{"timer_id": id})
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
		return t.updateAccepted(e)
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
		return t.updateCompleted(e)
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
		return t.signaled(e)
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
		a := e.GetWorkflowExecutionCancelRequestedEventAttributes()
		t.emit(e, time.Time{}, KindCancelRequested, "client:"+a.GetIdentity(),
			"the workflow was cancelled from outside the API (e.g. the Temporal UI); the grant treats it as a revoke"+reasonSuffix(a.GetCause()), nil)
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
		a := e.GetWorkflowTaskFailedEventAttributes()
		t.emit(e, time.Time{}, KindWorkflowTask, "system", fmt.Sprintf("a workflow task failed (%s): %s; Temporal retried it",
			strings.TrimPrefix(a.GetCause().String(), "WORKFLOW_TASK_FAILED_CAUSE_"), failureText(a.GetFailure())), nil)
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
		t.emit(e, time.Time{}, KindWorkflowTask, "system",
			"a workflow task timed out (the worker holding the grant stopped or was unreachable); another worker continued from the history", nil)
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		return t.completed(e)
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		t.emit(e, time.Time{}, KindEnded, "system", "the workflow failed: "+failureText(e.GetWorkflowExecutionFailedEventAttributes().GetFailure()), map[string]any{"status": "workflow_failed"})
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		a := e.GetWorkflowExecutionTerminatedEventAttributes()
		t.emit(e, time.Time{}, KindEnded, "client:"+a.GetIdentity(),
			"the workflow was terminated from outside: nothing disabled the account afterwards"+reasonSuffix(a.GetReason()), map[string]any{"status": "terminated"})
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		t.emit(e, time.Time{}, KindEnded, "system", "the workflow timed out", map[string]any{"status": "timed_out"})
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		t.emit(e, time.Time{}, KindEnded, "system", "the workflow ended cancelled", map[string]any{"status": "canceled"})
	}
	return nil
}

func (t *timeline) started(e *historypb.HistoryEvent) error {
	if err := t.decode(e.GetWorkflowExecutionStartedEventAttributes().GetInput(), &t.in); err != nil {
		return err
	}
	in := t.in
	detail := fmt.Sprintf("run started for grant %s: technician %s, application %s in tenant %s", in.GrantID, in.TechnicianID, in.ApplicationID, in.TenantID)
	data := map[string]any{"grant_id": in.GrantID, "tenant_id": in.TenantID, "application_id": in.ApplicationID, "technician_id": in.TechnicianID}
	if c := in.Carry; c != nil {
		t.plan, t.upn, t.status = c.Plan, c.State.AccountUPN, string(c.State.Status)
		detail += fmt.Sprintf(" (continued from an earlier run: %s until %s)", c.State.Status, formatMillis(c.State.ExpiresAt))
		data["continued"] = true
	}
	t.emit(e, e.GetEventTime().AsTime(), KindRequested, "technician:"+in.TechnicianID, detail, data)
	return nil
}
