package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/directory"
)

func (s *Server) directoryRoutes(g *gin.RouterGroup) {
	g.GET("/tenants/:tenant_id/applications/:application_id/directory/domains", s.listDomains)
	g.GET("/tenants/:tenant_id/applications/:application_id/directory/roles", s.listRoles)
}

// authorizedApplication loads the path's application and requires an authorization.
func (s *Server) authorizedApplicationID(c *gin.Context) (string, bool) {
	a, ok := s.application(c)
	if !ok {
		return "", false
	}
	if a.Authorization == nil {
		abort(c, http.StatusConflict, "application_not_authorized", "Authorize the application first.")
		return "", false
	}
	return a.ID, true
}

func (s *Server) listDomains(c *gin.Context) {
	id, ok := s.authorizedApplicationID(c)
	if !ok {
		return
	}
	ds, err := s.deps.Directory.Domains(c.Request.Context(), id)
	if err != nil {
		s.directoryError(c, err)
		return
	}
	out := make([]domainView, len(ds))
	for i, d := range ds {
		out[i] = viewDomain(d)
	}
	c.JSON(http.StatusOK, list(out, ""))
}

func (s *Server) listRoles(c *gin.Context) {
	id, ok := s.authorizedApplicationID(c)
	if !ok {
		return
	}
	rs, err := s.deps.Directory.Roles(c.Request.Context(), id)
	if err != nil {
		s.directoryError(c, err)
		return
	}
	out := make([]roleView, len(rs))
	for i, r := range rs {
		out[i] = viewRole(r)
	}
	c.JSON(http.StatusOK, list(out, ""))
}

// directoryError answers a failure of the customer's directory without leaking details.
func (s *Server) directoryError(c *gin.Context, err error) {
	var throttled *directory.ThrottledError
	switch {
	case errors.Is(err, directory.ErrAuthorizationLost), errors.Is(err, directory.ErrNotAuthorized):
		abort(c, http.StatusConflict, "authorization_lost", "The consent for this tenant no longer works; authorize the application again.")
	case errors.As(err, &throttled):
		c.Header("Retry-After", strconv.Itoa(max(1, int(throttled.RetryAfter.Seconds()))))
		abort(c, http.StatusServiceUnavailable, "directory_throttled", "Microsoft Entra ID is throttling requests for this tenant; try again shortly.")
	default:
		s.log.ErrorContext(c.Request.Context(), "directory call failed",
			slog.String("request_id", c.GetString(requestIDKey)), slog.String("route", c.FullPath()), slog.Any("error", err))
		abort(c, http.StatusBadGateway, "directory_error", "Microsoft Entra ID could not answer; try again (request id "+c.GetString(requestIDKey)+").")
	}
}
