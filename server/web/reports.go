package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// ParseDay reads a query time: a date (2026-11-01, midnight UTC) or an RFC 3339 time.
func ParseDay(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t.UTC(), err == nil
}

// SendFile answers a report file as a download.
func SendFile(c *gin.Context, contentType, filename, sha string, body []byte) {
	c.Header("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	if sha != "" {
		c.Header("X-Content-SHA256", sha)
	}
	c.Data(http.StatusOK, contentType, body)
}
