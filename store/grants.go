package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
)

// TerminalStatuses are the statuses a grant never leaves.
func TerminalStatuses() []string {
	return []string{StatusExpired, StatusRevoked, StatusDenied, StatusFailed}
}

// IsTerminal reports whether a grant in status has ended for good.
func IsTerminal(status string) bool { return slices.Contains(TerminalStatuses(), status) }

// IsValidStatus reports whether status is one of the grant statuses.
func IsValidStatus(status string) bool {
	switch status {
	case StatusPending, StatusProvisioning, StatusActive, StatusRevoking:
		return true
	}
	return IsTerminal(status)
}

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
}

func grantOf(m schema.Grant) Grant {
	return Grant{ID: m.ID, WorkflowID: m.WorkflowID, RunID: m.RunID, TenantID: m.TenantID, ApplicationID: m.ApplicationID,
		TechnicianID: m.TechnicianID, Status: m.Status, Justification: m.Justification, RequestedAt: utc(m.RequestedAt),
		ActivatedAt: utc(m.ActivatedAt), ExpiresAt: utc(m.ExpiresAt), EndedAt: utc(m.EndedAt), AccountUPN: m.AccountUPN, AccountID: m.AccountID,
		Roles: orEmpty(m.Roles), Failure: m.Failure, RevokedBy: m.RevokedBy, UpdatedAt: utc(m.UpdatedAt)}
}

// GrantFilter narrows a grant listing; empty fields do not filter.
type GrantFilter struct {
	Status        string
	TenantID      string
	TechnicianID  string
	ApplicationID string
}

// StartGrant inserts the projection of a freshly started workflow run unless a row for the
// same (workflow_id, run_id) exists, then reads the row back. created is false when the run
// belongs to an earlier request (its live grant is returned): the row was written for another
// request time. (The workflow may write the row first, from the same input and so with the
// same requested_at; that still counts as this request's.)
func (s *Store) StartGrant(ctx context.Context, u GrantUpdate) (g Grant, created bool, err error) {
	if u.Status == "" {
		u.Status = StatusPending
	}
	m := grantRow(u, s.clock())
	if _, err := s.db.NewInsert().Model(&m).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return Grant{}, false, fmt.Errorf("start grant: %w", err)
	}
	var stored schema.Grant
	if err := s.db.NewSelect().Model(&stored).Where("workflow_id = ? AND run_id = ?", u.WorkflowID, u.RunID).Scan(ctx); err != nil {
		return Grant{}, false, noRows(err, "grant of run", u.WorkflowID+"/"+u.RunID)
	}
	return grantOf(stored), stored.ID == u.GrantID && stored.RequestedAt.Equal(m.RequestedAt), nil
}

func grantRow(u GrantUpdate, now time.Time) schema.Grant {
	requested := dbTime(u.RequestedAt)
	if requested.IsZero() {
		requested = now
	}
	return schema.Grant{ID: u.GrantID, WorkflowID: u.WorkflowID, RunID: u.RunID, TenantID: u.TenantID, ApplicationID: u.ApplicationID,
		TechnicianID: u.TechnicianID, Status: u.Status, Justification: u.Justification, RequestedAt: requested,
		ActivatedAt: dbTime(u.ActivatedAt), ExpiresAt: dbTime(u.ExpiresAt), EndedAt: dbTime(u.EndedAt), AccountUPN: u.AccountUPN,
		AccountID: u.AccountID, Roles: schema.StringList(orEmpty(u.Roles)), Failure: u.Failure, RevokedBy: u.RevokedBy, UpdatedAt: now}
}

// RecordGrant writes the projection of a grant: an upsert by GrantID where zero-valued fields
// leave columns unchanged and Status is always written, except that a grant in a terminal
// status (expired, revoked, denied, failed) never moves to another status: such an update is
// ignored. It is safe to repeat (activities retry).
func (s *Store) RecordGrant(ctx context.Context, u GrantUpdate) error {
	return s.RecordTransition(ctx, u, nil)
}

// RecordTransition is RecordGrant plus, when event is not nil, the transition's audit event,
// in one transaction: the log never shows a status without the event that explains it (nor
// the reverse), and the pair costs one commit instead of two. An event whose id is already
// logged is not logged again, so callers that retry should give the event a stable id.
func (s *Store) RecordTransition(ctx context.Context, u GrantUpdate, event *AuditEvent) error {
	if u.GrantID == "" {
		return errors.New("record grant: no grant id")
	}
	if !IsValidStatus(u.Status) {
		return fmt.Errorf("record grant %s: invalid status %q", u.GrantID, u.Status)
	}
	var e AuditEvent
	if event != nil {
		e = *event
		if e.ID == "" {
			e.ID = NewID("aud")
		}
		if e.WorkflowID == "" && e.RunID == "" {
			e.WorkflowID, e.RunID = u.WorkflowID, u.RunID
		}
		event = &e
	}
	err := s.recordGrant(ctx, u, event)
	if isUniqueViolation(err) {
		// Lost an insert race with another writer of the same grant: the row exists now.
		err = s.recordGrant(ctx, u, event)
	}
	return err
}

func (s *Store) recordGrant(ctx context.Context, u GrantUpdate, event *AuditEvent) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if event != nil {
			if err := s.insertAudit(ctx, tx, *event); err != nil {
				return err
			}
		}
		now := s.clock()
		var cur schema.Grant
		q := tx.NewSelect().Model(&cur).Where("id = ?", u.GrantID)
		if u.WorkflowID != "" && u.RunID != "" {
			// Two first requests racing can make the API insert the run's row under the other
			// request's grant id before the workflow writes; the run's row is the grant then.
			q = q.WhereOr("workflow_id = ? AND run_id = ?", u.WorkflowID, u.RunID)
		}
		if schema.IsPostgres(tx) {
			q = q.For("UPDATE")
		}
		err := q.Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			m := grantRow(u, now)
			if _, err := tx.NewInsert().Model(&m).Exec(ctx); err != nil {
				return fmt.Errorf("record grant %s: %w", u.GrantID, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("record grant %s: %w", u.GrantID, err)
		}
		if IsTerminal(cur.Status) && cur.Status != u.Status {
			return nil
		}
		upd := tx.NewUpdate().Model((*schema.Grant)(nil)).
			Set("status = ?", u.Status).
			Set("updated_at = ?", now).
			Where("id = ?", cur.ID)
		setString := func(col, v string) {
			if v != "" {
				upd = upd.Set("? = ?", bun.Ident(col), v)
			}
		}
		setTime := func(col string, v time.Time) {
			if !v.IsZero() {
				upd = upd.Set("? = ?", bun.Ident(col), dbTime(v))
			}
		}
		setString("workflow_id", u.WorkflowID)
		setString("run_id", u.RunID)
		setString("tenant_id", u.TenantID)
		setString("application_id", u.ApplicationID)
		setString("technician_id", u.TechnicianID)
		setString("justification", u.Justification)
		setString("account_upn", u.AccountUPN)
		setString("account_id", u.AccountID)
		setString("failure", u.Failure)
		setString("revoked_by", u.RevokedBy)
		setTime("requested_at", u.RequestedAt)
		setTime("activated_at", u.ActivatedAt)
		setTime("expires_at", u.ExpiresAt)
		setTime("ended_at", u.EndedAt)
		if len(u.Roles) > 0 {
			upd = upd.Set("roles = ?", schema.StringList(u.Roles))
		}
		if _, err := upd.Exec(ctx); err != nil {
			return fmt.Errorf("record grant %s: %w", u.GrantID, err)
		}
		return nil
	})
}

// KnownAccountID returns the directory object id that the latest earlier grant of the same
// technician and application recorded for the account upn, or "" when there is none.
func (s *Store) KnownAccountID(ctx context.Context, grantID, upn string) (string, error) {
	var id string
	err := s.db.NewSelect().TableExpr("grants AS g").ColumnExpr("g.account_id").
		Join("JOIN grants AS cur ON cur.technician_id = g.technician_id AND cur.application_id = g.application_id").
		Where("cur.id = ?", grantID).
		Where("g.id <> cur.id AND g.account_upn = ? AND g.account_id IS NOT NULL AND g.account_id <> ''", upn).
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
	if err := s.db.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return Grant{}, noRows(err, "grant", id)
	}
	return grantOf(m), nil
}

// LiveGrant returns the grant of (tenant, application, technician) that has not ended yet.
func (s *Store) LiveGrant(ctx context.Context, tenantID, applicationID, technicianID string) (Grant, error) {
	var m schema.Grant
	err := s.db.NewSelect().Model(&m).
		Where("tenant_id = ? AND application_id = ? AND technician_id = ?", tenantID, applicationID, technicianID).
		Where("status NOT IN (?)", bunIn(TerminalStatuses())).
		OrderExpr("requested_at DESC, id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return Grant{}, noRows(err, "live grant", applicationID)
	}
	return grantOf(m), nil
}

// Grants lists grants matching f, newest request first.
func (s *Store) Grants(ctx context.Context, f GrantFilter, p Page) ([]Grant, string, error) {
	var rows []schema.Grant
	q := s.db.NewSelect().Model(&rows)
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
	q, err := paginate(q, p, "requested_at", "id")
	if err != nil {
		return nil, "", errCursor(err)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list grants: %w", err)
	}
	rows, next := trim(rows, p, func(m schema.Grant) (time.Time, string) { return m.RequestedAt, m.ID })
	out := make([]Grant, len(rows))
	for i, m := range rows {
		out[i] = grantOf(m)
	}
	return out, next, nil
}
