package temporalclient

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
)

func traced(ctx workflow.Context, in string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	err := workflow.ExecuteActivity(ctx, "upper", in).Get(ctx, &out)
	return out, err
}

// A span opened by the API (here: the test) continues through the workflow and its activity:
// one trace, client → workflow → activity.
func TestTracingFollowsAGrantIntoTheWorkflowAndActivity(t *testing.T) {
	ts := testenv.Temporal(t, temporaldev.Options{})
	cfg := testConfig(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	c, err := Dial(ctx, cfg, Deps{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const queue = "trace-test"
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(traced, workflow.RegisterOptions{Name: "traced"})
	w.RegisterActivityWithOptions(func(_ context.Context, s string) (string, error) { return s + "!", nil }, activityOptions("upper"))
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	reqCtx, req := tp.Tracer("api").Start(ctx, "POST /v1/access-requests")
	run, err := c.ExecuteWorkflow(reqCtx, client.StartWorkflowOptions{ID: "traced", TaskQueue: queue}, "traced", "grant")
	if err != nil {
		t.Fatal(err)
	}
	req.End()
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "grant!" {
		t.Fatalf("%q, %v", out, err)
	}
	w.Stop()

	trace := req.SpanContext().TraceID()
	found := map[string]bool{}
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() == trace {
			found[s.Name()] = true
		}
	}
	for _, want := range []string{"POST /v1/access-requests", "StartWorkflow:traced", "RunWorkflow:traced", "StartActivity:upper", "RunActivity:upper"} {
		if !found[want] {
			t.Errorf("span %q missing from the request's trace; spans in it: %v", want, found)
		}
	}
}

func activityOptions(name string) activity.RegisterOptions {
	return activity.RegisterOptions{Name: name}
}
