// Package audit derives a grant's timeline from its Temporal workflow history, not from the
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

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
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
		detail += fmt.Sprintf(" (continued from an earlier run: %s until %s)", c.State.Status, formatTime(c.State.ExpiresAt))
		data["continued"] = true
	}
	t.emit(e, e.GetEventTime().AsTime(), KindRequested, "technician:"+in.TechnicianID, detail, data)
	return nil
}

// beginResult decodes the plan BeginGrant returned, if e records it.
func beginResult(dc converter.DataConverter, e *historypb.HistoryEvent) (workflows.Plan, bool) {
	var plan workflows.Plan
	a := e.GetMarkerRecordedEventAttributes()
	if a.GetMarkerName() != "LocalActivity" || a.GetFailure() != nil {
		return plan, false
	}
	var md localActivityMarker
	if decode(dc, a.GetDetails()["data"], &md) != nil || md.ActivityType != workflows.BeginGrantActivity {
		return plan, false
	}
	return plan, decode(dc, a.GetDetails()["result"], &plan) == nil
}

// localActivityMarker is the "data" of the SDK's local activity marker.
type localActivityMarker struct {
	ActivityID   string
	ActivityType string
	Attempt      int32
}

func (t *timeline) marker(e *historypb.HistoryEvent) error {
	a := e.GetMarkerRecordedEventAttributes()
	switch a.GetMarkerName() {
	case "Version":
		var change string
		var version int
		_ = t.decode(a.GetDetails()["change-id"], &change)
		_ = t.decode(a.GetDetails()["version"], &version)
		t.emit(e, time.Time{}, KindVersion, "system", fmt.Sprintf("workflow code version %d for change %q", version, change),
			map[string]any{"change_id": change, "version": version})
		return nil
	case "LocalActivity":
	default:
		return nil
	}
	var md localActivityMarker
	if err := t.decode(a.GetDetails()["data"], &md); err != nil {
		return err
	}
	at := t.workflowNow(a.GetWorkflowTaskCompletedEventId())
	if md.Attempt > 1 && a.GetFailure() == nil {
		t.emit(e, at, KindRetry, "system", fmt.Sprintf("%s succeeded after %d attempts", md.ActivityType, md.Attempt),
			map[string]any{"activity": md.ActivityType, "attempts": md.Attempt})
	}
	if f := a.GetFailure(); f != nil {
		kind := KindStepFailed
		detail := fmt.Sprintf("%s failed after %d attempts: %s", md.ActivityType, max(md.Attempt, 1), failureText(f))
		if md.ActivityType == workflows.RecordGrantActivity {
			// The workflow goes on; the record stays in its outbox and goes with the next write.
			kind = KindRecordFailed
			detail = fmt.Sprintf("the database projection and audit event of this step were not written yet (%s); "+
				"the grant went on and the record was kept for the next write", failureText(f))
		}
		t.emit(e, at, kind, "system", detail, map[string]any{"activity": md.ActivityType, "attempts": md.Attempt, "failure_type": failureType(f)})
		return nil
	}
	plan, ok := beginResult(t.dc, e)
	if !ok {
		return nil
	}
	t.plan = plan
	data := map[string]any{"allowed": !plan.Denied && !plan.Refused, "rule_id": plan.RuleID, "rule_name": plan.RuleName,
		"domain": plan.Domain, "roles": plan.Roles, "duration": plan.Duration.String(), "account_upn": plan.AccountUPN}
	switch {
	case plan.Refused:
		data["reason"] = plan.Reason
		t.emit(e, at, KindRefused, "system", "refused, nothing done: "+plan.Reason, data)
	case plan.Denied:
		data["reason"] = plan.Reason
		t.emit(e, at, KindDenied, "system", "denied: "+plan.Reason, data)
	default:
		detail := fmt.Sprintf("rule %q (%s) entitles %s to application %s for %s; account %s; roles %s",
			plan.RuleName, plan.RuleID, orDash(plan.TechnicianEmail, t.in.TechnicianID), t.in.ApplicationID, plan.Duration,
			plan.AccountUPN, RoleList(plan.Roles))
		t.emit(e, at, KindEntitled, "system", detail, data)
	}
	return nil
}

func (t *timeline) upsert(e *historypb.HistoryEvent) {
	s, ok := statusOf(e)
	if !ok || s == t.status {
		return
	}
	t.enter(e, s, t.workflowNow(e.GetUpsertWorkflowSearchAttributesEventAttributes().GetWorkflowTaskCompletedEventId()))
}

// stepScheduled tells when provisioning and revoking began from the Graph steps themselves
// (the status upserts say it too; enter reports each status once).
func (t *timeline) stepScheduled(e *historypb.HistoryEvent) {
	at := t.workflowNow(e.GetActivityTaskScheduledEventAttributes().GetWorkflowTaskCompletedEventId())
	switch activityType(e) {
	case workflows.EnsureAccountActivity:
		if t.status != string(workflows.StatusProvisioning) {
			t.enter(e, string(workflows.StatusProvisioning), at)
		}
	case workflows.DisableAccountActivity:
		if t.status != string(workflows.StatusRevoking) {
			t.enter(e, string(workflows.StatusRevoking), at)
		}
	}
}

// enter records the grant entering status s at workflow time at.
func (t *timeline) enter(e *historypb.HistoryEvent, s string, at time.Time) {
	t.status = s
	switch s {
	case string(workflows.StatusActive):
		exp := expiresOf(e)
		detail := "access active"
		if t.upn != "" {
			detail += ": " + t.upn + " is usable"
		}
		if !exp.IsZero() {
			detail += " until " + formatTime(exp)
		}
		t.emit(e, at, KindActive, "system", detail, map[string]any{"activated_at": formatTime(at), "expires_at": formatTime(exp)})
	case string(workflows.StatusProvisioning):
		t.emit(e, at, KindStatus, "system", "provisioning: creating or re-enabling the account and assigning roles", map[string]any{"status": s})
	case string(workflows.StatusRevoking):
		t.emit(e, at, KindStatus, "system", "revoking: disabling the account", map[string]any{"status": s})
	}
	// pending is the request itself; final statuses are told by the workflow's end.
}

// activityStarted reports the retries of a step: Temporal records only the last attempt,
// with the failure of the one before it.
func (t *timeline) activityStarted(e *historypb.HistoryEvent) {
	a := e.GetActivityTaskStartedEventAttributes()
	if a.GetAttempt() <= 1 {
		return
	}
	name := activityType(t.scheduled[a.GetScheduledEventId()])
	detail := fmt.Sprintf("%s attempt %d started; the attempt before failed", name, a.GetAttempt())
	data := map[string]any{"activity": name, "attempt": a.GetAttempt()}
	if f := a.GetLastFailure(); f != nil {
		detail += ": " + failureText(f)
		data["failure_type"] = failureType(f)
	}
	t.emit(e, time.Time{}, KindRetry, "system", detail, data)
}

func (t *timeline) activityCompleted(e *historypb.HistoryEvent) error {
	a := e.GetActivityTaskCompletedEventAttributes()
	sched := t.scheduled[a.GetScheduledEventId()]
	input := sched.GetActivityTaskScheduledEventAttributes().GetInput()
	switch activityType(sched) {
	case workflows.EnsureAccountActivity:
		var res workflows.AccountResult
		if err := t.decode(a.GetResult(), &res); err != nil {
			return err
		}
		t.upn = res.UPN
		verb := "re-enabled (it existed from an earlier grant) with a new password"
		if res.Created {
			verb = "created with a new password"
		}
		t.emit(e, time.Time{}, KindAccount, "system", fmt.Sprintf("account %s (object id %s) %s, which only the technician can read",
			res.UPN, res.ObjectID, verb), map[string]any{"upn": res.UPN, "object_id": res.ObjectID, "created": res.Created})
	case workflows.AssignRolesActivity:
		var in workflows.AssignRolesInput
		var res workflows.AssignRolesResult
		if err := t.decode(input, &in); err != nil {
			return err
		}
		if err := t.decode(a.GetResult(), &res); err != nil {
			return err
		}
		t.emit(e, time.Time{}, KindRolesAssigned, "system", fmt.Sprintf("roles %s assigned to %s (%d role %s)",
			RoleList(in.RoleIDs), orDash(t.upn, in.ObjectID), len(res.AssignmentIDs), plural(len(res.AssignmentIDs), "assignment", "assignments")),
			map[string]any{"roles": in.RoleIDs, "object_id": in.ObjectID, "assignment_ids": res.AssignmentIDs})
	case workflows.DisableAccountActivity:
		var in workflows.DisableAccountInput
		var res workflows.DisableAccountResult
		if err := t.decode(input, &in); err != nil {
			return err
		}
		if err := t.decode(a.GetResult(), &res); err != nil {
			return err
		}
		account := orDash(in.UPN, in.ObjectID)
		detail := fmt.Sprintf("account %s disabled, signed out of every session, password replaced by one nobody knows", account)
		if n := res.AssignmentsRemoved; n > 0 {
			detail += fmt.Sprintf(", %d role %s removed", n, plural(n, "assignment", "assignments"))
		}
		if res.WasBlocked {
			detail += " (late: authorization was lost until an admin authorized the application again)"
		}
		t.emit(e, time.Time{}, KindDisabled, "system", detail,
			map[string]any{"upn": in.UPN, "object_id": in.ObjectID, "assignments_removed": res.AssignmentsRemoved, "was_blocked": res.WasBlocked})
	}
	return nil
}

func (t *timeline) activityFailed(e *historypb.HistoryEvent) {
	var sched int64
	var f *failurepb.Failure
	outcome := "failed for good"
	switch {
	case e.GetActivityTaskFailedEventAttributes() != nil:
		a := e.GetActivityTaskFailedEventAttributes()
		sched, f = a.GetScheduledEventId(), a.GetFailure()
		if a.GetRetryState() == enumspb.RETRY_STATE_IN_PROGRESS {
			outcome = "failed"
		}
	case e.GetActivityTaskTimedOutEventAttributes() != nil:
		a := e.GetActivityTaskTimedOutEventAttributes()
		sched, f, outcome = a.GetScheduledEventId(), a.GetFailure(), "timed out"
	case e.GetActivityTaskCanceledEventAttributes() != nil:
		sched, outcome = e.GetActivityTaskCanceledEventAttributes().GetScheduledEventId(), "was cancelled (a revoke arrived while it ran)"
	}
	name := activityType(t.scheduled[sched])
	detail := name + " " + outcome
	data := map[string]any{"activity": name}
	if f != nil {
		detail += ": " + failureText(f)
		data["failure_type"] = failureType(f)
	}
	t.emit(e, time.Time{}, KindStepFailed, "system", detail, data)
}

func (t *timeline) updateAccepted(e *historypb.HistoryEvent) error {
	a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes()
	req := a.GetAcceptedRequest()
	if req.GetInput().GetName() != workflows.ExtendUpdateName {
		return nil
	}
	var ext workflows.ExtendRequest
	if err := t.decode(req.GetInput().GetArgs(), &ext); err != nil {
		return err
	}
	t.updates[req.GetMeta().GetUpdateId()] = ext
	return nil
}

func (t *timeline) updateCompleted(e *historypb.HistoryEvent) error {
	a := e.GetWorkflowExecutionUpdateCompletedEventAttributes()
	ext, ok := t.updates[a.GetMeta().GetUpdateId()]
	if !ok {
		return nil
	}
	actor := actorOf(ext.ByKind, ext.By)
	if f := a.GetOutcome().GetFailure(); f != nil {
		t.emit(e, time.Time{}, KindExtendFailed, actor, fmt.Sprintf("extension by %s failed: %s", ext.Duration, failureText(f)),
			map[string]any{"duration": ext.Duration.String()})
		return nil
	}
	var res workflows.ExtendResult
	if err := t.decode(a.GetOutcome().GetSuccess(), &res); err != nil {
		return err
	}
	t.emit(e, time.Time{}, KindExtended, actor, fmt.Sprintf("extended by %s: access now ends at %s", ext.Duration, formatTime(res.ExpiresAt)),
		map[string]any{"duration": ext.Duration.String(), "expires_at": formatTime(res.ExpiresAt), "by": ext.By})
	return nil
}

func (t *timeline) signaled(e *historypb.HistoryEvent) error {
	a := e.GetWorkflowExecutionSignaledEventAttributes()
	if a.GetSignalName() != workflows.RevokeSignalName {
		t.emit(e, time.Time{}, KindStatus, "client:"+a.GetIdentity(), fmt.Sprintf("unknown signal %q received (ignored by the workflow)", a.GetSignalName()), nil)
		return nil
	}
	var s workflows.RevokeSignal
	if err := t.decode(a.GetInput(), &s); err != nil {
		return err
	}
	actor := actorOf(s.ByKind, s.By)
	if s.By == "" {
		actor = "client:" + a.GetIdentity()
	}
	reason := s.Reason
	if reason == "" {
		reason = "none given"
	}
	detail := fmt.Sprintf("revoke requested, reason %q", reason)
	if st := workflows.Status(t.status); st.Final() || st == workflows.StatusRevoking {
		detail += fmt.Sprintf(" (the grant was already %s: no effect)", t.status)
	}
	t.emit(e, time.Time{}, KindRevokeRequested, actor, detail, map[string]any{"by": s.By, "by_kind": s.ByKind, "reason": s.Reason})
	return nil
}

func (t *timeline) completed(e *historypb.HistoryEvent) error {
	var res workflows.Result
	if err := t.decode(e.GetWorkflowExecutionCompletedEventAttributes().GetResult(), &res); err != nil {
		return err
	}
	actor := "system"
	var detail string
	switch res.Status {
	case workflows.StatusExpired:
		detail = "expired: access ended at " + formatTime(res.ExpiresAt) + " and the account was disabled"
	case workflows.StatusRevoked:
		detail = "revoked"
		if res.RevokedBy != "" {
			detail += " by " + res.RevokedBy
			actor = t.revokerActor(res.RevokedBy)
		}
		if !res.ExpiresAt.IsZero() {
			detail += ", before its expiry at " + formatTime(res.ExpiresAt)
		}
	case workflows.StatusDenied:
		detail = "denied: " + res.Failure
	case workflows.StatusFailed:
		detail = "failed: " + res.Failure
	case "":
		detail = "refused: " + res.Refused
	default:
		detail = string(res.Status)
	}
	data := map[string]any{"status": string(res.Status), "ended_at": formatTime(res.EndedAt)}
	if res.Refused != "" {
		data["status"], data["reason"] = KindRefused, res.Refused
	}
	if res.AccountUPN != "" {
		data["upn"] = res.AccountUPN
	}
	if len(res.Roles) > 0 {
		data["roles"] = res.Roles
	}
	if res.RevokedBy != "" {
		data["revoked_by"] = res.RevokedBy
	}
	t.emit(e, res.EndedAt, KindEnded, actor, detail, data)
	return nil
}

// revokerActor finds the revoker's kind in the revoke signal already seen.
func (t *timeline) revokerActor(by string) string {
	for _, en := range t.entries {
		if en.Kind == KindRevokeRequested && en.Data["by"] == by {
			return en.Actor
		}
	}
	return actorOf("", by)
}

// RoleList names role template ids, with the display name of well-known built-in roles.
func RoleList(ids []string) string {
	if len(ids) == 0 {
		return "(none)"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if name, ok := builtinRoleNames[strings.ToLower(id)]; ok {
			out[i] = fmt.Sprintf("%s (%s)", name, id)
		} else {
			out[i] = id
		}
	}
	return strings.Join(out, ", ")
}

// builtinRoleNames are template ids of common Entra built-in roles (Microsoft's
// "Microsoft Entra built-in roles" reference); others are shown by id.
var builtinRoleNames = map[string]string{
	"62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
	"fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
	"729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
	"29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
	"f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
	"3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
	"194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
	"e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
	"7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
	"f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
	"c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
	"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
	"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
	"158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
	"966707d0-3269-4727-9be2-8c3a10f19b9d": "Password Administrator",
	"69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
	"fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
	"4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
}

func statusOf(e *historypb.HistoryEvent) (string, bool) {
	var fields map[string]*commonpb.Payload
	if a := e.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
		fields = a.GetSearchAttributes().GetIndexedFields()
	} else if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
		fields = a.GetSearchAttributes().GetIndexedFields()
	}
	p, ok := fields[workflows.StatusKey.GetName()]
	if !ok {
		return "", false
	}
	var s string
	if converter.GetDefaultDataConverter().FromPayload(p, &s) != nil {
		return "", false
	}
	return s, true
}

func expiresOf(e *historypb.HistoryEvent) time.Time {
	p, ok := e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()[workflows.ExpiresAtKey.GetName()]
	if !ok {
		return time.Time{}
	}
	var at time.Time
	_ = converter.GetDefaultDataConverter().FromPayload(p, &at)
	return at
}

func activityType(sched *historypb.HistoryEvent) string {
	if name := sched.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName(); name != "" {
		return name
	}
	return "(unknown activity)"
}

// summary decodes a user metadata summary (a JSON string payload).
func (t *timeline) summary(p *commonpb.Payload) string {
	if p == nil {
		return ""
	}
	var s string
	_ = t.dc.FromPayload(p, &s)
	return s
}

func (t *timeline) decode(p *commonpb.Payloads, v any) error { return decode(t.dc, p, v) }

func decode(dc converter.DataConverter, p *commonpb.Payloads, v any) error {
	if len(p.GetPayloads()) == 0 {
		return nil
	}
	return dc.FromPayloads(p, v)
}

// failureText is "<type>: <message>" of a Temporal failure, e.g. "Throttled: disable account …".
func failureText(f *failurepb.Failure) string {
	if f == nil {
		return "(no details)"
	}
	msg := f.GetMessage()
	if typ := failureType(f); typ != "" {
		msg = typ + ": " + msg
	}
	if c := f.GetCause(); c != nil && c.GetMessage() != "" && c.GetMessage() != f.GetMessage() {
		msg += " (cause: " + failureText(c) + ")"
	}
	return msg
}

func failureType(f *failurepb.Failure) string {
	switch {
	case f.GetApplicationFailureInfo() != nil:
		return f.GetApplicationFailureInfo().GetType()
	case f.GetTimeoutFailureInfo() != nil:
		return "Timeout(" + strings.TrimPrefix(f.GetTimeoutFailureInfo().GetTimeoutType().String(), "TIMEOUT_TYPE_") + ")"
	case f.GetCanceledFailureInfo() != nil:
		return "Canceled"
	case f.GetTerminatedFailureInfo() != nil:
		return "Terminated"
	}
	return ""
}

func actorOf(kind, id string) string {
	if id == "" {
		return "system"
	}
	if kind == "" {
		kind = "technician"
	}
	return kind + ":" + id
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return fmt.Sprintf(", reason %q", reason)
}

func orDash(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return "-"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// formatTime shows times to the millisecond, like the timeline's own column.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"
