package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/grants"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// GrantsRequestedBetween lists a tenant's grants requested in [from, to), oldest first.
func (s *Store) GrantsRequestedBetween(ctx context.Context, tenantID string, from, to time.Time) ([]grants.Grant, error) {
	var rows []schema.Grant
	if err := s.DB.NewSelect().Model(&rows).Where("tenant_id = ?", tenantID).
		Where("requested_at >= ?", sqlstore.DBTime(from)).Where("requested_at < ?", sqlstore.DBTime(to)).
		Order("requested_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("grants of %s: %w", tenantID, err)
	}
	out := make([]grants.Grant, len(rows))
	for i, m := range rows {
		out[i] = grants.FromRow(m)
	}
	return out, nil
}

// TenantAuditEvents lists, in chain order, a tenant's audit events logged in [from, to) and
// every event about one of targets whenever it was logged (a grant's end may come later).
func (s *Store) TenantAuditEvents(ctx context.Context, tenantID string, from, to time.Time, targets []string) ([]sqlstore.AuditEvent, error) {
	var rows []schema.AuditEvent
	q := s.DB.NewSelect().Model(&rows).Where("tenant_id = ?", tenantID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("created_at >= ? AND created_at < ?", sqlstore.DBTime(from), sqlstore.DBTime(to))
			if len(targets) > 0 {
				q = q.WhereOr("target IN (?)", sqlstore.In(targets))
			}
			return q
		}).Order("seq")
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("audit events of %s: %w", tenantID, err)
	}
	return auditsFromRows(rows)
}

// KeptReport is a generated report kept for auditors.
type KeptReport struct {
	ID         string
	TenantID   string
	PeriodFrom time.Time
	PeriodTo   time.Time
	Format     string // csv | pdf
	Content    []byte
	SHA256     string
	CreatedBy  string
	CreatedAt  time.Time
}

// KeepReport stores a report once per tenant, period and format; keeping it again returns
// the one kept first (created false).
func (s *Store) KeepReport(ctx context.Context, r KeptReport) (KeptReport, bool, error) {
	sum := sha256.Sum256(r.Content)
	m := schema.Report{ID: sqlstore.NewID("rep"), TenantID: r.TenantID, PeriodFrom: sqlstore.DBTime(r.PeriodFrom), PeriodTo: sqlstore.DBTime(r.PeriodTo),
		Format: r.Format, Content: base64.StdEncoding.EncodeToString(r.Content), SHA256: hex.EncodeToString(sum[:]),
		CreatedBy: r.CreatedBy, CreatedAt: s.Clock()}
	res, err := s.DB.NewInsert().Model(&m).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return KeptReport{}, false, fmt.Errorf("keep report: %w", err)
	}
	n, _ := res.RowsAffected()
	var got schema.Report
	if err := s.DB.NewSelect().Model(&got).Where("tenant_id = ? AND period_from = ? AND period_to = ? AND format = ?",
		m.TenantID, m.PeriodFrom, m.PeriodTo, m.Format).Scan(ctx); err != nil {
		return KeptReport{}, false, fmt.Errorf("keep report: %w", err)
	}
	out, err := keptReportOf(got)
	return out, n == 1, err
}

// KeptReports lists a tenant's kept reports, newest period first ("" for every tenant).
func (s *Store) KeptReports(ctx context.Context, tenantID string) ([]KeptReport, error) {
	var rows []schema.Report
	q := s.DB.NewSelect().Model(&rows).ExcludeColumn("content").Order("period_from DESC", "format")
	if tenantID != "" {
		q = q.Where("tenant_id = ?", tenantID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("kept reports: %w", err)
	}
	out := make([]KeptReport, len(rows))
	for i, m := range rows {
		out[i], _ = keptReportOf(m)
	}
	return out, nil
}

// KeptReportContent reads one kept report with its content.
func (s *Store) KeptReportContent(ctx context.Context, id string) (KeptReport, error) {
	var m schema.Report
	if err := s.DB.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return KeptReport{}, sqlstore.NoRows(err, "report", id)
	}
	return keptReportOf(m)
}

func keptReportOf(m schema.Report) (KeptReport, error) {
	r := KeptReport{ID: m.ID, TenantID: m.TenantID, PeriodFrom: sqlstore.UTC(m.PeriodFrom), PeriodTo: sqlstore.UTC(m.PeriodTo), Format: m.Format,
		SHA256: m.SHA256, CreatedBy: m.CreatedBy, CreatedAt: sqlstore.UTC(m.CreatedAt)}
	if m.Content != "" {
		b, err := base64.StdEncoding.DecodeString(m.Content)
		if err != nil {
			return r, fmt.Errorf("report %s content: %w", m.ID, err)
		}
		r.Content = b
	}
	return r, nil
}

// GrantsEndedSince lists grants in a terminal status that ended at or after since, oldest
// end first, at most limit (the history archiver's read).
func (s *Store) GrantsEndedSince(ctx context.Context, since time.Time, limit int) ([]grants.Grant, error) {
	var rows []schema.Grant
	if err := s.DB.NewSelect().Model(&rows).Where("ended_at IS NOT NULL AND ended_at >= ?", sqlstore.DBTime(since)).
		Where("status IN (?)", sqlstore.In(sqlstore.TerminalStatuses())).Order("ended_at", "id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("ended grants: %w", err)
	}
	out := make([]grants.Grant, len(rows))
	for i, m := range rows {
		out[i] = grants.FromRow(m)
	}
	return out, nil
}
