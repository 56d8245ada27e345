package worker_test

import (
	"io"
	"log/slog"
	"testing"

	enums "go.temporal.io/api/enums/v1"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/replay"
	"github.com/jitaccess/jitaccess/workflows"
)

// BenchmarkRebuildEvictedGrant is what a grant evicted from the workflow cache costs when its
// timer fires: its history up to the timer (recorded in workflows/testdata/expired.json)
// replayed into a fresh workflow, local activities answered from their markers.
//
//	go test -run '^$' -bench RebuildEvictedGrant ./worker/
func BenchmarkRebuildEvictedGrant(b *testing.B) {
	h, err := replay.ReadFile("../workflows/testdata/expired.json")
	if err != nil {
		b.Fatal(err)
	}
	for i, e := range h.Events {
		if e.GetEventType() == enums.EVENT_TYPE_TIMER_FIRED {
			h.Events = h.Events[:i+1]
			break
		}
	}
	lg := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.ReportAllocs()
	for b.Loop() {
		r := sdkworker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowType})
		if err := r.ReplayWorkflowHistory(lg, h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(h.Events)), "events")
}
