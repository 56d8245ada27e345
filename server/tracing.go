package server

import (
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/propagation"
)

// tracing opens a server span per request when Deps.TracerProvider is set (W3C trace context
// from a proxy in front is continued); health probes are not traced.
func (s *Server) tracing() gin.HandlerFunc {
	if s.Deps.TracerProvider == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return otelgin.Middleware("jitaccess",
		otelgin.WithTracerProvider(s.Deps.TracerProvider),
		otelgin.WithPropagators(propagation.TraceContext{}),
		otelgin.WithGinFilter(func(c *gin.Context) bool {
			p := c.Request.URL.Path
			return p != "/healthz" && p != "/readyz"
		}))
}
