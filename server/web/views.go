package web

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

// TemporalURL links to the run in the Temporal UI ("" when no UI is configured).
func (b *Base) TemporalURL(workflowID, runID string) string {
	ui := strings.TrimRight(b.Deps.TemporalUIURL, "/")
	if ui == "" || workflowID == "" {
		return ""
	}
	ns := b.Deps.TemporalNamespace
	if ns == "" {
		ns = "default"
	}
	u := ui + "/namespaces/" + url.PathEscape(ns) + "/workflows/" + url.PathEscape(workflowID)
	if runID != "" {
		u += "/" + url.PathEscape(runID)
	}
	return u
}

// RuleRefView names the entitlement rule behind an application.
type RuleRefView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// EntitledApplicationView is an application as a technician sees it: what requesting it
// gives, not how it was authorized.
type EntitledApplicationView struct {
	ID             string      `json:"id"`
	TenantID       string      `json:"tenant_id"`
	TenantName     string      `json:"tenant_name"`
	Name           string      `json:"name"`
	Status         string      `json:"status"`
	AccessDuration string      `json:"access_duration"`
	Domain         *string     `json:"domain"`
	Roles          []string    `json:"roles"`
	Entitlement    RuleRefView `json:"entitlement"`
}

// MyApplications lists the applications the actor may request, with the entitling rule.
func (b *Base) MyApplications(ctx context.Context, u access.Actor) ([]EntitledApplicationView, error) {
	apps, err := b.Deps.Store.EntitledApplications(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	ts, err := b.Deps.Store.TenantsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ts))
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	out := make([]EntitledApplicationView, len(apps))
	for i, e := range apps {
		a := e.Application
		v := EntitledApplicationView{ID: a.ID, TenantID: a.TenantID, TenantName: names[a.TenantID], Name: a.Name, Status: a.Status,
			AccessDuration: a.AccessDuration.String(), Roles: a.Roles, Entitlement: RuleRefView{ID: e.RuleID, Name: e.RuleName}}
		if v.Roles == nil {
			v.Roles = []string{}
		}
		if a.Domain != "" {
			d := a.Domain
			v.Domain = &d
		}
		out[i] = v
	}
	return out, nil
}

// TokenView is an API token as listed (never its secret, except once when created).
type TokenView struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	TechnicianID string     `json:"technician_id"`
	Role         string     `json:"role"`
	Kind         string     `json:"kind"`   // "" or "extension"
	Status       string     `json:"status"` // active | expired | revoked
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	Token        string     `json:"token,omitempty"`
}

// ViewToken is t as shown, with the holder's role when the token has none of its own.
func ViewToken(t store.Token, holderRole string, now time.Time) TokenView {
	status := "active"
	switch {
	case !t.RevokedAt.IsZero():
		status = "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		status = "expired"
	}
	role := t.Role
	if role == "" {
		role = holderRole
	}
	return TokenView{ID: t.ID, Name: t.Name, TechnicianID: t.TechnicianID, Role: role, Kind: t.Kind, Status: status, CreatedAt: t.CreatedAt,
		LastUsedAt: OptTime(t.LastUsedAt), ExpiresAt: OptTime(t.ExpiresAt), RevokedAt: OptTime(t.RevokedAt)}
}

// HolderRoles maps technician ids to their roles, for the role shown beside tokens.
func (b *Base) HolderRoles(ctx context.Context, a access.Actor, toks []store.Token) map[string]string {
	roles := map[string]string{a.ID: a.Role}
	for _, t := range toks {
		if _, ok := roles[t.TechnicianID]; !ok {
			if h, err := b.Deps.Store.Technician(ctx, t.TechnicianID); err == nil {
				roles[t.TechnicianID] = h.Role
			}
		}
	}
	return roles
}

// OptString is v, or null when empty.
func OptString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// OptTime is t in UTC, or null when zero.
func OptTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
