package grants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/identity"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// ErrClaimRefused: a run asked for a grant that is not its own to run.
var ErrClaimRefused = errors.New("grant claim refused")

// ErrAccountInUse: another live grant holds the account.
var ErrAccountInUse = errors.New("the account is in use by another live grant")

// PendingGrant is a request the API accepted, before its workflow run starts.
type PendingGrant struct {
	WorkflowID    string
	TenantID      string
	ApplicationID string
	TechnicianID  string
	Justification string
	Duration      time.Duration // requested; the worker bounds it again
	RequestedAt   time.Time     // zero: now
}

// CreatePendingGrant inserts the row of a new grant (status pending, no run yet) and returns
// it. The API calls it before starting the workflow, whose input then carries only the id.
func (s *Store) CreatePendingGrant(ctx context.Context, p PendingGrant) (Grant, error) {
	now := s.Clock()
	requested := sqlstore.DBTime(p.RequestedAt)
	if requested.IsZero() {
		requested = now
	}
	m := schema.Grant{ID: sqlstore.NewID("grt"), WorkflowID: p.WorkflowID, TenantID: p.TenantID, ApplicationID: p.ApplicationID,
		TechnicianID: p.TechnicianID, Status: "pending", Justification: p.Justification, RequestedAt: requested,
		Roles: schema.StringList{}, RequestedSeconds: requestedSeconds(p.Duration), UpdatedAt: now}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		if sqlstore.IsForeignKeyViolation(err) {
			return Grant{}, fmt.Errorf("create grant: %w", sqlstore.ErrNotFound)
		}
		return Grant{}, fmt.Errorf("create grant: %w", err)
	}
	return FromRow(m), nil
}

// AttachRun records the run the API started for a pending grant (the claim records it too).
func (s *Store) AttachRun(ctx context.Context, grantID, runID string) error {
	_, err := s.DB.NewUpdate().Model((*schema.Grant)(nil)).Set("run_id = ?", runID).
		Where("id = ? AND (run_id IS NULL OR run_id = '')", grantID).Exec(ctx)
	if err != nil && !sqlstore.IsUniqueViolation(err) {
		return fmt.Errorf("attach run to grant %s: %w", grantID, err)
	}
	return nil
}

// DiscardPendingGrant deletes a pending row no run was started for (the API found a live
// run of the same workflow id instead). A claimed row is kept.
func (s *Store) DiscardPendingGrant(ctx context.Context, grantID string) error {
	_, err := s.DB.NewDelete().Model((*schema.Grant)(nil)).
		Where("id = ? AND status = 'pending' AND first_run_id IS NULL", grantID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("discard grant %s: %w", grantID, err)
	}
	return nil
}

// Claim names the run chain that asks to run a grant.
type Claim struct {
	GrantID       string
	TenantID      string
	ApplicationID string
	TechnicianID  string
	WorkflowID    string
	RunID         string
	FirstRunID    string
}

// ClaimGrant gives the grant row to the run chain of c.FirstRunID: the row must exist, match
// c's tenant, application, technician and workflow id, not have ended, and be unclaimed or
// claimed by the same chain (a Reset keeps the first run id). Anything else is
// ErrClaimRefused with the reason.
func (s *Store) ClaimGrant(ctx context.Context, c Claim) (Grant, error) {
	var g Grant
	err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var m schema.Grant
		q := tx.NewSelect().Model(&m).Where("id = ?", c.GrantID)
		if schema.IsPostgres(tx) {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no grant %s was requested through the API", ErrClaimRefused, c.GrantID)
		} else if err != nil {
			return fmt.Errorf("claim grant %s: %w", c.GrantID, err)
		}
		switch {
		case m.TenantID != c.TenantID || m.ApplicationID != c.ApplicationID || m.TechnicianID != c.TechnicianID || m.WorkflowID != c.WorkflowID:
			return fmt.Errorf("%w: grant %s was requested for another tenant, application, technician or workflow", ErrClaimRefused, c.GrantID)
		case m.FirstRunID != "" && m.FirstRunID != c.FirstRunID:
			return fmt.Errorf("%w: grant %s is run by another workflow run (%s)", ErrClaimRefused, c.GrantID, m.FirstRunID)
		case sqlstore.IsTerminal(m.Status):
			return fmt.Errorf("%w: grant %s has already ended (%s)", ErrClaimRefused, c.GrantID, m.Status)
		}
		m.FirstRunID, m.RunID, m.UpdatedAt = c.FirstRunID, c.RunID, s.Clock()
		if _, err := tx.NewUpdate().Model(&m).Column("first_run_id", "run_id", "updated_at").WherePK().Exec(ctx); err != nil {
			if sqlstore.IsUniqueViolation(err) {
				return fmt.Errorf("%w: run %s already claimed another grant", ErrClaimRefused, c.FirstRunID)
			}
			return fmt.Errorf("claim grant %s: %w", c.GrantID, err)
		}
		g = FromRow(m)
		return nil
	})
	return g, err
}

// LockAccount makes the grant the one live grant of the account upn (case-insensitive); the
// lock goes with the grant's final status. Another live holder is ErrAccountInUse, naming it.
func (s *Store) LockAccount(ctx context.Context, grantID, upn string) error {
	lock := strings.ToLower(upn)
	_, err := s.DB.NewUpdate().Model((*schema.Grant)(nil)).Set("account_lock = ?", lock).Where("id = ?", grantID).Exec(ctx)
	if !sqlstore.IsUniqueViolation(err) {
		if err != nil {
			return fmt.Errorf("lock account of grant %s: %w", grantID, err)
		}
		return nil
	}
	var holder schema.Grant
	if err := s.DB.NewSelect().Model(&holder).Where("account_lock = ?", lock).Scan(ctx); err != nil {
		return fmt.Errorf("%w (%s)", ErrAccountInUse, upn)
	}
	return fmt.Errorf("%w: %s is held by grant %s (application %s) until it ends", ErrAccountInUse, upn, holder.ID, holder.ApplicationID)
}

// GrantActor says who actorID is to the grant: its technician, an admin, or nobody the
// database knows (ok false).
func (s *Store) GrantActor(ctx context.Context, grantID, actorID string) (kind string, ok bool, err error) {
	g, err := s.Grant(ctx, grantID)
	if err != nil {
		return "", false, err
	}
	if actorID == "" {
		return "", false, nil
	}
	t, err := s.identity.Technician(ctx, actorID)
	if errors.Is(err, sqlstore.ErrNotFound) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	switch {
	case t.Role == identity.RoleAdmin:
		return sqlstore.ActorAdmin, true, nil
	case t.ID == g.TechnicianID:
		return sqlstore.ActorTechnician, true, nil
	}
	return "", false, nil
}

// requestedSeconds is a requested duration in whole seconds, rounded up: a sub-second request
// must not become 0, which means "the application's duration".
func requestedSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
