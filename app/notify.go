package app

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/workflows"
)

// Publisher queues grant events for the MSP's destinations; the activities, the approval
// stage and the reconciler call it right after writing what it announces.
func (a *App) Publisher() *notify.Publisher {
	return &notify.Publisher{Store: a.Store, PublicURL: a.Cfg.PublicURL}
}

// startNotifications runs the outbox dispatcher and the expiring-soon scan until ctx ends;
// wait blocks until both have stopped. Delivery is outside every workflow: a slow receiver
// never holds a grant.
func (a *App) startNotifications(ctx context.Context, pub *notify.Publisher) (wait func()) {
	d := &notify.Dispatcher{Outbox: a.Store, Senders: notify.Senders(), Logger: a.Log.With("component", "notify"),
		Metrics: notify.NewMetrics(a.Registry)}
	var wg sync.WaitGroup
	wg.Go(func() { _ = d.Run(ctx) })
	if lead := a.Cfg.ExpiringSoonLead; lead > 0 {
		// Scan often enough that no grant's window of lead is missed.
		tick := min(15*time.Second, max(time.Second, lead/4))
		wg.Go(func() { a.runExpiringSoon(ctx, pub, lead, tick) })
	}
	return wg.Wait
}

// leaderExpiringSoon names the expiring-soon scan's lock (store.WhileLeader).
const leaderExpiringSoon = "jitaccess.expiring_soon"

// grantPublisher queues grant events (*notify.Publisher).
type grantPublisher interface {
	PublishGrantEvent(ctx context.Context, n workflows.GrantNotification) (int, error)
}

// runExpiringSoon runs the expiring-soon scan once per deployment, however many workers: the
// worker holding its lock scans, another takes over when that worker goes.
func (a *App) runExpiringSoon(ctx context.Context, pub grantPublisher, lead, tick time.Duration) {
	log := a.Log.With("component", "notify")
	_ = a.Store.WhileLeader(ctx, leaderExpiringSoon, leaderRetry, log, func(ctx context.Context) {
		a.announceExpiringSoon(ctx, pub, lead, tick)
	})
}

// announceExpiringSoon queues expiring_soon for every active grant due within lead, every
// tick. The event id derives from the grant and its expiry, so each end is announced once
// (a new leader scans again without announcing twice), and an extension's new end is
// announced again.
func (a *App) announceExpiringSoon(ctx context.Context, pub grantPublisher, lead, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		now := time.Now()
		due, err := a.Store.GrantsExpiringBy(ctx, now, now.Add(lead), 500)
		if err != nil && ctx.Err() == nil {
			a.Log.Warn("expiring-soon scan failed", "error", err)
		}
		for _, g := range due {
			mins := int(time.Until(g.ExpiresAt).Round(time.Minute) / time.Minute)
			n := workflows.GrantNotification{Event: workflows.NotifyExpiringSoon, GrantID: g.GrantID,
				Key: strconv.FormatInt(g.ExpiresAt.Unix(), 10), Reason: "access ends in about " + strconv.Itoa(mins) + " minutes"}
			if _, err := pub.PublishGrantEvent(ctx, n); err != nil && ctx.Err() == nil {
				a.Log.Warn("expiring_soon not queued", "grant_id", g.GrantID, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
