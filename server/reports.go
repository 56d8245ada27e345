package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

// reportRoutes serve the customer reports to admins and auditors (auditors: their tenants).
func (s *Server) reportRoutes(g *gin.RouterGroup) {
	g.GET("/reports", s.generateReport)
	g.GET("/reports/kept", s.listKeptReports)
	g.GET("/reports/kept/:report_id", s.downloadKeptReport)
}

// parseDay reads a query time: a date (2026-11-01, midnight UTC) or an RFC 3339 time.
func parseDay(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t.UTC(), err == nil
}

// reportRequest reads ?tenant_id=&from=&to=&format= into a request, or answers 400.
func reportRequest(c *gin.Context) (access.ReportRequest, bool) {
	in := access.ReportRequest{TenantID: c.Query("tenant_id"), Format: c.Query("format")}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &in.From}, {"to", &in.To}} {
		t, ok := parseDay(c.Query(f.name))
		if !ok {
			badField(c, f.name, "must be a date such as 2026-11-01 or an RFC 3339 time.")
			return in, false
		}
		*f.dst = t
	}
	return in, true
}

// sendFile answers a report file as a download.
func sendFile(c *gin.Context, contentType, filename, sha string, body []byte) {
	c.Header("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	if sha != "" {
		c.Header("X-Content-SHA256", sha)
	}
	c.Data(http.StatusOK, contentType, body)
}

func (s *Server) generateReport(c *gin.Context) {
	in, ok := reportRequest(c)
	if !ok {
		return
	}
	r, err := s.svc.GenerateReport(c.Request.Context(), s.actor(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	sendFile(c, r.ContentType, r.Filename, "", r.Content)
}

type keptReportView struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenant_id"`
	PeriodFrom  time.Time `json:"period_from"`
	PeriodTo    time.Time `json:"period_to"`
	Format      string    `json:"format"`
	SHA256      string    `json:"sha256"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	DownloadURL string    `json:"download_url"`
}

func viewKeptReport(r store.KeptReport) keptReportView {
	return keptReportView{ID: r.ID, TenantID: r.TenantID, PeriodFrom: r.PeriodFrom, PeriodTo: r.PeriodTo, Format: r.Format,
		SHA256: r.SHA256, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, DownloadURL: "/v1/reports/kept/" + r.ID}
}

func (s *Server) listKeptReports(c *gin.Context) {
	rs, err := s.svc.KeptReports(c.Request.Context(), s.actor(c), c.Query("tenant_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]keptReportView, len(rs))
	for i, r := range rs {
		out[i] = viewKeptReport(r)
	}
	c.JSON(http.StatusOK, list(out, ""))
}

func (s *Server) downloadKeptReport(c *gin.Context) {
	r, err := s.svc.KeptReport(c.Request.Context(), s.actor(c), c.Param("report_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Length", strconv.Itoa(len(r.Content)))
	sendFile(c, access.ReportContentType(r.Format), access.ReportFilename(r.TenantID, r.PeriodFrom, r.PeriodTo, r.Format), r.SHA256, r.Content)
}
