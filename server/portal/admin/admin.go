// Package admin holds the portal's pages beyond a technician's own: the MSP admins' pages
// (/admin/...: tenants, staff, applications, entitlements, policies, notifications, grants,
// the audit log), the approvers' queue (/approvals) and the reports of admins and auditors
// (/reports). It renders with package portal.
package admin

import (
	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/server/portal"
)

// Pages serves these pages.
type Pages struct{ *portal.Portal }

// New is the pages over p.
func New(p *portal.Portal) *Pages { return &Pages{Portal: p} }

// Routes registers the pages on the portal's groups (portal.Portal.Routes): in needs a
// session, admin also the admin role.
func (s *Pages) Routes(in, admin *gin.RouterGroup) {
	s.portalReportRoutes(in)

	admin.GET("", s.portalAdminHome)
	admin.GET("/tenants", s.portalTenants)
	admin.POST("/tenants", s.portalCreateTenant)
	admin.GET("/tenants/:tenant_id", s.portalTenant)
	admin.POST("/tenants/:tenant_id/members", s.portalAddMember)
	admin.POST("/tenants/:tenant_id/members/:technician_id/remove", s.portalRemoveMember)
	admin.POST("/tenants/:tenant_id/groups", s.portalCreateGroup)
	admin.POST("/tenants/:tenant_id/groups/:group_id/members", s.portalAddGroupMember)
	admin.POST("/tenants/:tenant_id/groups/:group_id/members/:technician_id/remove", s.portalRemoveGroupMember)
	admin.GET("/tenants/:tenant_id/applications", s.portalApplications)
	admin.POST("/tenants/:tenant_id/applications", s.portalCreateApplication)
	admin.GET("/tenants/:tenant_id/applications/:application_id", s.portalApplication)
	admin.POST("/tenants/:tenant_id/applications/:application_id", s.portalSaveApplication)
	admin.POST("/tenants/:tenant_id/applications/:application_id/authorize", s.portalAuthorize)
	admin.GET("/tenants/:tenant_id/entitlements", s.portalEntitlements)
	admin.POST("/tenants/:tenant_id/entitlements", s.portalCreateEntitlement)
	admin.POST("/tenants/:tenant_id/entitlements/:entitlement_id/delete", s.portalDeleteEntitlement)
	admin.GET("/staff", s.portalStaff)
	admin.POST("/staff", s.portalCreateStaff)
	admin.POST("/staff/:technician_id/active", s.portalSetStaffActive)
	admin.GET("/grants", s.portalGrants)
	admin.GET("/audit", s.portalAudit)
	s.governancePortalRoutes(in, admin)
}
