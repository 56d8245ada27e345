package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// Outbox is the part of *store.Store the dispatcher needs.
type Outbox interface {
	ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]store.Delivery, error)
	MarkDelivered(ctx context.Context, id string) error
	MarkAttemptFailed(ctx context.Context, id, reason string, next time.Time, giveUp bool) error
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
	Destination(ctx context.Context, id string) (store.Destination, error)
	DestinationSecrets(ctx context.Context, id string) (store.DestinationSecrets, error)
}

// Dispatcher drains the outbox: each (destination, grant) queue delivers its events one at
// a time and in order, retrying a failed head with backoff until it succeeds or MaxAge
// passes, so a receiver that is down for a while gets every event afterwards, in order.
// Several dispatchers (one per worker process) share the outbox through leases.
type Dispatcher struct {
	Outbox  Outbox
	Senders map[string]Sender // by destination type; see Senders()
	// Interval between polls when idle (default 1 s); Batch deliveries per poll (default 50).
	Interval time.Duration
	Batch    int
	// MaxBackoff caps the wait between attempts (default 15 s); MaxAge gives up on an event
	// that could not be delivered for that long (default 24 h).
	MaxBackoff time.Duration
	MaxAge     time.Duration
	// Retention keeps finished deliveries (the destinations' history) this long (default 30 days).
	Retention time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
	Metrics   *Metrics // nil: none
}

// Senders is the sender of every destination type, with default HTTP clients.
func Senders() map[string]Sender {
	return map[string]Sender{
		store.DestinationWebhook: &Webhook{},
		store.DestinationTeams:   &Teams{},
		store.DestinationSlack:   &Slack{},
		store.DestinationEmail:   &Email{},
	}
}

// Run drains the outbox until ctx ends, and prunes finished deliveries hourly.
func (d *Dispatcher) Run(ctx context.Context) error {
	var pruned time.Time
	for {
		if now := d.now(); now.Sub(pruned) >= time.Hour {
			pruned = now
			if _, err := d.Outbox.PruneDeliveries(ctx, now.Add(-d.retention())); err != nil && ctx.Err() == nil {
				d.logger().Error("Notification deliveries not pruned", "Error", err)
			}
		}
		n, err := d.DrainOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.logger().Error("Notification outbox not drained", "Error", err)
		}
		wait := d.interval()
		if n > 0 {
			wait = 0 // more may be due (the next event of a grant)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// DrainOnce delivers the deliveries due now and returns how many it attempted.
func (d *Dispatcher) DrainOnce(ctx context.Context) (int, error) {
	batch := d.Batch
	if batch <= 0 {
		batch = 50
	}
	// A lease outlives one attempt (senders time out after 10-15 s).
	due, err := d.Outbox.ClaimDeliveries(ctx, batch, time.Minute)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, dl := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.deliver(ctx, dl)
		}()
	}
	wg.Wait()
	return len(due), nil
}

func (d *Dispatcher) deliver(ctx context.Context, dl store.Delivery) {
	log := d.logger().With("DeliveryID", dl.ID, "DestinationID", dl.DestinationID, "Event", dl.EventType, "GrantID", dl.GrantID)
	typ, err := d.send(ctx, dl)
	now := d.now()
	if err == nil {
		d.Metrics.attempt(typ, "delivered", now.Sub(dl.CreatedAt))
		if err := d.Outbox.MarkDelivered(ctx, dl.ID); err != nil {
			log.Error("Delivery not marked delivered", "Error", err)
		}
		return
	}
	giveUp := errors.Is(err, ErrPermanent) || now.Sub(dl.CreatedAt) > d.maxAge()
	if giveUp {
		d.Metrics.attempt(typ, "failed", 0)
	} else {
		d.Metrics.attempt(typ, "retry", 0)
	}
	next := now.Add(d.backoff(dl.Attempts))
	log.Warn("Notification not delivered", "Attempt", dl.Attempts+1, "GiveUp", giveUp, "Error", err)
	if err := d.Outbox.MarkAttemptFailed(context.WithoutCancel(ctx), dl.ID, err.Error(), next, giveUp); err != nil {
		log.Error("Delivery attempt not recorded", "Error", err)
	}
}

// send delivers dl and returns its destination's type (for metrics).
func (d *Dispatcher) send(ctx context.Context, dl store.Delivery) (string, error) {
	dest, err := d.Outbox.Destination(ctx, dl.DestinationID)
	if err != nil {
		return "unknown", fmt.Errorf("destination: %w", err)
	}
	sender := d.Senders[dest.Type]
	if sender == nil {
		return dest.Type, fmt.Errorf("no sender for destination type %q: %w", dest.Type, ErrPermanent)
	}
	sec, err := d.Outbox.DestinationSecrets(ctx, dl.DestinationID)
	if err != nil {
		return dest.Type, fmt.Errorf("destination secrets: %w", err)
	}
	var ev Event
	if err := json.Unmarshal(dl.Payload, &ev); err != nil {
		return dest.Type, fmt.Errorf("event payload: %v: %w", err, ErrPermanent)
	}
	return dest.Type, sender.Send(ctx, dest, sec, ev)
}

// backoff after attempts failed attempts: 1 s, 2 s, 4 s, … up to MaxBackoff.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	max := d.MaxBackoff
	if max <= 0 {
		max = 15 * time.Second
	}
	b := time.Second << min(attempts, 20)
	return min(b, max)
}

func (d *Dispatcher) retention() time.Duration {
	if d.Retention > 0 {
		return d.Retention
	}
	return 30 * 24 * time.Hour
}

func (d *Dispatcher) interval() time.Duration {
	if d.Interval > 0 {
		return d.Interval
	}
	return time.Second
}

func (d *Dispatcher) maxAge() time.Duration {
	if d.MaxAge > 0 {
		return d.MaxAge
	}
	return 24 * time.Hour
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}
