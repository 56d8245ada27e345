package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/identity"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// CheckEntitlement is the authoritative answer to "may this technician request this
// application now": the technician is a member of the tenant, the application belongs to the
// tenant and is ready, and some rule of the tenant for the application matches (the built-in
// group All admins matches any member; a custom group matches its members; a technician rule
// matches that technician). A refusal is Allowed=false with a human Reason, not an error;
// errors are reserved for failures to find out.
func (s *Store) CheckEntitlement(ctx context.Context, tenantID, applicationID, technicianID string) (Entitlement, error) {
	var e Entitlement
	tech, err := s.identity.Technician(ctx, technicianID)
	if errors.Is(err, sqlstore.ErrNotFound) {
		e.Reason = "The technician no longer exists."
		return e, nil
	} else if err != nil {
		return e, err
	}
	e.Technician = tech

	app, err := s.ApplicationByID(ctx, applicationID)
	if errors.Is(err, sqlstore.ErrNotFound) || (err == nil && app.TenantID != tenantID) {
		e.Reason = "The application does not exist in this tenant."
		return e, nil
	} else if err != nil {
		return e, err
	}
	return s.EntitlementOf(ctx, app, tech)
}

// EntitlementOf is CheckEntitlement for an application and a technician the caller has just
// read (the API loads both to authorize a request): two queries instead of five.
func (s *Store) EntitlementOf(ctx context.Context, app Application, tech identity.Technician) (Entitlement, error) {
	e := Entitlement{Technician: tech, Application: configOf(app)}
	tenantID, applicationID, technicianID := app.TenantID, app.ID, tech.ID
	if !tech.Active {
		e.Reason = fmt.Sprintf("%s is deactivated.", tech.Email)
		return e, nil
	}
	member, err := s.IsMember(ctx, tenantID, technicianID)
	if err != nil {
		return e, err
	}
	e.Member = member
	if !member {
		e.Reason = fmt.Sprintf("%s has no access to this customer tenant.", tech.Email)
		return e, nil
	}

	var rule schema.Entitlement
	err = s.DB.NewSelect().Model(&rule).
		Where("tenant_id = ? AND application_id = ?", tenantID, applicationID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.WhereOr("builtin_group = ?", AllAdminsGroupID).
				WhereOr("technician_id = ?", technicianID).
				WhereOr("group_id IN (?)", s.DB.NewSelect().Model((*schema.GroupMember)(nil)).Column("group_id").Where("technician_id = ?", technicianID))
		}).
		OrderExpr("created_at ASC, id ASC").Limit(1).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		e.Reason = fmt.Sprintf("No entitlement rule allows %s to request %s.", tech.Email, app.Name)
		return e, nil
	case err != nil:
		return e, fmt.Errorf("check entitlement: %w", err)
	}
	e.RuleID, e.RuleName = rule.ID, rule.Name

	if app.Status != AppReady {
		e.Reason = fmt.Sprintf("The application %s is not ready (status %s): it needs an authorization, a domain and at least one role.", app.Name, app.Status)
		return e, nil
	}
	e.Allowed = true
	return e, nil
}
