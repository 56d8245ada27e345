package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/jitaccess/jitaccess/workflows"
)

// Notifier queues grant events for the MSP's notification destinations (notify.Publisher).
// The activities call it right after the record it reports is written, so an event is never
// announced before the database says so; a retried activity queues it once (the event id
// is derived from the grant, the event and its key). Nil queues nothing.
type Notifier interface {
	PublishGrantEvent(ctx context.Context, n workflows.GrantNotification) (int, error)
}

func (a *Activities) publish(ctx context.Context, n workflows.GrantNotification) error {
	if a.Notifier == nil {
		return nil
	}
	if _, err := a.Notifier.PublishGrantEvent(ctx, n); err != nil {
		return fmt.Errorf("queue the %s notification of grant %s: %w", n.Event, n.GrantID, err)
	}
	return nil
}

// notificationOf is the grant event a written record announces, if any. An approver's
// decision is announced by the approval activity; a denial by the final record.
func notificationOf(rec workflows.Record) (workflows.GrantNotification, bool) {
	n := workflows.GrantNotification{GrantID: rec.GrantID, Key: rec.Key, ActorID: rec.Actor.ID, Reason: rec.Reason}
	switch {
	case rec.Action == workflows.ActionActivated:
		n.Event = workflows.NotifyActive
	case rec.Action == workflows.ActionExtended:
		n.Event = workflows.NotifyExtended
	case rec.Action == workflows.ActionExtensionRequested:
		n.Event = workflows.NotifyApprovalNeeded
	case rec.Action == workflows.ActionDisableBlocked:
		n.Event = workflows.NotifyDisableBlocked
	case rec.Action == "" || !strings.HasPrefix(rec.Action, "grant."):
		return n, false
	default:
		switch rec.Status {
		case workflows.StatusExpired:
			n.Event = workflows.NotifyExpired
		case workflows.StatusRevoked:
			n.Event = workflows.NotifyRevoked
		case workflows.StatusFailed:
			n.Event = workflows.NotifyFailed
		case workflows.StatusDenied, workflows.StatusExpiredUnapproved:
			n.Event = workflows.NotifyDenied
		default:
			return n, false
		}
	}
	return n, true
}
