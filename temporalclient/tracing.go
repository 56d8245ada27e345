package temporalclient

import (
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// TracingInterceptor traces client calls, workflows and activities with tp (the SDK's
// OpenTelemetry interceptor): a span started by the API continues through the workflow and its
// activities in one trace, carried in Temporal headers (never in payloads).
func TracingInterceptor(tp trace.TracerProvider) (interceptor.Interceptor, error) {
	return temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tp.Tracer("github.com/jitaccess/jitaccess/temporalclient")})
}
