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

// StatusTerminated is the final status of a grant whose run closed without its own cleanup
// (terminated, reset, timed out) and whose account the reconciler disabled.
const StatusTerminated = "terminated"

// CreatedAccount is a directory account jitaccess created or re-enabled for a grant: the
// object id some grant recorded.
type CreatedAccount struct {
	TenantID      string
	ApplicationID string
	AccountID     string
	AccountUPN    string
	TechnicianID  string
	// LastActivatedAt is when the latest grant on the account began (zero: none did): its
	// sign-in sessions must have been revoked after it once no grant is live.
	LastActivatedAt time.Time
}

// ReconcileApplications lists the applications that have a grant not yet final or an
// account recorded, optionally only those of tenantID, ordered by id.
func (s *Store) ReconcileApplications(ctx context.Context, tenantID string) ([]string, error) {
	var ids []string
	q := s.DB.NewSelect().TableExpr("grants").ColumnExpr("DISTINCT application_id").
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("status NOT IN (?)", sqlstore.In(sqlstore.TerminalStatuses())).
				WhereOr("account_id IS NOT NULL AND account_id <> ''")
		}).
		OrderExpr("application_id")
	if tenantID != "" {
		q = q.Where("tenant_id = ?", tenantID)
	}
	if err := q.Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("applications to reconcile: %w", err)
	}
	return ids, nil
}

// OpenGrants lists an application's grants that are not final, by id after afterID, at most
// limit of them (keyset paging).
func (s *Store) OpenGrants(ctx context.Context, applicationID, afterID string, limit int) ([]Grant, error) {
	var rows []schema.Grant
	q := s.DB.NewSelect().Model(&rows).
		Where("application_id = ?", applicationID).
		Where("status NOT IN (?)", sqlstore.In(sqlstore.TerminalStatuses())).
		OrderExpr("id").Limit(int64(limit))
	if afterID != "" {
		q = q.Where("id > ?", afterID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("open grants of %s: %w", applicationID, err)
	}
	out := make([]Grant, len(rows))
	for i, m := range rows {
		out[i] = FromRow(m)
	}
	return out, nil
}

// CreatedAccounts lists the distinct accounts an application's grants recorded, by object id
// after afterID, at most limit of them (keyset paging).
func (s *Store) CreatedAccounts(ctx context.Context, applicationID, afterID string, limit int) ([]CreatedAccount, error) {
	var out []CreatedAccount
	q := s.DB.NewSelect().TableExpr("grants").
		ColumnExpr("MAX(tenant_id) AS tenant_id, application_id, account_id, MAX(account_upn) AS account_upn, MAX(technician_id) AS technician_id, MAX(activated_at) AS last_activated_at").
		Where("application_id = ?", applicationID).
		Where("account_id IS NOT NULL AND account_id <> ''").
		GroupExpr("application_id, account_id").
		OrderExpr("account_id").Limit(int64(limit))
	if afterID != "" {
		q = q.Where("account_id > ?", afterID)
	}
	if err := q.Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("accounts of %s: %w", applicationID, err)
	}
	for i := range out {
		out[i].LastActivatedAt = sqlstore.UTC(out[i].LastActivatedAt)
	}
	return out, nil
}

// LiveGrantsOfAccount lists the grants that are not final and hold the account: those that
// recorded accountID, and those of the technician in the tenant still provisioning (no
// account recorded yet), which may be about to re-enable it.
func (s *Store) LiveGrantsOfAccount(ctx context.Context, tenantID, technicianID, accountID string) ([]Grant, error) {
	var rows []schema.Grant
	err := s.DB.NewSelect().Model(&rows).
		Where("status NOT IN (?)", sqlstore.In(sqlstore.TerminalStatuses())).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("account_id = ?", accountID).
				WhereOr("tenant_id = ? AND technician_id = ? AND (account_id IS NULL OR account_id = '')", tenantID, technicianID)
		}).
		OrderExpr("requested_at DESC, id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("live grants of account %s: %w", accountID, err)
	}
	out := make([]Grant, len(rows))
	for i, m := range rows {
		out[i] = FromRow(m)
	}
	return out, nil
}

// TerminateGrant makes a grant that is not final `terminated` with reason (kept in failure),
// deletes its stored credential and appends event, in one transaction. ok is false, and
// nothing is written, when the grant had reached a final status meanwhile.
func (s *Store) TerminateGrant(ctx context.Context, grantID, reason string, endedAt time.Time, event sqlstore.AuditEvent) (ok bool, err error) {
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var cur schema.Grant
		q := tx.NewSelect().Model(&cur).Where("id = ?", grantID)
		if schema.IsPostgres(tx) {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return sqlstore.NotFound("grant", grantID)
			}
			return fmt.Errorf("terminate grant %s: %w", grantID, err)
		}
		if sqlstore.IsTerminal(cur.Status) {
			return nil
		}
		now := s.Clock()
		if endedAt.IsZero() {
			endedAt = now
		}
		if _, err := tx.NewUpdate().Model((*schema.Grant)(nil)).
			Set("status = ?", StatusTerminated).
			Set("failure = ?", reason).
			Set("ended_at = ?", sqlstore.DBTime(endedAt)).
			Set("account_lock = NULL").
			Set("updated_at = ?", now).
			Where("id = ?", grantID).Exec(ctx); err != nil {
			return fmt.Errorf("terminate grant %s: %w", grantID, err)
		}
		if _, err := tx.NewDelete().Model((*schema.GrantCredential)(nil)).Where("grant_id = ?", grantID).Exec(ctx); err != nil {
			return fmt.Errorf("terminate grant %s: delete credential: %w", grantID, err)
		}
		if err := s.InsertAudit(ctx, tx, event); err != nil {
			return err
		}
		ok = true
		return nil
	})
	return ok, err
}
