package web

import (
	"errors"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/store"
)

const (
	actionDestinationCreated = "notification_destination.created"
	actionDestinationDeleted = "notification_destination.deleted"
	actionDestinationTested  = "notification_destination.tested"
	lastDeliveries           = 10
)

func (b *Base) publisher() *notify.Publisher {
	return &notify.Publisher{Store: b.Deps.Store, PublicURL: b.Deps.PublicURL}
}

// DestinationView is d with its last deliveries.
func (b *Base) DestinationView(c *gin.Context, d store.Destination) (notify.DestinationView, error) {
	ds, err := b.Deps.Store.Deliveries(c.Request.Context(), d.ID, lastDeliveries)
	if err != nil {
		return notify.DestinationView{}, err
	}
	return notify.View(d, ds), nil
}

// destinationError maps a refused destination to its problem.
func destinationError(err error) error {
	var fe *notify.FieldError
	if errors.As(err, &fe) {
		return access.FieldError(fe.Field, fe.Message)
	}
	return access.RefError(err)
}

// AddDestination creates a notification destination from in and audits it; a generated
// secret is in the view, shown this once.
func (b *Base) AddDestination(c *gin.Context, in notify.DestinationRequest) (notify.DestinationView, error) {
	actor := b.Actor(c)
	nd, secret, err := in.NewDestination(actor.ID)
	if err != nil {
		return notify.DestinationView{}, destinationError(err)
	}
	d, err := b.Deps.Store.CreateDestination(c.Request.Context(), nd)
	if err != nil {
		return notify.DestinationView{}, destinationError(err)
	}
	b.Svc.Audit(c.Request.Context(), actor, store.AuditEvent{TenantID: d.TenantID, Action: actionDestinationCreated, Target: d.ID,
		Details: map[string]any{"name": d.Name, "type": d.Type, "events": d.Events}})
	v := notify.View(d, nil)
	v.Secret = secret
	return v, nil
}

// RemoveDestination deletes destination id and audits it.
func (b *Base) RemoveDestination(c *gin.Context, id string) error {
	d, err := b.Deps.Store.Destination(c.Request.Context(), id)
	if err != nil {
		return access.RefError(err)
	}
	if err := b.Deps.Store.DeleteDestination(c.Request.Context(), id); err != nil {
		return access.RefError(err)
	}
	b.Svc.Audit(c.Request.Context(), b.Actor(c), store.AuditEvent{TenantID: d.TenantID, Action: actionDestinationDeleted, Target: id,
		Details: map[string]any{"name": d.Name, "type": d.Type}})
	return nil
}

// SendTestEvent queues a test event to destination id and audits it.
func (b *Base) SendTestEvent(c *gin.Context, id string) error {
	actor := b.Actor(c)
	d, err := b.Deps.Store.Destination(c.Request.Context(), id)
	if err != nil {
		return access.RefError(err)
	}
	if err := b.publisher().SendTest(c.Request.Context(), id, actor.ID); err != nil {
		return access.RefError(err)
	}
	b.Svc.Audit(c.Request.Context(), actor, store.AuditEvent{TenantID: d.TenantID, Action: actionDestinationTested, Target: id})
	return nil
}
