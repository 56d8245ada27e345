package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/report"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// The scheduled run on 1 December keeps November's CSV and PDF of every tenant, once.
func TestMonthlyWorkflowKeepsLastMonthsReports(t *testing.T) {
	db := testenv.MigratedDB(t, "postgres")
	sealer, err := seal.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	st := store.New(db, sealer)
	s := seedMonth(t, st)
	monthly := &report.Monthly{Store: st, Now: func() time.Time { return time.Date(2026, 12, 1, 2, 0, 5, 0, time.UTC) }}

	for run, wantKept := range []int{4, 0} {
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		report.Register(env, monthly)
		env.SetStartTime(time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC))
		env.ExecuteWorkflow(report.WorkflowType)
		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())
		var res report.MonthlyResult
		require.NoError(t, env.GetWorkflowResult(&res))
		require.Equal(t, report.MonthlyResult{Tenants: 2, Kept: wantKept}, res, "run %d", run)
	}

	kept, err := st.KeptReports(context.Background(), s.tenant.ID)
	require.NoError(t, err)
	require.Len(t, kept, 2)
	for _, k := range kept {
		require.True(t, s.from.Equal(k.PeriodFrom))
		require.True(t, s.to.Equal(k.PeriodTo))
		full, err := st.KeptReportContent(context.Background(), k.ID)
		require.NoError(t, err)
		switch k.Format {
		case "csv":
			require.Contains(t, string(full.Content), "INC-1001")
		case "pdf":
			require.True(t, strings.HasPrefix(string(full.Content), "%PDF-"))
		default:
			t.Fatalf("format %q", k.Format)
		}
	}
}

// The schedule is created once on the real server, monthly, and a second call leaves it be.
func TestEnsureReportSchedule(t *testing.T) {
	srv := testenv.Temporal(t, temporaldev.Options{})
	ctx := context.Background()
	c, err := client.Dial(client.Options{HostPort: srv.Address, Namespace: srv.Namespace})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, report.EnsureReportSchedule(ctx, c, "jit-access"))
	require.NoError(t, report.EnsureReportSchedule(ctx, c, "jit-access"), "idempotent")
	d, err := c.ScheduleClient().GetHandle(ctx, report.ScheduleID).Describe(ctx)
	require.NoError(t, err)
	act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	require.Equal(t, report.WorkflowType, act.Workflow)
	require.Equal(t, "jit-access", act.TaskQueue)
	next := d.Info.NextActionTimes
	require.NotEmpty(t, next)
	for _, at := range next {
		at = at.UTC()
		require.Equal(t, 1, at.Day(), at)
		require.Equal(t, 2, at.Hour(), at)
	}
}
