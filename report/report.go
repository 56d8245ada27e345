// Package report builds the evidence a customer is handed: per tenant and period, every grant
// (who, roles, ticket and justification, approver, times, how it ended, proof of disable),
// denied requests and drift findings, from the database and its audit log, as CSV and PDF;
// and a monthly run of it on a Temporal Schedule whose output is kept.
package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// Source is what a report reads (a *store.Store).
type Source interface {
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	Technician(ctx context.Context, id string) (store.Technician, error)
	ApplicationByID(ctx context.Context, id string) (store.Application, error)
	GrantsRequestedBetween(ctx context.Context, tenantID string, from, to time.Time) ([]store.Grant, error)
	TenantAuditEvents(ctx context.Context, tenantID string, from, to time.Time, targets []string) ([]store.AuditEvent, error)
}

// Report is one tenant's evidence for [From, To).
type Report struct {
	TenantID    string
	TenantName  string
	From, To    time.Time
	GeneratedAt time.Time
	Grants      []Grant
	Denied      []Event
	Drift       []Event
}

// Grant is one grant as an auditor reads it.
type Grant struct {
	ID            string
	Technician    string // e-mail
	Application   string
	Roles         []string
	Ticket        string
	Justification string
	Approver      string
	RequestedAt   time.Time
	ActivatedAt   time.Time
	EndedAt       time.Time
	Outcome       string // the grant's status
	EndedBy       string
	// Proof of disable: when the directory was read back showing the account disabled and its
	// roles gone, and the audit event (id, chain seq) that records it.
	DisabledAt   time.Time
	RolesGoneAt  time.Time
	ProofEventID string
	ProofSeq     int64
	WorkflowID   string
	RunID        string
}

// Held is how long the grant gave access (0 if it never did).
func (g Grant) Held() time.Duration {
	if g.ActivatedAt.IsZero() || g.EndedAt.IsZero() || g.EndedAt.Before(g.ActivatedAt) {
		return 0
	}
	return g.EndedAt.Sub(g.ActivatedAt)
}

// Event is a denied request or a drift finding, from the audit log.
type Event struct {
	At      time.Time
	Action  string
	Actor   string
	Target  string
	Detail  string
	EventID string
	Seq     int64
}

// Audit actions a report reads.
const (
	actionRequested  = "grant.requested"
	actionApproved   = "grant.approved"
	actionExpired    = "grant.expired"
	actionRevoked    = "grant.revoked"
	actionTerminated = "grant.terminated"
)

// deniedActions are the audit actions of refused requests.
var deniedActions = map[string]bool{"grant.request_denied": true, "grant.denied": true, "grant.approval_denied": true, "grant.expired_unapproved": true}

func isDrift(action string) bool {
	return strings.HasPrefix(action, "drift.") || strings.HasPrefix(action, "reconcile.")
}

// Build reads the tenant's grants requested in [from, to) and its audit events.
func Build(ctx context.Context, src Source, tenantID string, from, to, now time.Time) (Report, error) {
	if !from.Before(to) {
		return Report{}, fmt.Errorf("report: empty period %s to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	t, err := src.Tenant(ctx, tenantID)
	if err != nil {
		return Report{}, fmt.Errorf("report: %w", err)
	}
	r := Report{TenantID: t.ID, TenantName: t.Name, From: from.UTC(), To: to.UTC(), GeneratedAt: now.UTC()}
	grants, err := src.GrantsRequestedBetween(ctx, tenantID, from, to)
	if err != nil {
		return Report{}, fmt.Errorf("report: %w", err)
	}
	ids := make([]string, len(grants))
	for i, g := range grants {
		ids[i] = g.ID
	}
	events, err := src.TenantAuditEvents(ctx, tenantID, from, to, ids)
	if err != nil {
		return Report{}, fmt.Errorf("report: %w", err)
	}
	names := newNames(ctx, src)
	byGrant := map[string][]store.AuditEvent{}
	for _, e := range events {
		byGrant[e.Target] = append(byGrant[e.Target], e)
		inPeriod := !e.CreatedAt.Before(from) && e.CreatedAt.Before(to)
		switch {
		case !inPeriod:
		case deniedActions[e.Action]:
			r.Denied = append(r.Denied, eventOf(e, names))
		case isDrift(e.Action):
			r.Drift = append(r.Drift, eventOf(e, names))
		}
	}
	for _, g := range grants {
		row := Grant{ID: g.ID, Technician: names.technician(g.TechnicianID), Application: names.application(g.ApplicationID),
			Roles: g.Roles, Justification: g.Justification, RequestedAt: g.RequestedAt, ActivatedAt: g.ActivatedAt, EndedAt: g.EndedAt,
			Outcome: g.Status, WorkflowID: g.WorkflowID, RunID: g.RunID}
		if g.RevokedBy != "" {
			row.EndedBy = names.technician(g.RevokedBy)
		}
		for _, e := range byGrant[g.ID] {
			switch e.Action {
			case actionRequested:
				row.Ticket = detail(e, "ticket_reference")
			case actionApproved:
				row.Approver = names.technician(e.ActorID)
			case actionExpired, actionRevoked, actionTerminated:
				// The workflow logs the end only after reading the account back disabled.
				row.DisabledAt = firstTime(e, "disabled_verified_at", "ended_at")
				row.RolesGoneAt = firstTime(e, "roles_removed_at", "ended_at")
				row.ProofEventID, row.ProofSeq = e.ID, e.Seq
			}
		}
		r.Grants = append(r.Grants, row)
	}
	return r, nil
}

func eventOf(e store.AuditEvent, n *names) Event {
	var parts []string
	for _, k := range []string{"reason", "application_id", "technician_id", "status", "finding", "detail"} {
		if v := detail(e, k); v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return Event{At: e.CreatedAt, Action: e.Action, Actor: n.technician(e.ActorID), Target: e.Target, Detail: strings.Join(parts, " "),
		EventID: e.ID, Seq: e.Seq}
}

func detail(e store.AuditEvent, key string) string {
	if v, ok := e.Details[key]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

func firstTime(e store.AuditEvent, keys ...string) time.Time {
	for _, k := range keys {
		if t, err := time.Parse(time.RFC3339Nano, detail(e, k)); err == nil {
			return t.UTC()
		}
	}
	return e.CreatedAt
}

// names resolves ids to what a reader recognises, once each.
type names struct {
	ctx   context.Context
	src   Source
	techs map[string]string
	apps  map[string]string
}

func newNames(ctx context.Context, src Source) *names {
	return &names{ctx: ctx, src: src, techs: map[string]string{}, apps: map[string]string{}}
}

func (n *names) technician(id string) string {
	if id == "" || id == store.ActorSystem {
		return id
	}
	if v, ok := n.techs[id]; ok {
		return v
	}
	v := id
	if t, err := n.src.Technician(n.ctx, id); err == nil {
		v = t.Email
	}
	n.techs[id] = v
	return v
}

func (n *names) application(id string) string {
	if v, ok := n.apps[id]; ok {
		return v
	}
	v := id
	if a, err := n.src.ApplicationByID(n.ctx, id); err == nil {
		v = a.Name
	}
	n.apps[id] = v
	return v
}

// DayCount is the number of grants requested on one UTC day.
type DayCount struct {
	Day   time.Time
	Count int
}

// GrantsPerDay counts grants by the UTC day they were requested, every day of the period.
func (r Report) GrantsPerDay() []DayCount {
	var out []DayCount
	idx := map[time.Time]int{}
	for d := r.From.Truncate(24 * time.Hour); d.Before(r.To); d = d.Add(24 * time.Hour) {
		idx[d] = len(out)
		out = append(out, DayCount{Day: d})
	}
	for _, g := range r.Grants {
		if i, ok := idx[g.RequestedAt.UTC().Truncate(24*time.Hour)]; ok {
			out[i].Count++
		}
	}
	return out
}

// Holding is the total time one technician held access in the period's grants.
type Holding struct {
	Technician string
	Held       time.Duration
	Grants     int
}

// HeldPerTechnician sums time held per technician, longest first.
func (r Report) HeldPerTechnician() []Holding {
	m := map[string]*Holding{}
	for _, g := range r.Grants {
		h, ok := m[g.Technician]
		if !ok {
			h = &Holding{Technician: g.Technician}
			m[g.Technician] = h
		}
		h.Held += g.Held()
		h.Grants++
	}
	out := make([]Holding, 0, len(m))
	for _, h := range m {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Held != out[j].Held {
			return out[i].Held > out[j].Held
		}
		return out[i].Technician < out[j].Technician
	})
	return out
}
