package governance

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// ApplicationPolicy is the effective policy of an application: the saved one, or
// policy.Default of its roles when none was saved (saved is then false).
func (s *Store) ApplicationPolicy(ctx context.Context, applicationID string) (p policy.Policy, saved bool, err error) {
	return s.applicationPolicy(ctx, s.DB, applicationID)
}

func (s *Store) applicationPolicy(ctx context.Context, db bun.IDB, applicationID string) (policy.Policy, bool, error) {
	var row struct {
		Roles  schema.StringList `bun:"roles"`
		Policy sql.NullString    `bun:"policy"`
	}
	err := db.NewSelect().Model((*schema.Application)(nil)).Column("roles").ColumnExpr("policy").
		Where("id = ?", applicationID).Scan(ctx, &row)
	if err != nil {
		return policy.Policy{}, false, sqlstore.NoRows(err, "application", applicationID)
	}
	if !row.Policy.Valid || strings.TrimSpace(row.Policy.String) == "" {
		return policy.Default(row.Roles), false, nil
	}
	p, err := policy.Parse([]byte(row.Policy.String))
	if err != nil {
		return policy.Policy{}, false, fmt.Errorf("application %s: %w", applicationID, err)
	}
	return p, true, nil
}

// SetApplicationPolicy saves the policy of an application of tenantID; nil forgets it, so
// the default applies again. Validation is the caller's (policy.Apply).
func (s *Store) SetApplicationPolicy(ctx context.Context, tenantID, applicationID string, p *policy.Policy) error {
	var doc any
	if p != nil {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode policy: %w", err)
		}
		doc = string(b)
	}
	res, err := s.DB.NewUpdate().Model((*schema.Application)(nil)).
		Set("policy = ?", doc).Set("updated_at = ?", s.Clock()).
		Where("id = ? AND tenant_id = ?", applicationID, tenantID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlstore.NotFound("application", applicationID)
	}
	return nil
}

// SetTicketReference records the ticket reference a grant was requested with.
func (s *Store) SetTicketReference(ctx context.Context, grantID, ref string) error {
	res, err := s.DB.NewUpdate().Model((*schema.Grant)(nil)).
		Set("ticket_reference = ?", strings.TrimSpace(ref)).Where("id = ?", grantID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save ticket reference: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlstore.NotFound("grant", grantID)
	}
	return nil
}

// TicketReference is the ticket reference of a grant ("" when none).
func (s *Store) TicketReference(ctx context.Context, grantID string) (string, error) {
	var ref string
	err := s.DB.NewSelect().Model((*schema.Grant)(nil)).ColumnExpr("ticket_reference").
		Where("id = ?", grantID).Scan(ctx, &ref)
	if err != nil {
		return "", sqlstore.NoRows(err, "grant", grantID)
	}
	return ref, nil
}
