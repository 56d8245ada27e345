package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/server/web"
)

// readyTimeout bounds each readiness check.
const readyTimeout = 3 * time.Second

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz runs every check concurrently and answers 503 naming the ones that failed.
func (s *Server) readyz(c *gin.Context) {
	checks := s.Deps.ReadyChecks
	results := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, ch := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
			defer cancel()
			results[i] = ch.Check(ctx)
		}()
	}
	wg.Wait()
	status := map[string]string{}
	var failed []string
	for i, ch := range checks {
		if results[i] != nil {
			status[ch.Name] = "unavailable"
			failed = append(failed, ch.Name)
			s.Log.WarnContext(c.Request.Context(), "readiness check failed", slog.String("check", ch.Name), slog.Any("error", results[i]))
			continue
		}
		status[ch.Name] = "ok"
	}
	if len(failed) > 0 {
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{
			"error":  web.ErrorBody{Code: "not_ready", Message: "Not ready: " + strings.Join(failed, ", ") + " unavailable."},
			"checks": status,
		})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": status})
}
