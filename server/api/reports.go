package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// reportRoutes serve the customer reports to admins and auditors (auditors: their tenants).
func (s *API) reportRoutes(g *gin.RouterGroup) {
	g.GET("/reports", s.generateReport)
	g.GET("/reports/kept", s.listKeptReports)
	g.GET("/reports/kept/:report_id", s.downloadKeptReport)
}

// reportRequest reads ?tenant_id=&from=&to=&format= into a request, or answers 400.
func reportRequest(c *gin.Context) (access.ReportRequest, bool) {
	in := access.ReportRequest{TenantID: c.Query("tenant_id"), Format: c.Query("format")}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &in.From}, {"to", &in.To}} {
		t, ok := web.ParseDay(c.Query(f.name))
		if !ok {
			BadField(c, f.name, "must be a date such as 2026-11-01 or an RFC 3339 time.")
			return in, false
		}
		*f.dst = t
	}
	return in, true
}

func (s *API) generateReport(c *gin.Context) {
	in, ok := reportRequest(c)
	if !ok {
		return
	}
	r, err := s.Svc.GenerateReport(c.Request.Context(), s.Actor(c), in)
	if err != nil {
		s.Fail(c, err)
		return
	}
	web.SendFile(c, r.ContentType, r.Filename, "", r.Content)
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

func (s *API) listKeptReports(c *gin.Context) {
	rs, err := s.Svc.KeptReports(c.Request.Context(), s.Actor(c), c.Query("tenant_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	out := make([]keptReportView, len(rs))
	for i, r := range rs {
		out[i] = viewKeptReport(r)
	}
	c.JSON(http.StatusOK, List(out, ""))
}

func (s *API) downloadKeptReport(c *gin.Context) {
	r, err := s.Svc.KeptReport(c.Request.Context(), s.Actor(c), c.Param("report_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.Header("Content-Length", strconv.Itoa(len(r.Content)))
	web.SendFile(c, access.ReportContentType(r.Format), access.ReportFilename(r.TenantID, r.PeriodFrom, r.PeriodTo, r.Format), r.SHA256, r.Content)
}
