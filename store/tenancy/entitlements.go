package tenancy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Entitlement rule condition types.
const (
	ConditionGroup      = "group"
	ConditionTechnician = "technician"
)

// Rule is an entitlement rule "IF <group|technician> THEN <application>".
// For a group rule GroupID is a custom group id or AllAdminsGroupID.
type Rule struct {
	ID            string
	TenantID      string
	Name          string
	ConditionType string
	GroupID       string
	TechnicianID  string
	ApplicationID string
	CreatedAt     time.Time
}

// ErrInvalidReference names the referenced object that does not exist in the tenant.
type ErrInvalidReference struct{ Field, ID string }

func (e *ErrInvalidReference) Error() string {
	return fmt.Sprintf("%s %q does not exist in this tenant", e.Field, e.ID)
}

func ruleOf(m schema.Entitlement) Rule {
	r := Rule{ID: m.ID, TenantID: m.TenantID, Name: m.Name, ConditionType: m.ConditionType, GroupID: m.GroupID,
		TechnicianID: m.TechnicianID, ApplicationID: m.ApplicationID, CreatedAt: sqlstore.UTC(m.CreatedAt)}
	if m.BuiltinGroup != "" {
		r.GroupID = m.BuiltinGroup
	}
	return r
}

// CreateRule adds an entitlement rule. References that are not in the tenant are
// *ErrInvalidReference naming the field (application_id, group_id, technician_id); a
// technician must exist but need not be a member yet (the check at request time requires it).
// A duplicate name is ErrConflict.
func (s *Store) CreateRule(ctx context.Context, r Rule) (Rule, error) {
	if _, err := s.Tenant(ctx, r.TenantID); err != nil {
		return Rule{}, err
	}
	m := schema.Entitlement{ID: sqlstore.NewID("ent"), TenantID: r.TenantID, Name: strings.TrimSpace(r.Name), ConditionType: r.ConditionType,
		ApplicationID: r.ApplicationID, CreatedAt: s.Clock()}
	if _, err := s.Application(ctx, r.TenantID, r.ApplicationID); err != nil {
		return Rule{}, &ErrInvalidReference{Field: "application_id", ID: r.ApplicationID}
	}
	switch r.ConditionType {
	case ConditionGroup:
		if r.GroupID == AllAdminsGroupID {
			m.BuiltinGroup = AllAdminsGroupID
			break
		}
		ok, err := s.DB.NewSelect().Model((*schema.Group)(nil)).Where("id = ? AND tenant_id = ?", r.GroupID, r.TenantID).Exists(ctx)
		if err != nil {
			return Rule{}, fmt.Errorf("read group: %w", err)
		}
		if !ok {
			return Rule{}, &ErrInvalidReference{Field: "condition.group_id", ID: r.GroupID}
		}
		m.GroupID = r.GroupID
	case ConditionTechnician:
		if _, err := s.identity.Technician(ctx, r.TechnicianID); err != nil {
			return Rule{}, &ErrInvalidReference{Field: "condition.technician_id", ID: r.TechnicianID}
		}
		m.TechnicianID = r.TechnicianID
	default:
		return Rule{}, &ErrInvalidReference{Field: "condition.type", ID: r.ConditionType}
	}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		if sqlstore.IsUniqueViolation(err) {
			return Rule{}, fmt.Errorf("entitlement %q: %w", m.Name, sqlstore.ErrConflict)
		}
		return Rule{}, fmt.Errorf("create entitlement: %w", err)
	}
	return ruleOf(m), nil
}

// Rule reads one entitlement rule of a tenant.
func (s *Store) Rule(ctx context.Context, tenantID, ruleID string) (Rule, error) {
	var m schema.Entitlement
	if err := s.DB.NewSelect().Model(&m).Where("id = ? AND tenant_id = ?", ruleID, tenantID).Scan(ctx); err != nil {
		return Rule{}, sqlstore.NoRows(err, "entitlement", ruleID)
	}
	return ruleOf(m), nil
}

// Rules lists a tenant's entitlement rules, newest first.
func (s *Store) Rules(ctx context.Context, tenantID string, p sqlstore.Page) ([]Rule, string, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, "", err
	}
	var rows []schema.Entitlement
	q, err := sqlstore.Paginate(s.DB.NewSelect().Model(&rows).Where("tenant_id = ?", tenantID), p, "created_at", "id")
	if err != nil {
		return nil, "", sqlstore.ErrCursor(err)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list entitlements: %w", err)
	}
	rows, next := sqlstore.Trim(rows, p, func(m schema.Entitlement) (time.Time, string) { return m.CreatedAt, m.ID })
	out := make([]Rule, len(rows))
	for i, m := range rows {
		out[i] = ruleOf(m)
	}
	return out, next, nil
}

// DeleteRule removes an entitlement rule. Grants it already allowed keep running.
func (s *Store) DeleteRule(ctx context.Context, tenantID, ruleID string) error {
	res, err := s.DB.NewDelete().Model((*schema.Entitlement)(nil)).Where("id = ? AND tenant_id = ?", ruleID, tenantID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete entitlement: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlstore.NotFound("entitlement", ruleID)
	}
	return nil
}
