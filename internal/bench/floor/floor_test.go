package floor

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/workflows"
)

// The floor keeps the product's shape with the default sign-in method (password_and_tap):
// 4 local activities, 6 regular ones, one timer, status expired.
func TestFloorHasTheProductsShape(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(Workflow)
	env.RegisterActivity(&floorActivities{})
	regular, local := 0, 0
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { regular++ })
	env.SetOnLocalActivityStartedListener(func(*activity.Info, context.Context, []any) { local++ })
	env.ExecuteWorkflow(Workflow, Input{Duration: time.Minute})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st workflows.State
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Status != "expired" || regular != 6 || local != 4 {
		t.Fatalf("status %s, %d regular and %d local activities; want expired, 6 and 4", st.Status, regular, local)
	}
}
