package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// One trace follows a grant from the API request through the workflow start, the workflow,
// its activities and the Graph HTTP calls they make (context propagated through Temporal's
// headers and the request contexts), on the real stack.
func TestOneTraceFromAPIToGraph(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	s := newStack(t, stackOptions{Tracer: tp})
	d := s.seed("1h")

	var g grantView
	if code := s.call(d.TechnicianToken, http.MethodPost, "/v1/access-requests", map[string]any{"application_id": d.ApplicationID}, &g); code != http.StatusAccepted {
		t.Fatalf("request: %d", code)
	}
	s.waitStatus(d.TechnicianToken, g.ID, "active", 60*time.Second)

	// The API's server span of the request.
	spans := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	var api sdktrace.ReadOnlySpan
	for _, sp := range rec.Started() {
		spans[sp.SpanContext().SpanID()] = sp
		if sp.SpanKind() == trace.SpanKindServer && sp.Name() == "POST /v1/access-requests" {
			api = sp
		}
	}
	if api == nil {
		t.Fatalf("no server span for POST /v1/access-requests among %d spans", len(spans))
	}
	// chain names the spans from sp up to its root.
	chain := func(sp sdktrace.ReadOnlySpan) []string {
		var names []string
		for sp != nil {
			names = append(names, sp.Name())
			sp = spans[sp.Parent().SpanID()]
		}
		return names
	}
	// A Graph call whose ancestry runs activity → workflow → workflow start → API request.
	want := []string{"RunActivity:", "StartActivity:", "RunWorkflow:AccessRequest", "StartWorkflow:AccessRequest", "POST /v1/access-requests"}
	var graphCalls int
	for _, sp := range rec.Started() {
		if sp.SpanKind() != trace.SpanKindClient || !strings.HasPrefix(sp.Name(), "Graph ") || sp.SpanContext().TraceID() != api.SpanContext().TraceID() {
			continue
		}
		graphCalls++
		names := chain(sp)
		i := 0
		for _, n := range names {
			if i < len(want) && strings.HasPrefix(n, want[i]) {
				i++
			}
		}
		if i < len(want) {
			t.Errorf("Graph span's ancestry %v lacks %v in order", names, want)
		}
		if names[len(names)-1] != "POST /v1/access-requests" {
			t.Errorf("the trace's root is %q, not the API request", names[len(names)-1])
		}
	}
	if graphCalls == 0 {
		t.Fatalf("no Graph call in the request's trace (%d spans recorded)", len(spans))
	}
	t.Logf("%d Graph calls in the trace of POST /v1/access-requests", graphCalls)
}
