package governance

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/grants"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
	"github.com/jitaccess/jitaccess/store/tenancy"
)

// Approval decisions and the status of a grant waiting for them.
const (
	DecisionApproved      = "approved"
	DecisionDenied        = "denied"
	StatusPendingApproval = "pending_approval"
	// StatusActive: the only status in which an extension request is decided.
	StatusActive = "active"
)

// Audit actions of approval decisions.
const (
	ActionApprovalGranted = "grant.approved"
	ActionApprovalDenied  = "grant.approval_denied"
)

// Approval is one approver's recorded decision on a grant.
type Approval struct {
	ID            string
	GrantID       string
	TenantID      string
	ApproverID    string
	ApproverEmail string
	Decision      string // approved | denied
	Comment       string
	CreatedAt     time.Time
	Request       string // "" the grant; else the extension request decided
}

// ApprovalDecision is a decision to record.
type ApprovalDecision struct {
	GrantID    string
	ApproverID string
	Decision   string // approved | denied
	Comment    string
	// Request: "" decides the grant; else the grant's pending extension (PendingExtension.Request).
	Request string
}

// maxApprovalComment bounds a decision's comment.
const maxApprovalComment = 2000

// grantParties is who requested a grant and where.
type grantParties struct {
	TenantID      string `bun:"tenant_id"`
	ApplicationID string `bun:"application_id"`
	TechnicianID  string `bun:"technician_id"`
	Status        string `bun:"status"`
	Pending       string `bun:"pending_extension_request"`
}

// decidable reports whether a decision on a grant in status may still be recorded: while
// it waits for approval (or its projection has not caught up from pending yet).
func decidable(status string) bool { return status == StatusPendingApproval || status == "pending" }

func (s *Store) grantParties(ctx context.Context, db bun.IDB, grantID string) (grantParties, error) {
	var g grantParties
	err := db.NewSelect().Model((*schema.Grant)(nil)).
		ColumnExpr("tenant_id, application_id, technician_id, status, COALESCE(pending_extension_request, '') AS pending_extension_request").
		Where("id = ?", grantID).Scan(ctx, &g)
	if err != nil {
		return g, sqlstore.NoRows(err, "grant", grantID)
	}
	return g, nil
}

// Approver is the staff member approverID as the policy sees them for a tenant: their role
// and the tenant's groups they are in ("all-admins" when a member of the tenant).
func (s *Store) Approver(ctx context.Context, tenantID, approverID string) (policy.Approver, error) {
	return s.approver(ctx, s.DB, tenantID, approverID)
}

func (s *Store) approver(ctx context.Context, db bun.IDB, tenantID, approverID string) (policy.Approver, error) {
	var t schema.Technician
	if err := db.NewSelect().Model(&t).Where("id = ?", approverID).Scan(ctx); err != nil {
		return policy.Approver{}, sqlstore.NoRows(err, "technician", approverID)
	}
	a := policy.Approver{ID: t.ID, Role: t.Role, GroupIDs: []string{}}
	member, err := db.NewSelect().Model((*schema.TenantMember)(nil)).
		Where("tenant_id = ? AND technician_id = ?", tenantID, approverID).Exists(ctx)
	if err != nil {
		return policy.Approver{}, fmt.Errorf("read membership: %w", err)
	}
	if member {
		a.GroupIDs = append(a.GroupIDs, tenancy.AllAdminsGroupID)
	}
	var groups []string
	err = db.NewSelect().Model((*schema.GroupMember)(nil)).Column("group_id").
		Where("technician_id = ?", approverID).
		Where("group_id IN (?)", db.NewSelect().Model((*schema.Group)(nil)).Column("id").Where("tenant_id = ?", tenantID)).
		Order("group_id").Scan(ctx, &groups)
	if err != nil {
		return policy.Approver{}, fmt.Errorf("read groups: %w", err)
	}
	a.GroupIDs = append(a.GroupIDs, groups...)
	return a, nil
}

// CheckApprover says, from the database, whether approverID may decide grantID: a
// *policy.Error (self_approval, not_approver) when not; ErrNotFound for an unknown grant or
// approver. The API calls it before sending the approve/deny update; RecordApproval calls
// it again before recording.
func (s *Store) CheckApprover(ctx context.Context, grantID, approverID string) error {
	return s.checkApprover(ctx, s.DB, grantID, approverID)
}

func (s *Store) checkApprover(ctx context.Context, db bun.IDB, grantID, approverID string) error {
	g, err := s.grantParties(ctx, db, grantID)
	if err != nil {
		return err
	}
	p, _, err := s.applicationPolicy(ctx, db, g.ApplicationID)
	if err != nil {
		return err
	}
	a, err := s.approver(ctx, db, g.TenantID, approverID)
	if err != nil {
		return err
	}
	return p.CheckApprover(g.TechnicianID, a)
}

// RecordApproval re-checks the approver's right and records the decision with its audit
// event, in one transaction. An approver's first decision on a grant stands: deciding again
// returns that decision with recorded false, so the same person is never counted twice. A
// grant that has moved on (approved and provisioning, expired_unapproved, revoked, …) takes
// no new decision (not_pending_approval).
func (s *Store) RecordApproval(ctx context.Context, d ApprovalDecision) (out Approval, recorded bool, err error) {
	if d.Decision != DecisionApproved && d.Decision != DecisionDenied {
		return Approval{}, false, fmt.Errorf("record approval: invalid decision %q", d.Decision)
	}
	if len(d.Comment) > maxApprovalComment {
		d.Comment = d.Comment[:maxApprovalComment]
	}
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.checkApprover(ctx, tx, d.GrantID, d.ApproverID); err != nil {
			return err
		}
		g, err := s.grantParties(ctx, tx, d.GrantID)
		if err != nil {
			return err
		}
		switch {
		case d.Request == "" && !decidable(g.Status):
			return &policy.Error{Code: policy.CodeNotPendingApproval, Message: fmt.Sprintf("the request is %s, not waiting for approval", g.Status)}
		case d.Request != "" && (g.Status != StatusActive || g.Pending != d.Request):
			return &policy.Error{Code: policy.CodeNotPendingApproval, Message: "the extension is not waiting for approval"}
		}
		key := "approval:" + d.GrantID + ":" + d.ApproverID
		m := schema.GrantApproval{ID: sqlstore.DerivedID("apr", key), GrantID: d.GrantID,
			TenantID: g.TenantID, ApproverID: d.ApproverID, Decision: d.Decision, Comment: d.Comment, CreatedAt: s.Clock()}
		var model any = &m
		if d.Request != "" {
			key = "approval:" + d.GrantID + ":" + d.Request + ":" + d.ApproverID
			model = &schema.ExtensionApproval{ID: sqlstore.DerivedID("apr", key), GrantID: d.GrantID, Request: d.Request,
				TenantID: g.TenantID, ApproverID: d.ApproverID, Decision: d.Decision, Comment: d.Comment, CreatedAt: m.CreatedAt}
		}
		res, err := tx.NewInsert().Model(model).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("record approval: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			recorded = true
			action := ActionApprovalGranted
			if d.Decision == DecisionDenied {
				action = ActionApprovalDenied
			}
			details := map[string]any{"decision": d.Decision, "comment": d.Comment,
				"application_id": g.ApplicationID, "requester_id": g.TechnicianID}
			if d.Request != "" {
				details["request"] = d.Request
			}
			kind, err := s.actorKind(ctx, tx, d.ApproverID)
			if err != nil {
				return err
			}
			if err := s.InsertAudit(ctx, tx, sqlstore.AuditEvent{ID: sqlstore.DerivedID("aud", key),
				CreatedAt: m.CreatedAt, TenantID: g.TenantID, ActorID: d.ApproverID, ActorKind: kind, Action: action,
				Target: d.GrantID, Details: details}); err != nil {
				return err
			}
		}
		rows, err := s.approvals(ctx, tx, d.GrantID, d.Request)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.ApproverID == d.ApproverID {
				out = r
			}
		}
		return nil
	})
	return out, recorded, err
}

func (s *Store) actorKind(ctx context.Context, db bun.IDB, technicianID string) (string, error) {
	var role string
	if err := db.NewSelect().Model((*schema.Technician)(nil)).Column("role").Where("id = ?", technicianID).Scan(ctx, &role); err != nil {
		return "", sqlstore.NoRows(err, "technician", technicianID)
	}
	if role == sqlstore.ActorAdmin {
		return sqlstore.ActorAdmin, nil
	}
	return sqlstore.ActorTechnician, nil
}

// Approvals lists the decisions recorded on a grant, oldest first, with the approvers' e-mails.
func (s *Store) Approvals(ctx context.Context, grantID string) ([]Approval, error) {
	return s.approvals(ctx, s.DB, grantID, "")
}

// ExtensionApprovals lists the decisions recorded on one extension request of a grant.
func (s *Store) ExtensionApprovals(ctx context.Context, grantID, request string) ([]Approval, error) {
	return s.approvals(ctx, s.DB, grantID, request)
}

func (s *Store) approvals(ctx context.Context, db bun.IDB, grantID, request string) ([]Approval, error) {
	var rows []struct {
		schema.GrantApproval `bun:",extend"`
		Email                string `bun:"email"`
	}
	q := db.NewSelect().TableExpr("grant_approvals AS a")
	if request != "" {
		q = db.NewSelect().TableExpr("extension_approvals AS a").Where("a.request = ?", request)
	}
	err := q.ColumnExpr("a.id, a.grant_id, a.tenant_id, a.approver_id, a.decision, a.comment, a.created_at").ColumnExpr("t.email").
		Join("LEFT JOIN technicians AS t ON t.id = a.approver_id").
		Where("a.grant_id = ?", grantID).OrderExpr("a.created_at, a.id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	out := make([]Approval, len(rows))
	for i, r := range rows {
		out[i] = Approval{ID: r.ID, GrantID: r.GrantID, TenantID: r.TenantID, ApproverID: r.ApproverID, ApproverEmail: r.Email,
			Decision: r.Decision, Comment: r.Comment, CreatedAt: sqlstore.UTC(r.CreatedAt), Request: request}
	}
	return out, nil
}

// PendingApprovals lists the grants waiting in pending_approval, and the active grants with
// an extension awaiting approval (Grant.PendingExtension), that approverID may decide
// (GET /v1/approvals), oldest request first.
func (s *Store) PendingApprovals(ctx context.Context, approverID string) ([]grants.Grant, error) {
	var rows []schema.Grant
	if err := s.DB.NewSelect().Model(&rows).WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("status = ?", StatusPendingApproval).
			WhereOr("status = ? AND pending_extension_request IS NOT NULL", StatusActive)
	}).Order("requested_at", "id").Limit(sqlstore.MaxLimit).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list pending approvals: %w", err)
	}
	out := []grants.Grant{}
	for _, r := range rows {
		err := s.CheckApprover(ctx, r.ID, approverID)
		if _, refused := policy.AsError(err); refused {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, grants.FromRow(r))
	}
	return out, nil
}

// ApproverEmails are the e-mails of everyone who may decide grantID (for notifications),
// sorted; never the requester's.
func (s *Store) ApproverEmails(ctx context.Context, grantID string) ([]string, error) {
	g, err := s.grantParties(ctx, s.DB, grantID)
	if err != nil {
		return nil, err
	}
	p, _, err := s.applicationPolicy(ctx, s.DB, g.ApplicationID)
	if err != nil {
		return nil, err
	}
	q := s.DB.NewSelect().Model((*schema.Technician)(nil)).Column("email").Where("id <> ?", g.TechnicianID)
	groups := p.Approval.ApproverGroupIDs
	if len(groups) == 0 {
		q = q.Where("role = ?", sqlstore.ActorAdmin)
	} else {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("id IN (?)", s.DB.NewSelect().Model((*schema.GroupMember)(nil)).Column("technician_id").
				Where("group_id IN (?)", sqlstore.In(groups)).
				Where("group_id IN (?)", s.DB.NewSelect().Model((*schema.Group)(nil)).Column("id").Where("tenant_id = ?", g.TenantID)))
			if slices.Contains(groups, tenancy.AllAdminsGroupID) {
				q = q.WhereOr("id IN (?)", s.DB.NewSelect().Model((*schema.TenantMember)(nil)).Column("technician_id").Where("tenant_id = ?", g.TenantID))
			}
			return q
		})
	}
	var emails []string
	if err := q.Order("email").Scan(ctx, &emails); err != nil {
		return nil, fmt.Errorf("list approvers: %w", err)
	}
	return emails, nil
}
