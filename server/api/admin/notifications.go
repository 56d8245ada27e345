package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/server/api"
	"github.com/jitaccess/jitaccess/server/web"
)

// Notification destinations (SPEC §10, admins): add, list with their last deliveries, send
// a test event, remove. Secrets are sealed by the store and never shown again (a webhook's
// generated HMAC key is shown once, in the 201 answer). Slack's interactivity callback is
// outside bearer auth: Slack's request signing is its credential.

func (s *API) notificationRoutes(admin *gin.RouterGroup) {
	admin.GET("/notification-destinations", s.listDestinations)
	admin.POST("/notification-destinations", s.createDestination)
	admin.DELETE("/notification-destinations/:destination_id", s.deleteDestination)
	admin.POST("/notification-destinations/:destination_id/test", s.testDestination)
}

// slackDecider is implemented by *approvals.Service.
type slackDecider interface{ SlackDecider() notify.Decider }

// slackRoute mounts Slack's interactivity callback when approvals are configured.
func (s *API) slackRoute(r *gin.Engine) {
	var h *notify.SlackInteractions
	if sd, ok := s.Deps.Approvals.(slackDecider); ok {
		h = &notify.SlackInteractions{Destinations: s.Deps.Store, Decider: sd.SlackDecider(), Logger: s.Log}
	}
	r.POST("/v1/notification-destinations/:destination_id/slack/interactions", web.LimitBody, func(c *gin.Context) {
		if h == nil { // no approvals here: nothing a callback could decide
			c.String(http.StatusUnauthorized, "invalid signature")
			return
		}
		h.ServeDestination(c.Writer, c.Request, c.Param("destination_id"))
	})
}

func (s *API) listDestinations(c *gin.Context) {
	ds, err := s.Deps.Store.Destinations(c.Request.Context())
	if err != nil {
		s.Fail(c, err)
		return
	}
	out := make([]notify.DestinationView, 0, len(ds))
	for _, d := range ds {
		v, err := s.DestinationView(c, d)
		if err != nil {
			s.Fail(c, err)
			return
		}
		out = append(out, v)
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "next_cursor": nil})
}

func (s *API) createDestination(c *gin.Context) {
	var in notify.DestinationRequest
	if !api.DecodeJSON(c, &in) {
		return
	}
	v, err := s.AddDestination(c, in)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (s *API) deleteDestination(c *gin.Context) {
	if err := s.RemoveDestination(c, c.Param("destination_id")); err != nil {
		s.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *API) testDestination(c *gin.Context) {
	if err := s.SendTestEvent(c, c.Param("destination_id")); err != nil {
		s.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"queued": true})
}
