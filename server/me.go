package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/access"
)

// staffRoutes are the route groups any authenticated member of staff (technician or admin)
// may call. They exist only with a workflow engine: without one, nothing a technician can
// do would work.
func (s *Server) staffRoutes() []func(*gin.RouterGroup) {
	if s.deps.Workflows == nil {
		s.log.Warn("no workflow engine configured: the technicians' routes /v1/me and /v1/access-requests are not served")
		return nil
	}
	return []func(*gin.RouterGroup){s.meRoutes, s.accessRequestRoutes}
}

func (s *Server) meRoutes(g *gin.RouterGroup) {
	g.GET("/me", s.getMe)
	g.GET("/me/applications", s.myApplications)
}

type memberTenantView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type meView struct {
	ID          string             `json:"id"`
	Email       string             `json:"email"`
	DisplayName string             `json:"display_name"`
	Role        string             `json:"role"`
	Tenants     []memberTenantView `json:"tenants"`
}

// getMe answers who the caller is and which customer tenants they work in.
func (s *Server) getMe(c *gin.Context) {
	u := currentUser(c)
	ts, err := s.deps.Store.TenantsOf(c.Request.Context(), u.ID)
	if err != nil {
		s.internal(c, err)
		return
	}
	v := meView{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Role: u.Role, Tenants: make([]memberTenantView, len(ts))}
	for i, t := range ts {
		v.Tenants[i] = memberTenantView{ID: t.ID, Name: t.Name}
	}
	c.JSON(http.StatusOK, v)
}

type ruleRefView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// entitledApplicationView is an application as a technician sees it: what requesting it
// gives, not how it was authorized.
type entitledApplicationView struct {
	ID             string      `json:"id"`
	TenantID       string      `json:"tenant_id"`
	TenantName     string      `json:"tenant_name"`
	Name           string      `json:"name"`
	Status         string      `json:"status"`
	AccessDuration string      `json:"access_duration"`
	Domain         *string     `json:"domain"`
	Roles          []string    `json:"roles"`
	Entitlement    ruleRefView `json:"entitlement"`
}

// myApplications lists the applications the caller may request, each with the rule that
// entitles them. Applications that are not ready yet are listed with their status, so the
// portal can say why a request would be refused.
func (s *Server) myApplications(c *gin.Context) {
	out, err := s.MyApplications(c.Request.Context(), s.actor(c))
	if err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusOK, list(out, ""))
}

// MyApplications lists the applications the actor may request, with the entitling rule.
func (s *Server) MyApplications(ctx context.Context, u access.Actor) ([]entitledApplicationView, error) {
	apps, err := s.deps.Store.EntitledApplications(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	ts, err := s.deps.Store.TenantsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ts))
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	out := make([]entitledApplicationView, len(apps))
	for i, e := range apps {
		a := e.Application
		v := entitledApplicationView{ID: a.ID, TenantID: a.TenantID, TenantName: names[a.TenantID], Name: a.Name, Status: a.Status,
			AccessDuration: a.AccessDuration.String(), Roles: a.Roles, Entitlement: ruleRefView{ID: e.RuleID, Name: e.RuleName}}
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
