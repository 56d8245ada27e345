package app

import (
	"context"
	"sync"

	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/workflows"
)

// startNotifications registers the publisher activity (the outbox insert workflows call)
// on w before it starts, and runs the outbox dispatcher until ctx ends; wait blocks until
// it has stopped. Delivery is outside every workflow: a slow receiver never holds a grant.
func (a *App) startNotifications(ctx context.Context, w sdkworker.Worker) (wait func()) {
	pub := &notify.Publisher{Store: a.Store, PublicURL: a.Cfg.PublicURL}
	w.RegisterActivityWithOptions(pub.PublishGrantEvent, activity.RegisterOptions{Name: workflows.PublishGrantEventActivity})
	d := &notify.Dispatcher{Outbox: a.Store, Senders: notify.Senders(), Logger: a.Log.With("component", "notify"),
		Metrics: notify.NewMetrics(a.Registry)}
	var wg sync.WaitGroup
	wg.Go(func() { _ = d.Run(ctx) })
	return wg.Wait
}
