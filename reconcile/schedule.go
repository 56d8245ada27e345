package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// ScheduleID is the Temporal Schedule that runs the reconciler (Schedules page of the UI);
// its runs' workflow ids start with it too.
const ScheduleID = "jitaccess-reconcile"

// Register registers the Reconcile workflow and its activities on a worker.
func Register(r interface {
	sdkworker.WorkflowRegistry
	sdkworker.ActivityRegistry
}, acts *Activities) {
	r.RegisterWorkflowWithOptions(Reconcile, workflow.RegisterOptions{Name: WorkflowType})
	r.RegisterActivity(acts)
}

// ScheduleClient is the part of client.Client that EnsureSchedule needs.
type ScheduleClient interface {
	ScheduleClient() client.ScheduleClient
}

// EnsureSchedule creates the reconciler's Schedule (every interval, Reconcile on taskQueue,
// an overlapping run skipped) or updates it to that interval and queue. Every worker calls
// it at start-up; concurrent callers converge on the same Schedule.
func EnsureSchedule(ctx context.Context, c ScheduleClient, interval time.Duration, taskQueue string) error {
	if interval <= 0 {
		return fmt.Errorf("reconcile schedule: interval %s is not positive", interval)
	}
	sc := c.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID:      ScheduleID,
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}},
		Action:  scheduleAction(taskQueue),
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Note:    "jitaccess reconciler: compares directory, Temporal and database; repairs toward disabled",
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", ScheduleID, err)
	}
	err = sc.GetHandle(ctx, ScheduleID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}}
			s.Action = scheduleAction(taskQueue)
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", ScheduleID, err)
	}
	return nil
}

func scheduleAction(taskQueue string) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:                       ScheduleID,
		Workflow:                 WorkflowType,
		Args:                     []any{Input{}},
		TaskQueue:                taskQueue,
		WorkflowExecutionTimeout: 2 * time.Hour,
	}
}
