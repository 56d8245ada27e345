package tenancy

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// EntitledApplication is an application a technician may request, with the rule that
// entitles them (the oldest matching rule when several do).
type EntitledApplication struct {
	Application Application
	RuleID      string
	RuleName    string
}

// EntitledApplications lists the applications of the technician's tenants that a rule
// entitles them to, in any status (callers show whether each is ready), by tenant and name.
// It applies the same rules as CheckEntitlement.
func (s *Store) EntitledApplications(ctx context.Context, technicianID string) ([]EntitledApplication, error) {
	var rules []schema.Entitlement
	err := s.DB.NewSelect().Model(&rules).
		Where("tenant_id IN (?)", s.DB.NewSelect().Model((*schema.TenantMember)(nil)).Column("tenant_id").Where("technician_id = ?", technicianID)).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.WhereOr("builtin_group = ?", AllAdminsGroupID).
				WhereOr("technician_id = ?", technicianID).
				WhereOr("group_id IN (?)", s.DB.NewSelect().Model((*schema.GroupMember)(nil)).Column("group_id").Where("technician_id = ?", technicianID))
		}).
		OrderExpr("created_at ASC, id ASC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("entitled applications: %w", err)
	}
	first := map[string]schema.Entitlement{}
	var ids []string
	for _, r := range rules {
		if _, ok := first[r.ApplicationID]; !ok {
			first[r.ApplicationID] = r
			ids = append(ids, r.ApplicationID)
		}
	}
	if len(ids) == 0 {
		return []EntitledApplication{}, nil
	}
	var apps []schema.Application
	if err := s.DB.NewSelect().Model(&apps).Where("id IN (?)", sqlstore.In(ids)).OrderExpr("tenant_id, name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("entitled applications: %w", err)
	}
	var auths []schema.ApplicationAuthorization
	if err := s.DB.NewSelect().Model(&auths).Where("application_id IN (?)", sqlstore.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("entitled applications: %w", err)
	}
	byApp := map[string]*schema.ApplicationAuthorization{}
	for i := range auths {
		byApp[auths[i].ApplicationID] = &auths[i]
	}
	out := make([]EntitledApplication, 0, len(apps))
	for _, a := range apps {
		r := first[a.ID]
		out = append(out, EntitledApplication{Application: applicationOf(a, byApp[a.ID]), RuleID: r.ID, RuleName: r.Name})
	}
	return out, nil
}
