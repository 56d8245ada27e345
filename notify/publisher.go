package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// GrantStore is the part of *store.Store the publisher needs.
type GrantStore interface {
	Grant(ctx context.Context, id string) (store.Grant, error)
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	ApplicationByID(ctx context.Context, id string) (store.Application, error)
	Technician(ctx context.Context, id string) (store.Technician, error)
	TicketReference(ctx context.Context, grantID string) (string, error)
	ApproverEmails(ctx context.Context, grantID string) ([]string, error)
	WantsGrantEvent(ctx context.Context, grantID, event string) (bool, error)
	EnqueueEvent(ctx context.Context, ev store.OutboxEvent) (int, error)
	EnqueueTestEvent(ctx context.Context, destinationID string, ev store.OutboxEvent) error
}

// Publisher turns "this happened to grant X" into an event read from the database and puts
// it in the outbox of every destination that wants it. The activities call it right after
// writing what it announces, so a notification is durable as soon as their activity
// completes and never waits for a receiver.
type Publisher struct {
	Store     GrantStore
	PublicURL string // JIT_PUBLIC_URL: the events' source and the portal links
	Now       func() time.Time
}

// PublishGrantEvent queues a grant event; the activities, the approval stage and the
// reconciler (drift) call it. It returns how many deliveries were queued.
func (p *Publisher) PublishGrantEvent(ctx context.Context, in workflows.GrantNotification) (int, error) {
	if !IsEventName(in.Event) || in.Event == EventTest {
		return 0, temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown grant event %q", in.Event), "UnknownEvent", nil)
	}
	// Most deployments listen to few events: the event's reads (grant, tenant, application,
	// people, ticket, approvers) and the outbox transaction are spent only when a destination
	// wants it.
	if wanted, err := p.Store.WantsGrantEvent(ctx, in.GrantID, in.Event); err != nil || !wanted {
		return 0, err
	}
	g, err := p.Store.Grant(ctx, in.GrantID)
	if err != nil {
		return 0, err
	}
	ev, err := p.event(ctx, g, in)
	if err != nil {
		return 0, err
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	return p.Store.EnqueueEvent(ctx, store.OutboxEvent{ID: ev.ID, Type: ev.Name, GrantID: ev.Grant.ID, TenantID: ev.Grant.TenantID, Payload: payload})
}

// SendTest queues a test event for one destination (POST …/notification-destinations/{id}/test).
func (p *Publisher) SendTest(ctx context.Context, destinationID, actorID string) error {
	now := p.now().UTC()
	ev := Event{ID: store.NewID("evt"), Name: EventTest, Time: now, Source: p.source(),
		Grant: Grant{Roles: []string{}, RequestedAt: now}, Reason: "a test event sent from jitaccess", URL: p.PublicURL}
	if actorID != "" {
		ev.Actor = &Actor{ID: actorID}
		if t, err := p.Store.Technician(ctx, actorID); err == nil {
			ev.Actor.Email = t.Email
			ev.Recipients = []string{t.Email}
		}
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	return p.Store.EnqueueTestEvent(ctx, destinationID, store.OutboxEvent{ID: ev.ID, Type: EventTest, Payload: payload})
}

func (p *Publisher) event(ctx context.Context, g store.Grant, in workflows.GrantNotification) (Event, error) {
	ev := Event{
		ID:     store.DerivedID("evt", "grant-event:"+g.ID+":"+in.Event+":"+in.Key),
		Name:   in.Event,
		Time:   p.now().UTC(),
		Source: p.source(),
		Grant: Grant{ID: g.ID, Status: g.Status, TenantID: g.TenantID, ApplicationID: g.ApplicationID, TechnicianID: g.TechnicianID,
			Justification: g.Justification, Roles: g.Roles, AccountUPN: g.AccountUPN, RequestedAt: g.RequestedAt, ExpiresAt: g.ExpiresAt},
		Comment: in.Comment,
		Reason:  in.Reason,
		URL:     p.grantURL(g.ID, in.Event == EventApprovalNeeded),
	}
	if t, err := p.Store.Tenant(ctx, g.TenantID); err == nil {
		ev.Grant.TenantName = t.Name
	}
	if a, err := p.Store.ApplicationByID(ctx, g.ApplicationID); err == nil {
		ev.Grant.ApplicationName = a.Name
		if len(ev.Grant.Roles) == 0 {
			ev.Grant.Roles = a.Roles
		}
	}
	if ev.Grant.Roles == nil {
		ev.Grant.Roles = []string{}
	}
	ev.Grant.RoleNames = make([]string, len(ev.Grant.Roles))
	for i, r := range ev.Grant.Roles {
		ev.Grant.RoleNames[i] = policy.RoleName(r)
	}
	if ref, err := p.Store.TicketReference(ctx, g.ID); err == nil {
		ev.Grant.TicketReference = ref
	}
	if t, err := p.Store.Technician(ctx, g.TechnicianID); err == nil {
		ev.Grant.TechnicianEmail = t.Email
		ev.Recipients = append(ev.Recipients, t.Email)
	}
	if in.ActorID != "" {
		ev.Actor = &Actor{ID: in.ActorID}
		if t, err := p.Store.Technician(ctx, in.ActorID); err == nil {
			ev.Actor.Email = t.Email
		}
	}
	if in.Event == EventApprovalNeeded {
		approvers, err := p.Store.ApproverEmails(ctx, g.ID)
		if err != nil {
			return Event{}, err
		}
		ev.Recipients = append(ev.Recipients, approvers...)
	}
	return ev, nil
}

// grantURL is the portal page of a grant: the approval page while a decision is needed.
func (p *Publisher) grantURL(grantID string, approval bool) string {
	base := strings.TrimRight(p.PublicURL, "/")
	if base == "" {
		return ""
	}
	if approval {
		return base + "/approvals/" + grantID
	}
	return base + "/my/grants/" + grantID
}

func (p *Publisher) source() string {
	if p.PublicURL != "" {
		return strings.TrimRight(p.PublicURL, "/")
	}
	return "urn:jitaccess"
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
