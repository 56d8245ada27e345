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

// CheckClaim says whether c may run g: the row must match c's tenant, application,
// technician and workflow id, not have ended, and be unclaimed or claimed by the same chain
// (a Reset keeps the first run id). Anything else is ErrClaimRefused with the reason.
func CheckClaim(g Grant, c Claim) error {
	switch {
	case g.TenantID != c.TenantID || g.ApplicationID != c.ApplicationID || g.TechnicianID != c.TechnicianID || g.WorkflowID != c.WorkflowID:
		return fmt.Errorf("%w: grant %s was requested for another tenant, application, technician or workflow", ErrClaimRefused, c.GrantID)
	case g.FirstRunID != "" && g.FirstRunID != c.FirstRunID:
		return fmt.Errorf("%w: grant %s is run by another workflow run (%s)", ErrClaimRefused, c.GrantID, g.FirstRunID)
	case sqlstore.IsTerminal(g.Status):
		return fmt.Errorf("%w: grant %s has already ended (%s)", ErrClaimRefused, c.GrantID, g.Status)
	}
	return nil
}

// Begin is a grant's first write by its run: the claim, the account lock when the grant may
// go ahead, and its first status with the grant.requested event.
type Begin struct {
	Claim
	Status  string
	LockUPN string // "": the grant is denied and locks nothing
	Event   *sqlstore.AuditEvent
}

// BeginGrant writes b in one transaction: it claims the row for b's run chain (CheckClaim
// under the row's lock), makes the grant the one live grant of the account LockUPN
// (case-insensitive; another live holder is ErrAccountInUse naming it, and nothing is
// written), sets the status and appends the event. A row that does not exist is
// ErrClaimRefused. It is safe to repeat (activities retry).
func (s *Store) BeginGrant(ctx context.Context, b Begin) error {
	if !sqlstore.IsValidStatus(b.Status) {
		return fmt.Errorf("begin grant %s: invalid status %q", b.GrantID, b.Status)
	}
	lock := strings.ToLower(b.LockUPN)
	err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var m schema.Grant
		q := tx.NewSelect().Model(&m).Where("id = ?", b.GrantID)
		if schema.IsPostgres(tx) {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no grant %s was requested through the API", ErrClaimRefused, b.GrantID)
		} else if err != nil {
			return fmt.Errorf("claim grant %s: %w", b.GrantID, err)
		}
		if err := CheckClaim(FromRow(m), b.Claim); err != nil {
			return err
		}
		upd := tx.NewUpdate().Model((*schema.Grant)(nil)).Set("first_run_id = ?", b.FirstRunID).Set("run_id = ?", b.RunID).
			Set("status = ?", b.Status).Set("updated_at = ?", s.Clock()).Where("id = ?", m.ID)
		if lock != "" {
			upd = upd.Set("account_lock = ?", lock)
		}
		if _, err := upd.Exec(ctx); err != nil {
			if sqlstore.IsUniqueViolation(err) {
				return errUniqueBegin
			}
			return fmt.Errorf("begin grant %s: %w", b.GrantID, err)
		}
		if b.Event == nil {
			return nil
		}
		return s.InsertAudit(ctx, tx, *b.Event)
	})
	if !errors.Is(err, errUniqueBegin) {
		return err
	}
	// The run chain's other grant, or the account's live holder: which one, read after the rollback.
	if lock != "" {
		var holder schema.Grant
		err := s.DB.NewSelect().Model(&holder).Where("account_lock = ? AND id <> ?", lock, b.GrantID).Scan(ctx)
		if err == nil {
			return fmt.Errorf("%w: %s is held by grant %s (application %s) until it ends", ErrAccountInUse, b.LockUPN, holder.ID, holder.ApplicationID)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("begin grant %s: read the account's holder: %w", b.GrantID, err)
		}
	}
	return fmt.Errorf("%w: run %s already claimed another grant", ErrClaimRefused, b.FirstRunID)
}

// errUniqueBegin carries a unique violation out of BeginGrant's transaction.
var errUniqueBegin = errors.New("unique violation")

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
