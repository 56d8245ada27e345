// Package admin is the MSP admins' part of the JSON API (SPEC §4): tenants, staff, auditors'
// tenants, members, groups, applications and their authorization, the directory, entitlement
// rules and notification destinations, plus Slack's interactivity callback.
package admin

import (
	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/server/api"
)

// API serves the admins' handlers with the JSON plumbing of package api.
type API struct{ *api.API }

// New is the admins' API over a.
func New(a *api.API) *API { return &API{API: a} }

// Routes registers the admins' routes on admin (from api.API.Routes) and Slack's callback,
// whose request signing is its credential, on r.
func (s *API) Routes(r *gin.Engine, admin *gin.RouterGroup) {
	s.slackRoute(r)
	for _, register := range []func(*gin.RouterGroup){
		s.tenantRoutes,
		s.technicianRoutes,
		s.auditorTenantRoutes,
		s.memberRoutes,
		s.groupRoutes,
		s.applicationRoutes,
		s.directoryRoutes,
		s.entitlementRoutes,
		s.notificationRoutes,
	} {
		register(admin)
	}
}
