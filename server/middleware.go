package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/server/web"
)

// validRequestID accepts a caller's request id only when it is short and harmless in logs.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID tags each request with an id (the caller's X-Request-Id when sensible), echoed
// in the response and in logs.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !validRequestID.MatchString(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	web.SetRequestID(c, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// recoverJSON turns a panic into a logged 500 with the usual error body.
func (s *Server) recoverJSON(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.Internal(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

// observe records request metrics and logs one line per request. It logs the route
// template, never the query string (the OAuth callback carries a code).
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	elapsed := time.Since(start)
	s.metrics.observe(c.Request.Method, route, c.Writer.Status(), elapsed)
	level := slog.LevelInfo
	if route == "/healthz" || route == "/readyz" || route == "/metrics" {
		level = slog.LevelDebug
	}
	s.Log.Log(c.Request.Context(), level, "http request",
		slog.String("request_id", web.RequestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", c.Writer.Status()),
		slog.Duration("duration", elapsed),
		slog.String("client_ip", c.ClientIP()))
}
