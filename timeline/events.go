package timeline

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitaccess/jitaccess/workflows"
)

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
			detail += " until " + formatMillis(exp)
		}
		t.emit(e, at, KindActive, "system", detail, map[string]any{"activated_at": formatMillis(at), "expires_at": formatMillis(exp)})
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
			RoleList(in.RoleIDs), orDash(t.upn, in.ObjectID), len(res.AssignmentIDs), workflows.Plural(len(res.AssignmentIDs), "assignment", "assignments")),
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
			detail += fmt.Sprintf(", %d role %s removed", n, workflows.Plural(n, "assignment", "assignments"))
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
	t.emit(e, time.Time{}, KindExtended, actor, fmt.Sprintf("extended by %s: access now ends at %s", ext.Duration, formatMillis(res.ExpiresAt)),
		map[string]any{"duration": ext.Duration.String(), "expires_at": formatMillis(res.ExpiresAt), "by": ext.By})
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
		detail = "expired: access ended at " + formatMillis(res.ExpiresAt) + " and the account was disabled"
	case workflows.StatusRevoked:
		detail = "revoked"
		if res.RevokedBy != "" {
			detail += " by " + res.RevokedBy
			actor = t.revokerActor(res.RevokedBy)
		}
		if !res.ExpiresAt.IsZero() {
			detail += ", before its expiry at " + formatMillis(res.ExpiresAt)
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
	data := map[string]any{"status": string(res.Status), "ended_at": formatMillis(res.EndedAt)}
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
