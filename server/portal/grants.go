package portal

import (
	"context"

	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// NameOr is name, or id when there is none.
func NameOr(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

// GrantRow is a grant with the names an admin reads.
type GrantRow struct {
	store.Grant
	Tenant      string
	Application string
	Technician  string
	TemporalURL string
}

// Names resolves ids to names for grant lists, each looked up once per page.
type Names struct {
	s       *Portal
	ctx     context.Context
	tenants map[string]string
	apps    map[string]string
	techs   map[string]string
}

// NewNames is an empty lookup for one page.
func (s *Portal) NewNames(ctx context.Context) *Names {
	return &Names{s: s, ctx: ctx, tenants: map[string]string{}, apps: map[string]string{}, techs: map[string]string{}}
}

// Tenant is the name of tenant id.
func (n *Names) Tenant(id string) string {
	if v, ok := n.tenants[id]; ok {
		return v
	}
	t, err := n.s.Deps.Store.Tenant(n.ctx, id)
	n.tenants[id] = NameOr(t.Name, id)
	if err != nil {
		n.tenants[id] = id
	}
	return n.tenants[id]
}

// App is the name of application id.
func (n *Names) App(id string) string {
	if v, ok := n.apps[id]; ok {
		return v
	}
	a, err := n.s.Deps.Store.ApplicationByID(n.ctx, id)
	n.apps[id] = a.Name
	if err != nil {
		n.apps[id] = id
	}
	return n.apps[id]
}

// Tech is the e-mail of technician id.
func (n *Names) Tech(id string) string {
	if v, ok := n.techs[id]; ok {
		return v
	}
	t, err := n.s.Deps.Store.Technician(n.ctx, id)
	n.techs[id] = t.Email
	if err != nil || t.Email == "" {
		n.techs[id] = id
	}
	return n.techs[id]
}

// GrantRows are gs with their names and Temporal links.
func (s *Portal) GrantRows(ctx context.Context, gs []store.Grant) []GrantRow {
	n := s.NewNames(ctx)
	out := make([]GrantRow, len(gs))
	for i, g := range gs {
		out[i] = GrantRow{Grant: g, Tenant: n.Tenant(g.TenantID), Application: n.App(g.ApplicationID),
			Technician: n.Tech(g.TechnicianID), TemporalURL: s.TemporalURL(g.WorkflowID, g.RunID)}
	}
	return out
}

// approvalStatus is what the requester's grant page says about its approval.
type approvalStatus struct {
	Needed    int
	Approvals []store.Approval
}

func (s *Portal) grantApprovalStatus(ctx context.Context, g store.Grant) *approvalStatus {
	if g.Status != string(workflows.StatusPendingApproval) && g.Status != string(workflows.StatusDenied) && g.Status != string(workflows.StatusExpiredUnapproved) {
		return nil
	}
	st := &approvalStatus{}
	if p, _, err := s.Deps.Store.ApplicationPolicy(ctx, g.ApplicationID); err == nil {
		st.Needed = p.Approval.ApprovalsNeeded
	}
	st.Approvals, _ = s.Deps.Store.Approvals(ctx, g.ID)
	return st
}
