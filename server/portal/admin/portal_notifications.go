package admin

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/server/portal"
)

// The notifications page (admins): add a destination, send it a test event, remove it, and
// see its last deliveries. It calls the same methods as /v1/notification-destinations.

func (s *Pages) notificationPortalRoutes(admin *gin.RouterGroup) {
	admin.GET("/notifications", s.portalNotifications)
	admin.POST("/notifications", s.portalAddDestination)
	admin.POST("/notifications/:destination_id/test", s.portalTestDestination)
	admin.POST("/notifications/:destination_id/delete", s.portalDeleteDestination)
}

func (s *Pages) portalNotifications(c *gin.Context) {
	s.renderNotifications(c, http.StatusOK, "", nil)
}

func (s *Pages) renderNotifications(c *gin.Context, status int, secret string, p *access.Error) {
	ds, err := s.Deps.Store.Destinations(c.Request.Context())
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]notify.DestinationView, 0, len(ds))
	for _, d := range ds {
		v, err := s.DestinationView(c, d)
		if err != nil {
			s.Fail(c, err)
			return
		}
		views = append(views, v)
	}
	s.Render(c, status, "notifications.html", portal.PageData{Title: "Notifications", Nav: "notifications", Problem: p,
		Data: map[string]any{"Destinations": views, "EventNames": notify.EventNames(), "Secret": secret}})
}

func (s *Pages) portalAddDestination(c *gin.Context) {
	in := notify.DestinationRequest{Name: c.PostForm("name"), Type: c.PostForm("type"), URL: strings.TrimSpace(c.PostForm("url")),
		Secret: c.PostForm("secret"), Events: c.PostFormArray("events"), SMTPAddr: strings.TrimSpace(c.PostForm("smtp_addr")),
		SMTPUsername: c.PostForm("smtp_username"), SMTPPassword: c.PostForm("smtp_password"), From: strings.TrimSpace(c.PostForm("from"))}
	for _, r := range strings.Split(c.PostForm("recipients"), ",") {
		if r = strings.TrimSpace(r); r != "" {
			in.Recipients = append(in.Recipients, r)
		}
	}
	v, err := s.AddDestination(c, in)
	if err != nil {
		s.FormFailed(c, err, func(status int, p *access.Error) { s.renderNotifications(c, status, "", p) })
		return
	}
	if v.Secret != "" {
		// The generated key is shown once, on this answer, never in a URL.
		s.renderNotifications(c, http.StatusCreated, v.Secret, nil)
		return
	}
	portal.Redirect(c, "/admin/notifications?done=destination_added")
}

func (s *Pages) portalTestDestination(c *gin.Context) {
	if err := s.SendTestEvent(c, c.Param("destination_id")); err != nil {
		s.Fail(c, err)
		return
	}
	portal.Redirect(c, "/admin/notifications?done=test_queued")
}

func (s *Pages) portalDeleteDestination(c *gin.Context) {
	if err := s.RemoveDestination(c, c.Param("destination_id")); err != nil {
		s.Fail(c, err)
		return
	}
	portal.Redirect(c, "/admin/notifications?done=destination_removed")
}
