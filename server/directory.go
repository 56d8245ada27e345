package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/directory"
)

func (s *Server) directoryRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/applications/:application_id/directory/domains", s.listDomains)
	g.GET("/tenants/:tenant_id/applications/:application_id/directory/roles", s.listRoles)
}

// authorizedApplicationID loads the application and requires an authorization.
func (s *Server) authorizedApplicationID(ctx context.Context, tenantID, applicationID string) (string, error) {
	a, err := s.Application(ctx, tenantID, applicationID)
	if err != nil {
		return "", err
	}
	if a.Authorization == nil {
		return "", access.Refuse(access.Conflict, "application_not_authorized", "Authorize the application first.")
	}
	return a.ID, nil
}

// ApplicationDomains lists the customer tenant's domains, live from the directory.
func (s *Server) ApplicationDomains(ctx context.Context, actor Actor, tenantID, applicationID string) ([]directory.Domain, error) {
	id, err := s.authorizedApplicationID(ctx, tenantID, applicationID)
	if err != nil {
		return nil, err
	}
	ds, err := s.deps.Directory.Domains(ctx, id)
	if err != nil {
		return nil, s.directoryProblem(ctx, actor, "domains", err)
	}
	return ds, nil
}

// ApplicationRoles lists the customer tenant's built-in directory roles, live.
func (s *Server) ApplicationRoles(ctx context.Context, actor Actor, tenantID, applicationID string) ([]directory.Role, error) {
	id, err := s.authorizedApplicationID(ctx, tenantID, applicationID)
	if err != nil {
		return nil, err
	}
	rs, err := s.deps.Directory.Roles(ctx, id)
	if err != nil {
		return nil, s.directoryProblem(ctx, actor, "roles", err)
	}
	return rs, nil
}

func (s *Server) listDomains(c *gin.Context) {
	ds, err := s.ApplicationDomains(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]domainView, len(ds))
	for i, d := range ds {
		out[i] = viewDomain(d)
	}
	c.JSON(http.StatusOK, list(out, ""))
}

func (s *Server) listRoles(c *gin.Context) {
	rs, err := s.ApplicationRoles(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("application_id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]roleView, len(rs))
	for i, r := range rs {
		out[i] = viewRole(r)
	}
	c.JSON(http.StatusOK, list(out, ""))
}
