package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/api"
)

// auditorTenantRoutes let an admin make a member of staff an auditor of some tenants.
func (s *API) auditorTenantRoutes(g *gin.RouterGroup) {
	g.GET("/technicians/:technician_id/auditor-tenants", s.getAuditorTenants)
	g.PUT("/technicians/:technician_id/auditor-tenants", s.putAuditorTenants)
}

type auditorScopeView struct {
	TechnicianID string   `json:"technician_id"`
	AllTenants   bool     `json:"all_tenants"`
	TenantIDs    []string `json:"tenant_ids"`
}

func viewScope(sc access.AuditorScope) auditorScopeView {
	return auditorScopeView{TechnicianID: sc.TechnicianID, AllTenants: sc.All, TenantIDs: sc.TenantIDs}
}

func (s *API) getAuditorTenants(c *gin.Context) {
	sc, err := s.Svc.AuditorTenants(c.Request.Context(), s.Actor(c), c.Param("technician_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewScope(sc))
}

func (s *API) putAuditorTenants(c *gin.Context) {
	var in struct {
		AllTenants bool     `json:"all_tenants"`
		TenantIDs  []string `json:"tenant_ids"`
	}
	if !api.DecodeJSON(c, &in) {
		return
	}
	sc, err := s.Svc.SetAuditorTenants(c.Request.Context(), s.Actor(c),
		access.AuditorScope{TechnicianID: c.Param("technician_id"), All: in.AllTenants, TenantIDs: in.TenantIDs})
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewScope(sc))
}
