package admin

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/permission"
	"github.com/jitaccess/jitaccess/report"
	"github.com/jitaccess/jitaccess/store"
)

// maxReportPeriod bounds a report built on demand (a kept monthly report covers one month).
const maxReportPeriod = 366 * 24 * time.Hour

// ReportRequest is one tenant's report asked for on demand. Zero From and To mean the last
// calendar month.
type ReportRequest struct {
	TenantID string
	From, To time.Time
	Format   string // csv | pdf
}

// Report is a generated report file.
type Report struct {
	TenantID    string
	From, To    time.Time
	Format      string
	ContentType string
	Filename    string
	Content     []byte
}

// ReportContentType is the media type of a report format.
func ReportContentType(format string) string {
	if format == "pdf" {
		return "application/pdf"
	}
	return "text/csv; charset=utf-8"
}

// ReportFilename names a report file: jitaccess-<tenant>-<from>-<to>.<format>.
func ReportFilename(tenantID string, from, to time.Time, format string) string {
	return "jitaccess-" + tenantID + "-" + from.UTC().Format("2006-01-02") + "-" + to.UTC().Format("2006-01-02") + "." + format
}

// allowedOn decides an action on a tenant for the actor by the permission matrix.
func (s *Service) allowedOn(ctx context.Context, a domain.Actor, action permission.Action, tenantID string) (permission.Principal, bool, error) {
	p, err := s.deps.Store.Principal(ctx, a.Technician)
	if err != nil {
		return p, false, err
	}
	return p, permission.Allowed(p, action, tenantID), nil
}

// GenerateReport builds a tenant's report for a period: admins for any tenant, auditors for
// the tenants given to them. Every report generated is an audit event.
func (s *Service) GenerateReport(ctx context.Context, a domain.Actor, in ReportRequest) (Report, error) {
	if in.TenantID == "" {
		return Report{}, domain.FieldError("tenant_id", "is required.")
	}
	in.Format = strings.ToLower(in.Format)
	if in.Format == "" {
		in.Format = "csv"
	}
	if in.Format != "csv" && in.Format != "pdf" {
		return Report{}, domain.FieldError("format", `must be "csv" or "pdf".`)
	}
	if in.From.IsZero() && in.To.IsZero() {
		now := time.Now().UTC()
		in.To = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		in.From = in.To.AddDate(0, -1, 0)
	}
	switch {
	case in.From.IsZero():
		return Report{}, domain.FieldError("from", "is required with to.")
	case in.To.IsZero():
		return Report{}, domain.FieldError("to", "is required with from.")
	case !in.From.Before(in.To):
		return Report{}, domain.FieldError("to", "must be after from.")
	case in.To.Sub(in.From) > maxReportPeriod:
		return Report{}, domain.FieldError("to", "the period may be at most 366 days.")
	}
	if _, ok, err := s.allowedOn(ctx, a, permission.GenerateReport, in.TenantID); err != nil {
		return Report{}, err
	} else if !ok {
		return Report{}, reportRefusal(a)
	}
	r, err := report.Build(ctx, s.deps.Store, in.TenantID, in.From, in.To, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return Report{}, domain.NotFoundError("tenant")
	}
	if err != nil {
		return Report{}, err
	}
	var b bytes.Buffer
	if in.Format == "pdf" {
		err = report.WritePDF(&b, r)
	} else {
		err = report.WriteCSV(&b, r)
	}
	if err != nil {
		return Report{}, err
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: in.TenantID, Action: "report.generated", Target: in.TenantID,
		Details: map[string]any{"from": r.From.Format(time.RFC3339), "to": r.To.Format(time.RFC3339), "format": in.Format, "grants": len(r.Grants)}})
	return Report{TenantID: in.TenantID, From: r.From, To: r.To, Format: in.Format, ContentType: ReportContentType(in.Format),
		Filename: ReportFilename(in.TenantID, r.From, r.To, in.Format), Content: b.Bytes()}, nil
}

// KeptReports lists the kept (monthly) reports the actor may read, newest period first:
// one tenant's, or every tenant's the actor may see when tenantID is "".
func (s *Service) KeptReports(ctx context.Context, a domain.Actor, tenantID string) ([]store.KeptReport, error) {
	p, ok, err := s.allowedOn(ctx, a, permission.ReadReports, tenantID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, reportRefusal(a)
	}
	rs, err := s.deps.Store.KeptReports(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		if permission.Allowed(p, permission.ReadReports, r.TenantID) {
			out = append(out, r)
		}
	}
	return out, nil
}

// KeptReport reads one kept report with its content; one the actor may not read does not
// exist for them. Every download is an audit event.
func (s *Service) KeptReport(ctx context.Context, a domain.Actor, id string) (store.KeptReport, error) {
	r, err := s.deps.Store.KeptReportContent(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, domain.NotFoundError("report")
	}
	if err != nil {
		return r, err
	}
	if _, ok, err := s.allowedOn(ctx, a, permission.ReadReports, r.TenantID); err != nil {
		return store.KeptReport{}, err
	} else if !ok {
		if a.Role == store.RoleTechnician {
			return store.KeptReport{}, reportRefusal(a)
		}
		return store.KeptReport{}, domain.NotFoundError("report")
	}
	s.Audit(ctx, a, store.AuditEvent{TenantID: r.TenantID, Action: "report.downloaded", Target: r.ID,
		Details: map[string]any{"format": r.Format, "sha256": r.SHA256, "from": r.PeriodFrom.Format(time.RFC3339)}})
	return r, nil
}

func reportRefusal(a domain.Actor) *domain.Error {
	if a.Role == store.RoleAuditor {
		return domain.Refuse(domain.Forbidden, "forbidden", "You do not audit this tenant; an admin gives auditors their tenants.")
	}
	return domain.Refuse(domain.Forbidden, "forbidden", "Reports are for admins and auditors.")
}
