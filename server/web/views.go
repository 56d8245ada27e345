package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/permission"
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

// ParseDay reads a query time: a date (2026-11-01, midnight UTC) or an RFC 3339 time.
func ParseDay(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t.UTC(), err == nil
}

// SendFile answers a report file as a download.
func SendFile(c *gin.Context, contentType, filename, sha string, body []byte) {
	c.Header("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	if sha != "" {
		c.Header("X-Content-SHA256", sha)
	}
	c.Data(http.StatusOK, contentType, body)
}

// Principal is what the permission matrix needs to know about the actor.
func (b *Base) Principal(ctx context.Context, a access.Actor) (permission.Principal, error) {
	return b.Deps.Store.Principal(ctx, a.Technician)
}

// AuditorTenant narrows a listing's tenant filter to an auditor's scope: ok is false when the
// auditor may see nothing of what was asked.
func AuditorTenant(p permission.Principal, tenantID string) (string, *access.Error, bool) {
	switch {
	case tenantID != "":
		return tenantID, nil, p.Scope.Contains(tenantID)
	case p.Scope.All:
		return "", nil, true
	case len(p.Scope.Tenants) == 1:
		return p.Scope.Tenants[0], nil, true
	case len(p.Scope.Tenants) == 0:
		return "", nil, false
	}
	return "", access.FieldError("tenant_id", "is required: you audit more than one tenant."), false
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

// ExtensionAllowed reports whether id is a configured browser extension (JIT_EXTENSION_IDS).
func (b *Base) ExtensionAllowed(id string) bool {
	return id != "" && slices.Contains(b.Deps.ExtensionIDs, id)
}

// OriginOf is scheme://host of an absolute URL, or "".
func OriginOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
