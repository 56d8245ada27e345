package server

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/store"
)

// Notification destinations (SPEC §10, admins): add, list with their last deliveries, send
// a test event, remove. Secrets are sealed by the store and never shown again (a webhook's
// generated HMAC key is shown once, in the 201 answer). Slack's interactivity callback is
// outside bearer auth: Slack's request signing is its credential.

const (
	actionDestinationCreated = "notification_destination.created"
	actionDestinationDeleted = "notification_destination.deleted"
	actionDestinationTested  = "notification_destination.tested"
	lastDeliveries           = 10
)

func (s *Server) notificationRoutes(admin *gin.RouterGroup) {
	admin.GET("/notification-destinations", s.listDestinations)
	admin.POST("/notification-destinations", s.createDestination)
	admin.DELETE("/notification-destinations/:destination_id", s.deleteDestination)
	admin.POST("/notification-destinations/:destination_id/test", s.testDestination)
}

// slackDecider is implemented by *approvals.Service.
type slackDecider interface{ SlackDecider() notify.Decider }

// slackRoute mounts Slack's interactivity callback when approvals are configured.
func (s *Server) slackRoute(r *gin.Engine) {
	var h *notify.SlackInteractions
	if sd, ok := s.deps.Approvals.(slackDecider); ok {
		h = &notify.SlackInteractions{Destinations: s.deps.Store, Decider: sd.SlackDecider(), Logger: s.log}
	}
	r.POST("/v1/notification-destinations/:destination_id/slack/interactions", s.limitBody, func(c *gin.Context) {
		if h == nil { // no approvals here: nothing a callback could decide
			c.String(http.StatusUnauthorized, "invalid signature")
			return
		}
		h.ServeDestination(c.Writer, c.Request, c.Param("destination_id"))
	})
}

func (s *Server) publisher() *notify.Publisher {
	return &notify.Publisher{Store: s.deps.Store, PublicURL: s.deps.PublicURL}
}

func (s *Server) destinationView(c *gin.Context, d store.Destination) (notify.DestinationView, error) {
	ds, err := s.deps.Store.Deliveries(c.Request.Context(), d.ID, lastDeliveries)
	if err != nil {
		return notify.DestinationView{}, err
	}
	return notify.View(d, ds), nil
}

func (s *Server) listDestinations(c *gin.Context) {
	ds, err := s.deps.Store.Destinations(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]notify.DestinationView, 0, len(ds))
	for _, d := range ds {
		v, err := s.destinationView(c, d)
		if err != nil {
			s.fail(c, err)
			return
		}
		out = append(out, v)
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "next_cursor": nil})
}

// destinationError maps a refused destination to its problem.
func destinationError(err error) error {
	var fe *notify.FieldError
	if errors.As(err, &fe) {
		return access.FieldError(fe.Field, fe.Message)
	}
	return access.RefError(err)
}

func (s *Server) createDestination(c *gin.Context) {
	var in notify.DestinationRequest
	if !decodeJSON(c, &in) {
		return
	}
	v, err := s.addDestination(c, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (s *Server) addDestination(c *gin.Context, in notify.DestinationRequest) (notify.DestinationView, error) {
	actor := s.actor(c)
	nd, secret, err := in.NewDestination(actor.ID)
	if err != nil {
		return notify.DestinationView{}, destinationError(err)
	}
	d, err := s.deps.Store.CreateDestination(c.Request.Context(), nd)
	if err != nil {
		return notify.DestinationView{}, destinationError(err)
	}
	s.svc.Audit(c.Request.Context(), actor, store.AuditEvent{TenantID: d.TenantID, Action: actionDestinationCreated, Target: d.ID,
		Details: map[string]any{"name": d.Name, "type": d.Type, "events": d.Events}})
	v := notify.View(d, nil)
	v.Secret = secret
	return v, nil
}

func (s *Server) deleteDestination(c *gin.Context) {
	if err := s.removeDestination(c, c.Param("destination_id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) removeDestination(c *gin.Context, id string) error {
	d, err := s.deps.Store.Destination(c.Request.Context(), id)
	if err != nil {
		return access.RefError(err)
	}
	if err := s.deps.Store.DeleteDestination(c.Request.Context(), id); err != nil {
		return access.RefError(err)
	}
	s.svc.Audit(c.Request.Context(), s.actor(c), store.AuditEvent{TenantID: d.TenantID, Action: actionDestinationDeleted, Target: id,
		Details: map[string]any{"name": d.Name, "type": d.Type}})
	return nil
}

func (s *Server) testDestination(c *gin.Context) {
	if err := s.sendTestEvent(c, c.Param("destination_id")); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"queued": true})
}

func (s *Server) sendTestEvent(c *gin.Context, id string) error {
	actor := s.actor(c)
	d, err := s.deps.Store.Destination(c.Request.Context(), id)
	if err != nil {
		return access.RefError(err)
	}
	if err := s.publisher().SendTest(c.Request.Context(), id, actor.ID); err != nil {
		return access.RefError(err)
	}
	s.svc.Audit(c.Request.Context(), actor, store.AuditEvent{TenantID: d.TenantID, Action: actionDestinationTested, Target: id})
	return nil
}
