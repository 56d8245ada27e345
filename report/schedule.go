package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/store"
)

// Names on the Temporal side.
const (
	ScheduleID          = "jitaccess-monthly-reports"
	WorkflowType        = "MonthlyReports"
	GenerateActivity    = "GenerateMonthlyReports"
	monthlyCron         = "0 2 1 * *" // 02:00 UTC on the 1st: the month before is complete
	generatedBySchedule = "schedule"
)

// Keeper is where a monthly run reads tenants and keeps what it generates (a *store.Store).
type Keeper interface {
	Source
	Tenants(ctx context.Context, p store.Page) ([]store.Tenant, string, error)
	KeepReport(ctx context.Context, r store.KeptReport) (store.KeptReport, bool, error)
}

// MonthlyInput names the month to report on by its first instant (UTC).
type MonthlyInput struct {
	Month time.Time
}

// MonthlyResult counts what a run kept (reports already kept are not generated twice).
type MonthlyResult struct {
	Tenants int
	Kept    int
}

// Monthly holds the activity of the monthly run.
type Monthly struct {
	Store Keeper
	Now   func() time.Time
}

// GenerateMonthlyReports builds the CSV and PDF of every tenant for in.Month and keeps them.
func (m *Monthly) GenerateMonthlyReports(ctx context.Context, in MonthlyInput) (MonthlyResult, error) {
	from := time.Date(in.Month.Year(), in.Month.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	var res MonthlyResult
	cursor := ""
	for {
		tenants, next, err := m.Store.Tenants(ctx, store.Page{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return res, fmt.Errorf("monthly reports: %w", err)
		}
		for _, t := range tenants {
			kept, err := Keep(ctx, m.Store, t.ID, from, to, now(), generatedBySchedule)
			if err != nil {
				return res, err
			}
			res.Tenants++
			res.Kept += kept
			activity.RecordHeartbeat(ctx, t.ID)
		}
		if next == "" {
			return res, nil
		}
		cursor = next
	}
}

// Keep builds one tenant's report for [from, to) in both formats and keeps them; it returns
// how many were new.
func Keep(ctx context.Context, k Keeper, tenantID string, from, to, now time.Time, by string) (int, error) {
	r, err := Build(ctx, k, tenantID, from, to, now)
	if err != nil {
		return 0, err
	}
	kept := 0
	for _, f := range []struct {
		format string
		write  func(*bytes.Buffer, Report) error
	}{
		{"csv", func(b *bytes.Buffer, r Report) error { return WriteCSV(b, r) }},
		{"pdf", func(b *bytes.Buffer, r Report) error { return WritePDF(b, r) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b, r); err != nil {
			return kept, err
		}
		_, created, err := k.KeepReport(ctx, store.KeptReport{TenantID: tenantID, PeriodFrom: from, PeriodTo: to, Format: f.format,
			Content: b.Bytes(), CreatedBy: by})
		if err != nil {
			return kept, fmt.Errorf("keep %s report of %s: %w", f.format, tenantID, err)
		}
		if created {
			kept++
		}
	}
	return kept, nil
}

// MonthlyReportsWorkflow reports on the calendar month before the one it runs in.
func MonthlyReportsWorkflow(ctx workflow.Context) (MonthlyResult, error) {
	now := workflow.Now(ctx).UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumInterval: 10 * time.Minute},
	})
	var res MonthlyResult
	err := workflow.ExecuteActivity(ctx, GenerateActivity, MonthlyInput{Month: month}).Get(ctx, &res)
	return res, err
}

// Register registers the monthly workflow and its activity on a worker (the worker's owner
// calls it beside worker.Register).
func Register(r interface {
	worker.WorkflowRegistry
	worker.ActivityRegistry
}, m *Monthly) {
	r.RegisterWorkflowWithOptions(MonthlyReportsWorkflow, workflow.RegisterOptions{Name: WorkflowType})
	r.RegisterActivityWithOptions(m.GenerateMonthlyReports, activity.RegisterOptions{Name: GenerateActivity})
}

// EnsureReportSchedule creates the monthly schedule on taskQueue unless it exists already.
func EnsureReportSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:   ScheduleID,
		Spec: client.ScheduleSpec{CronExpressions: []string{monthlyCron}},
		Action: &client.ScheduleWorkflowAction{
			ID:        ScheduleID,
			Workflow:  WorkflowType,
			TaskQueue: taskQueue,
		},
	})
	var exists *serviceerror.AlreadyExists
	if err == nil || errors.Is(err, temporal.ErrScheduleAlreadyRunning) || errors.As(err, &exists) {
		return nil
	}
	return fmt.Errorf("monthly report schedule: %w", err)
}
