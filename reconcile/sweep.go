package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// AccountsPerRead is how many accounts one directory read covers (one $batch of 20 requests,
// 30 of Graph's identity resource units).
const AccountsPerRead = 10

// DefaultPace is the least time between two directory reads of one application's sweep:
// about 30 resource units a second, under a tenth of the smallest tenant's budget (3,500 per
// 10 s), and no write at all unless something is repaired, so a sweep never starves the
// disables of the tenant's grants.
const DefaultPace = time.Second

// grantsPerPage is how many open grants one database read returns.
const grantsPerPage = 100

// maxThrottleWaits bounds how many times one directory call waits out a 429's Retry-After.
const maxThrottleWaits = 6

const doneRecorded = "recorded; nothing changed (an account is never re-enabled by the reconciler)"

// Directory is the part of the Entra connector (*entra.Client) the reconciler needs.
type Directory interface {
	// AccountStates reads up to AccountsPerRead accounts by object id (or one by UPN).
	AccountStates(ctx context.Context, applicationID string, refs []string) ([]directory.AccountState, error)
	DisableAccount(ctx context.Context, applicationID, objectID string, assignmentIDs []string, scramble string) error
	RemoveAssignments(ctx context.Context, applicationID string, assignmentIDs []string) error
	// DeleteTAP with an empty tapID deletes every Temporary Access Pass of the account.
	DeleteTAP(ctx context.Context, applicationID, objectID, tapID string) error
}

// Store is the part of *store.Store the reconciler needs.
type Store interface {
	ReconcileApplications(ctx context.Context, tenantID string) ([]string, error)
	OpenGrants(ctx context.Context, applicationID, afterID string, limit int) ([]store.Grant, error)
	CreatedAccounts(ctx context.Context, applicationID, afterID string, limit int) ([]store.CreatedAccount, error)
	LiveGrantsOfAccount(ctx context.Context, tenantID, technicianID, accountID string) ([]store.Grant, error)
	GrantOfRun(ctx context.Context, workflowID, runID string) (store.Grant, error)
	TerminateGrant(ctx context.Context, grantID, reason string, endedAt time.Time, event store.AuditEvent) (bool, error)
	RecordAudit(ctx context.Context, e store.AuditEvent) error
	Technician(ctx context.Context, id string) (store.Technician, error)
	ApplicationConfig(ctx context.Context, applicationID string) (store.ApplicationConfig, error)
	// PinnedEntraTenant is the Entra tenant the application's consent is pinned to ("" before
	// the first consent); every directory call of its sweep is bound to it.
	PinnedEntraTenant(ctx context.Context, applicationID string) (string, error)
}

// Runs is the part of the Temporal client (client.Client) the reconciler needs.
type Runs interface {
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
	GetWorkflowHistory(ctx context.Context, workflowID, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
}

// Sweeper compares directory, Temporal and database for one application at a time.
type Sweeper struct {
	Store     Store
	Directory Directory
	Runs      Runs
	Metrics   *Metrics // nil counts nothing
	Logger    *slog.Logger
	// Notifier announces a finding about a grant as its drift event (nil: none).
	Notifier Notifier
	// Pace is the least time between two directory reads of one application; 0: DefaultPace.
	Pace time.Duration
}

// SweepInput names one application's sweep. SweepID is the same for every attempt of one
// sweep: the audit events' ids derive from it, so a retried sweep logs a finding once.
type SweepInput struct {
	ApplicationID string
	DryRun        bool
	SweepID       string
}

// SweepResult is what one application's sweep found.
type SweepResult struct {
	ApplicationID string
	Grants        int // open grants compared with their runs
	Accounts      int // accounts read in the directory
	Findings      []Finding
}

// Sweep runs SweepApplication for every application (of tenantID, when not empty) one after
// the other, and returns every finding; an application that fails does not stop the others.
func (s *Sweeper) Sweep(ctx context.Context, tenantID string, dryRun bool) ([]Finding, error) {
	apps, err := s.Store.ReconcileApplications(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	id := store.NewID("rec")
	var all []Finding
	var errs []error
	for _, app := range apps {
		r, err := s.SweepApplication(ctx, SweepInput{ApplicationID: app, DryRun: dryRun, SweepID: id})
		all = append(all, r.Findings...)
		if err != nil {
			errs = append(errs, fmt.Errorf("application %s: %w", app, err))
		}
	}
	return all, errors.Join(errs...)
}

// SweepApplication compares an application's open grants with their runs, then every account
// its grants recorded with the directory, and repairs toward disabled (unless DryRun).
func (s *Sweeper) SweepApplication(ctx context.Context, in SweepInput) (SweepResult, error) {
	start := time.Now()
	res := SweepResult{ApplicationID: in.ApplicationID}
	if in.SweepID == "" {
		in.SweepID = store.NewID("rec")
	}
	tid, err := s.Store.PinnedEntraTenant(ctx, in.ApplicationID)
	if err != nil {
		return res, fmt.Errorf("read the Entra tenant of application %s: %w", in.ApplicationID, err)
	}
	if tid != "" {
		ctx = directory.WithTenant(ctx, tid)
	}
	err = s.sweepGrants(ctx, in, &res)
	if err == nil {
		err = s.sweepAccounts(ctx, in, &res)
	}
	s.Metrics.sweep(err, time.Since(start))
	s.logger().InfoContext(ctx, "reconcile sweep", "application_id", in.ApplicationID, "dry_run", in.DryRun,
		"grants", res.Grants, "accounts", res.Accounts, "findings", len(res.Findings), "elapsed", time.Since(start), "error", err)
	return res, err
}

func (s *Sweeper) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// report counts, logs and (unless a dry run) audits a finding.
func (s *Sweeper) report(ctx context.Context, in SweepInput, res *SweepResult, f Finding) error {
	f.DryRun = in.DryRun
	res.Findings = append(res.Findings, f)
	s.Metrics.finding(f)
	s.logger().WarnContext(ctx, "reconcile finding", "kind", f.Kind, "application_id", f.ApplicationID, "grant_id", f.GrantID,
		"account_id", f.AccountID, "upn", f.UPN, "seen", f.Seen, "done", f.Done, "dry_run", f.DryRun, "error", f.Error)
	if in.DryRun {
		return nil
	}
	if err := s.Store.RecordAudit(ctx, store.AuditEvent{
		ID:       store.DerivedID("aud", in.SweepID+"|"+f.Kind+"|"+f.target()),
		TenantID: f.TenantID, ActorID: "reconciler", ActorKind: store.ActorSystem,
		Action: f.Kind, Target: f.target(), Details: f.details(),
	}); err != nil {
		return err
	}
	if s.Notifier == nil || f.GrantID == "" {
		return nil
	}
	reason := f.Kind + ": " + f.Seen
	if f.Done != "" {
		reason += "; " + f.Done
	}
	_, err := s.Notifier.PublishGrantEvent(ctx, workflows.GrantNotification{Event: workflows.NotifyDrift, GrantID: f.GrantID,
		Key: in.SweepID + "|" + f.Kind, ActorID: "", Reason: reason})
	return err
}

// Notifier queues grant events (notify.Publisher).
type Notifier interface {
	PublishGrantEvent(ctx context.Context, n workflows.GrantNotification) (int, error)
}

// --- grants against their runs ---

func (s *Sweeper) sweepGrants(ctx context.Context, in SweepInput, res *SweepResult) error {
	after := ""
	for {
		gs, err := s.Store.OpenGrants(ctx, in.ApplicationID, after, grantsPerPage)
		if err != nil {
			return err
		}
		for _, g := range gs {
			after = g.ID
			res.Grants++
			if err := s.checkGrant(ctx, in, res, g); err != nil {
				return err
			}
		}
		heartbeat(ctx, "grants", after)
		if len(gs) < grantsPerPage {
			return nil
		}
	}
}

// checkGrant compares an open grant with its run. A run still running is the grant's truth;
// a closed one means the grant's own cleanup never ran.
func (s *Sweeper) checkGrant(ctx context.Context, in SweepInput, res *SweepResult, g store.Grant) error {
	if g.WorkflowID == "" {
		return nil
	}
	if g.RunID == "" {
		return s.checkUnstarted(ctx, in, res, g)
	}
	closed, closedAt, err := s.runClosed(ctx, g.WorkflowID, g.RunID)
	if err != nil || closed == "" {
		return err
	}
	f := Finding{TenantID: g.TenantID, ApplicationID: g.ApplicationID, GrantID: g.ID, AccountID: g.AccountID, UPN: g.AccountUPN}

	// A newer run of the same workflow id that is running: a continue-as-new or a Reset.
	liveRun, running, err := s.runningRun(ctx, g.WorkflowID)
	if err != nil {
		return err
	}
	if running && liveRun != g.RunID {
		other, err := s.Store.GrantOfRun(ctx, g.WorkflowID, liveRun)
		switch {
		case errors.Is(err, store.ErrNotFound), err == nil && other.ID == g.ID:
			return nil // the grant lives on in the newer run
		case err != nil:
			return err
		}
		f.Kind = KindGrantSuperseded
		f.Seen = fmt.Sprintf("grant %s but its run %s %s; the live run %s projects grant %s", g.Status, g.RunID, closed, liveRun, other.ID)
		f.Done = "grant terminated, credential deleted; the account is left to grant " + other.ID
		if !in.DryRun {
			if _, err := s.Store.TerminateGrant(ctx, g.ID, "run "+closed+"; superseded by grant "+other.ID, closedAt, terminatedEvent(in, g, f.Seen)); err != nil {
				return err
			}
		}
		return s.report(ctx, in, res, f)
	}

	f.Kind = KindRunClosed
	f.Seen = fmt.Sprintf("grant %s but its run %s %s", g.Status, g.RunID, closed)
	if in.DryRun {
		f.Done = "terminate the grant, delete its credential, fully disable its account and delete its temporary access passes"
		return s.report(ctx, in, res, f)
	}
	// The row first: from here on the credential is gone and the API refuses it.
	if _, err := s.Store.TerminateGrant(ctx, g.ID, "run "+closed+"; the reconciler disabled the account", closedAt, terminatedEvent(in, g, f.Seen)); err != nil {
		return err
	}
	done, objectID, upn, err := s.disableAfterClosedRun(ctx, g)
	f.Done = "grant terminated, credential deleted; " + done
	if f.AccountID == "" {
		f.AccountID, f.UPN = objectID, upn
	}
	if err != nil {
		f.Error = err.Error() // the account sweep retries it: the grant is final now
	}
	return s.report(ctx, in, res, f)
}

// UnstartedGrace is how long a pending grant may wait for its run: the API gives up starting
// it after 15 s (access's start timeout); the rest is margin.
const UnstartedGrace = time.Minute

// checkUnstarted ends a pending grant that no run claimed once the API can no longer start
// one, unless a run of its workflow id is running (its first step will claim or refuse it).
// No directory call: nothing was created for it.
func (s *Sweeper) checkUnstarted(ctx context.Context, in SweepInput, res *SweepResult, g store.Grant) error {
	if g.Status != string(workflows.StatusPending) || time.Since(g.RequestedAt) < UnstartedGrace {
		return nil
	}
	if _, running, err := s.runningRun(ctx, g.WorkflowID); err != nil || running {
		return err
	}
	f := Finding{Kind: KindRunMissing, TenantID: g.TenantID, ApplicationID: g.ApplicationID, GrantID: g.ID,
		Seen: fmt.Sprintf("grant pending since %s but no run of %s claimed it", formatTime(g.RequestedAt), g.WorkflowID)}
	if in.DryRun {
		f.Done = "terminate the grant (nothing was created for it)"
		return s.report(ctx, in, res, f)
	}
	if _, err := s.Store.TerminateGrant(ctx, g.ID, "its workflow never started; the reconciler ended the request",
		time.Now(), terminatedEvent(in, g, f.Seen)); err != nil {
		return err
	}
	f.Done = "grant terminated; nothing was created for it"
	return s.report(ctx, in, res, f)
}

// runningRun says whether a run of the workflow id is running, and its run id.
func (s *Sweeper) runningRun(ctx context.Context, workflowID string) (runID string, running bool, err error) {
	latest, err := s.Runs.DescribeWorkflowExecution(ctx, workflowID, "")
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("describe workflow %s: %w", workflowID, err)
	}
	info := latest.GetWorkflowExecutionInfo()
	return info.GetExecution().GetRunId(), info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// runClosed describes a run: "" while it runs, else how it closed ("terminated", "not found
// in Temporal", …, with the terminate reason when there is one) and when.
func (s *Sweeper) runClosed(ctx context.Context, workflowID, runID string) (string, time.Time, error) {
	desc, err := s.Runs.DescribeWorkflowExecution(ctx, workflowID, runID)
	if isNotFound(err) {
		return "is not found in Temporal (past the namespace's retention, or deleted)", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("describe run %s/%s: %w", workflowID, runID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return "", time.Time{}, nil
	}
	how := strings.ToLower(info.GetStatus().String())
	if reason := s.closeReason(ctx, workflowID, runID); reason != "" {
		how += " (" + reason + ")"
	}
	var at time.Time
	if ct := info.GetCloseTime(); ct != nil {
		at = ct.AsTime()
	}
	return "closed " + how, at, nil
}

// closeReason is the reason a run was terminated, or its failure's message; "" otherwise.
func (s *Sweeper) closeReason(ctx context.Context, workflowID, runID string) string {
	it := s.Runs.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	if !it.HasNext() {
		return ""
	}
	ev, err := it.Next()
	if err != nil {
		return ""
	}
	var r string
	switch {
	case ev.GetWorkflowExecutionTerminatedEventAttributes() != nil:
		r = ev.GetWorkflowExecutionTerminatedEventAttributes().GetReason()
		if id := ev.GetWorkflowExecutionTerminatedEventAttributes().GetIdentity(); id != "" {
			r += " by " + id
		}
	case ev.GetWorkflowExecutionFailedEventAttributes() != nil:
		r = ev.GetWorkflowExecutionFailedEventAttributes().GetFailure().GetMessage()
	}
	if len(r) > 200 {
		r = r[:200] + "…"
	}
	return strings.TrimSpace(r)
}

// disableAfterClosedRun fully disables the account of a grant whose run closed, unless a
// live grant holds it. Without a recorded account it looks the account up by name only when
// the run had scheduled EnsureAccount (which may have created it before the run closed).
func (s *Sweeper) disableAfterClosedRun(ctx context.Context, g store.Grant) (done, objectID, upn string, err error) {
	objectID, upn = g.AccountID, g.AccountUPN
	if objectID == "" {
		if upn == "" {
			started, err := s.scheduled(ctx, g.WorkflowID, g.RunID, workflows.EnsureAccountActivity)
			if err != nil {
				return "", "", "", err
			}
			if !started {
				return "no account was provisioned", "", "", nil
			}
			if upn, err = s.accountName(ctx, g); err != nil {
				return "", "", "", err
			}
		}
		var st []directory.AccountState
		err := s.throttled(ctx, func() (err error) {
			st, err = s.Directory.AccountStates(ctx, g.ApplicationID, []string{upn})
			return err
		})
		if err != nil {
			return "", "", upn, err
		}
		if len(st) == 0 || !st[0].Exists {
			return "no account " + upn + " exists", "", upn, nil
		}
		objectID = st[0].ObjectID
	}
	live, err := s.Store.LiveGrantsOfAccount(ctx, g.TenantID, g.TechnicianID, objectID)
	if err != nil {
		return "", objectID, upn, err
	}
	for _, o := range live {
		if o.ID != g.ID {
			return "account left to live grant " + o.ID, objectID, upn, nil
		}
	}
	done, err = s.fullDisable(ctx, g.ApplicationID, objectID)
	return done, objectID, upn, err
}

// scheduled reports whether a run's history scheduled an activity of the given type.
func (s *Sweeper) scheduled(ctx context.Context, workflowID, runID, activityType string) (bool, error) {
	it := s.Runs.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if isNotFound(err) {
			return true, nil // history gone: assume the worst
		}
		if err != nil {
			return false, fmt.Errorf("history of %s/%s: %w", workflowID, runID, err)
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activityType {
			return true, nil
		}
	}
	return false, nil
}

// accountName is the UPN EnsureAccount gives the grant's technician in the application's domain.
func (s *Sweeper) accountName(ctx context.Context, g store.Grant) (string, error) {
	tech, err := s.Store.Technician(ctx, g.TechnicianID)
	if err != nil {
		return "", err
	}
	app, err := s.Store.ApplicationConfig(ctx, g.ApplicationID)
	if err != nil {
		return "", err
	}
	return directory.BuildUPN(tech.Email, app.Domain)
}

func terminatedEvent(in SweepInput, g store.Grant, seen string) store.AuditEvent {
	return store.AuditEvent{
		ID:       store.DerivedID("aud", in.SweepID+"|grant.terminated|"+g.ID),
		TenantID: g.TenantID, ActorID: "reconciler", ActorKind: store.ActorSystem,
		Action: "grant.terminated", Target: g.ID,
		Details: map[string]any{"reason": seen, "workflow_id": g.WorkflowID, "run_id": g.RunID, "previous_status": g.Status},
	}
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// heartbeat tells Temporal the sweep progresses (a no-op outside an activity).
func heartbeat(ctx context.Context, details ...any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, details...)
	}
}
