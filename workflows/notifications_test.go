package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// notifierTestWorkflow publishes two events around a step that must not wait for them.
func notifierTestWorkflow(ctx workflow.Context) (time.Duration, error) {
	var nt notifier
	start := workflow.Now(ctx)
	nt.publish(ctx, GrantNotification{Event: NotifyRevoked, GrantID: "grt_1", Key: "1", ActorID: "bob"})
	nt.publish(ctx, GrantNotification{Event: NotifyFailed, GrantID: "grt_1", Key: "2"})
	waited := workflow.Now(ctx).Sub(start) // what the next step (a disable) waited
	nt.flush(ctx, time.Hour)
	return waited, nil
}

func TestNotifierPublishesWithoutBlockingOrFailing(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	var mu sync.Mutex
	var got []GrantNotification
	env.RegisterWorkflow(notifierTestWorkflow)
	env.RegisterActivityWithOptions(func(_ context.Context, n GrantNotification) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, n)
		if n.Event == NotifyFailed {
			return 0, temporal.NewNonRetryableApplicationError("outbox unavailable", "Test", nil)
		}
		return 1, nil
	}, activity.RegisterOptions{Name: PublishGrantEventActivity})
	env.ExecuteWorkflow(notifierTestWorkflow)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError(), "a notification that cannot be queued never fails the grant")
	var waited time.Duration
	require.NoError(t, env.GetWorkflowResult(&waited))
	require.Zero(t, waited)
	require.ElementsMatch(t, []GrantNotification{
		{Event: NotifyRevoked, GrantID: "grt_1", Key: "1", ActorID: "bob"},
		{Event: NotifyFailed, GrantID: "grt_1", Key: "2"},
	}, got)
}
