package grants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Grant is the projection of one AccessRequest workflow run.
type Grant struct {
	ID            string
	WorkflowID    string
	RunID         string
	TenantID      string
	ApplicationID string
	TechnicianID  string
	Status        string
	Justification string
	RequestedAt   time.Time
	ActivatedAt   time.Time
	ExpiresAt     time.Time
	EndedAt       time.Time
	AccountUPN    string
	AccountID     string
	Roles         []string
	Failure       string
	RevokedBy     string
	UpdatedAt     time.Time
	// FirstRunID is the run chain that claimed the grant; RequestedDuration what was asked.
	FirstRunID        string
	RequestedDuration time.Duration
	// PendingExtension: an extension awaiting approval (nil when none).
	PendingExtension *PendingExtension
}

// FromRow is the Grant a row of the grants table holds.
func FromRow(m schema.Grant) Grant {
	return Grant{ID: m.ID, WorkflowID: m.WorkflowID, RunID: m.RunID, TenantID: m.TenantID, ApplicationID: m.ApplicationID,
		TechnicianID: m.TechnicianID, Status: m.Status, Justification: m.Justification, RequestedAt: sqlstore.UTC(m.RequestedAt),
		ActivatedAt: sqlstore.UTC(m.ActivatedAt), ExpiresAt: sqlstore.UTC(m.ExpiresAt), EndedAt: sqlstore.UTC(m.EndedAt), AccountUPN: m.AccountUPN, AccountID: m.AccountID,
		Roles: sqlstore.OrEmpty(m.Roles), Failure: m.Failure, RevokedBy: m.RevokedBy, UpdatedAt: sqlstore.UTC(m.UpdatedAt),
		FirstRunID: m.FirstRunID, RequestedDuration: time.Duration(m.RequestedSeconds) * time.Second,
		PendingExtension: pendingExtensionOf(m)}
}

func pendingExtensionOf(m schema.Grant) *PendingExtension {
	if m.PendingExtensionRequest == "" {
		return nil
	}
	return &PendingExtension{Duration: time.Duration(m.PendingExtensionSeconds) * time.Second, By: m.PendingExtensionBy,
		RequestedAt: sqlstore.UTC(m.PendingExtensionAt), Request: m.PendingExtensionRequest}
}

// GrantFilter narrows a grant listing; empty fields do not filter.
type GrantFilter struct {
	Status        string
	TenantID      string
	TechnicianID  string
	ApplicationID string
}

// RecordGrant writes the projection of a grant the API created: zero-valued fields leave
// columns unchanged and Status is always written, except that a grant in a terminal status
// never moves to another status: such an update is ignored. A grant that does not exist is
// ErrNotFound. It is safe to repeat (activities retry).
func (s *Store) RecordGrant(ctx context.Context, u GrantUpdate) error {
	return s.RecordTransition(ctx, u, nil)
}

// RecordTransition is RecordGrant plus, when event is not nil, the transition's audit event,
// in one transaction: the log never shows a status without the event that explains it (nor
// the reverse), and the pair costs one commit instead of two. An event whose id is already
// logged is not logged again, so callers that retry should give the event a stable id.
// The event carries the workflow and run ids of the history it belongs to (its caller's).
func (s *Store) RecordTransition(ctx context.Context, u GrantUpdate, event *sqlstore.AuditEvent) error {
	if u.GrantID == "" {
		return errors.New("record grant: no grant id")
	}
	if event != nil && u.Status == "" {
		// An event about the grant that is not a transition of its row (a refused run).
		return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error { return s.InsertAudit(ctx, tx, *event) })
	}
	if !sqlstore.IsValidStatus(u.Status) {
		return fmt.Errorf("record grant %s: invalid status %q", u.GrantID, u.Status)
	}
	return s.recordGrant(ctx, u, event)
}

// recordGrant updates the grant's row, then appends the event: the row lock first and the
// chain head (shared by every grant) last, the order TerminateGrant keeps too, so the two never
// deadlock and the head is held for the append and the commit only.
func (s *Store) recordGrant(ctx context.Context, u GrantUpdate, event *sqlstore.AuditEvent) error {
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.updateGrant(ctx, tx, u); err != nil {
			return err
		}
		if event == nil {
			return nil
		}
		return s.InsertAudit(ctx, tx, *event)
	})
}

// updateGrant writes u in one statement; a grant that has ended keeps its row (but for a
// repeat of its final status), and its event is still logged.
func (s *Store) updateGrant(ctx context.Context, tx bun.Tx, u GrantUpdate) error {
	upd := tx.NewUpdate().Model((*schema.Grant)(nil)).
		Set("status = ?", u.Status).
		Set("updated_at = ?", s.Clock()).
		Where("id = ?", u.GrantID).
		Where("(status NOT IN (?) OR status = ?)", sqlstore.In(sqlstore.TerminalStatuses()), u.Status)
	setString := func(col, v string) {
		if v != "" {
			upd = upd.Set("? = ?", bun.Ident(col), v)
		}
	}
	setTime := func(col string, v time.Time) {
		if !v.IsZero() {
			upd = upd.Set("? = ?", bun.Ident(col), sqlstore.DBTime(v))
		}
	}
	setString("run_id", u.RunID)
	setString("account_upn", u.AccountUPN)
	setString("account_id", u.AccountID)
	setString("failure", u.Failure)
	setString("revoked_by", u.RevokedBy)
	setTime("activated_at", u.ActivatedAt)
	setTime("expires_at", u.ExpiresAt)
	setTime("ended_at", u.EndedAt)
	if len(u.Roles) > 0 {
		upd = upd.Set("roles = ?", schema.StringList(u.Roles))
	}
	if sqlstore.IsTerminal(u.Status) || u.ReleaseAccount {
		upd = upd.Set("account_lock = NULL")
	}
	if p := u.PendingExtension; p != nil && !sqlstore.IsTerminal(u.Status) {
		upd = upd.Set("pending_extension_request = ?", p.Request).Set("pending_extension_seconds = ?", int64(p.Duration/time.Second)).
			Set("pending_extension_by = ?", p.By).Set("pending_extension_at = ?", sqlstore.DBTime(p.RequestedAt))
	} else {
		upd = upd.Set("pending_extension_request = NULL").Set("pending_extension_seconds = NULL").
			Set("pending_extension_by = NULL").Set("pending_extension_at = NULL")
	}
	res, err := upd.Exec(ctx)
	if err != nil {
		return fmt.Errorf("record grant %s: %w", u.GrantID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("record grant %s: %w", u.GrantID, err)
	} else if n == 1 {
		return nil
	}
	exists, err := tx.NewSelect().Model((*schema.Grant)(nil)).Where("id = ?", u.GrantID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("record grant %s: %w", u.GrantID, err)
	}
	if !exists {
		return sqlstore.NotFound("grant", u.GrantID)
	}
	return nil
}

// KnownAccountID returns the directory object id recorded for the account upn by this grant
// (a Reset replays its steps) or else the latest earlier grant of the same technician and
// application, or "" when there is none.
func (s *Store) KnownAccountID(ctx context.Context, grantID, upn string) (string, error) {
	var id string
	err := s.DB.NewSelect().TableExpr("grants AS g").ColumnExpr("g.account_id").
		Join("JOIN grants AS cur ON cur.technician_id = g.technician_id AND cur.application_id = g.application_id").
		Where("cur.id = ?", grantID).
		Where("g.account_upn = ? AND g.account_id IS NOT NULL AND g.account_id <> ''", upn).
		OrderExpr("g.requested_at DESC").Limit(1).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("earlier account of grant %s: %w", grantID, err)
	}
	return id, nil
}

// Grant reads one grant.
func (s *Store) Grant(ctx context.Context, id string) (Grant, error) {
	var m schema.Grant
	if err := s.DB.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return Grant{}, sqlstore.NoRows(err, "grant", id)
	}
	return FromRow(m), nil
}

// LiveGrant returns the grant of (tenant, application, technician) that has not ended yet.
func (s *Store) LiveGrant(ctx context.Context, tenantID, applicationID, technicianID string) (Grant, error) {
	var m schema.Grant
	err := s.DB.NewSelect().Model(&m).
		Where("tenant_id = ? AND application_id = ? AND technician_id = ?", tenantID, applicationID, technicianID).
		Where("status NOT IN (?)", sqlstore.In(sqlstore.TerminalStatuses())).
		OrderExpr("requested_at DESC, id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return Grant{}, sqlstore.NoRows(err, "live grant", applicationID)
	}
	return FromRow(m), nil
}

// Grants lists grants matching f, newest request first.
func (s *Store) Grants(ctx context.Context, f GrantFilter, p sqlstore.Page) ([]Grant, string, error) {
	var rows []schema.Grant
	q := s.DB.NewSelect().Model(&rows)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.TenantID != "" {
		q = q.Where("tenant_id = ?", f.TenantID)
	}
	if f.TechnicianID != "" {
		q = q.Where("technician_id = ?", f.TechnicianID)
	}
	if f.ApplicationID != "" {
		q = q.Where("application_id = ?", f.ApplicationID)
	}
	q, err := sqlstore.Paginate(q, p, "requested_at", "id")
	if err != nil {
		return nil, "", sqlstore.ErrCursor(err)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list grants: %w", err)
	}
	rows, next := sqlstore.Trim(rows, p, func(m schema.Grant) (time.Time, string) { return m.RequestedAt, m.ID })
	out := make([]Grant, len(rows))
	for i, m := range rows {
		out[i] = FromRow(m)
	}
	return out, next, nil
}

// GrantOfRun returns the grant a run of workflowID is running: the row that run (or the
// first run of its chain) claimed or was attached to.
func (s *Store) GrantOfRun(ctx context.Context, workflowID, runID string) (Grant, error) {
	var m schema.Grant
	err := s.DB.NewSelect().Model(&m).Where("workflow_id = ?", workflowID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("run_id = ?", runID).WhereOr("first_run_id = ?", runID)
		}).Limit(1).Scan(ctx)
	if err != nil {
		return Grant{}, sqlstore.NoRows(err, "grant of run", workflowID+"/"+runID)
	}
	return FromRow(m), nil
}

// LiveGrants lists the grants that have not ended, filtered by the non-empty fields of f
// (Status is ignored), oldest first.
func (s *Store) LiveGrants(ctx context.Context, f GrantFilter) ([]Grant, error) {
	var rows []schema.Grant
	q := s.DB.NewSelect().Model(&rows).Where("status NOT IN (?)", bun.In(sqlstore.TerminalStatuses())).OrderExpr("requested_at, id")
	if f.TenantID != "" {
		q = q.Where("tenant_id = ?", f.TenantID)
	}
	if f.ApplicationID != "" {
		q = q.Where("application_id = ?", f.ApplicationID)
	}
	if f.TechnicianID != "" {
		q = q.Where("technician_id = ?", f.TechnicianID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("live grants: %w", err)
	}
	out := make([]Grant, len(rows))
	for i, m := range rows {
		out[i] = FromRow(m)
	}
	return out, nil
}
