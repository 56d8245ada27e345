// Package notify tells people about grants: it builds grant events, puts them in the
// durable outbox (store's notification_deliveries) and delivers them to webhooks (signed
// CloudEvents 1.0), Microsoft Teams (Adaptive Card), Slack (Block Kit with Approve and
// Deny) and e-mail (SMTP). Events carry identifiers, names, times and roles: never a
// password, TAP or token.
package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"github.com/jitaccess/jitaccess/workflows"
)

// Event names (the "<event>" of the CloudEvents type jitaccess.grant.<event>).
const (
	EventRequested      = workflows.NotifyRequested
	EventApprovalNeeded = workflows.NotifyApprovalNeeded
	EventApproved       = workflows.NotifyApproved
	EventDenied         = workflows.NotifyDenied
	EventActive         = workflows.NotifyActive
	EventExpiringSoon   = workflows.NotifyExpiringSoon
	EventExtended       = workflows.NotifyExtended
	EventRevoked        = workflows.NotifyRevoked
	EventExpired        = workflows.NotifyExpired
	EventFailed         = workflows.NotifyFailed
	EventDisableBlocked = workflows.NotifyDisableBlocked
	EventDrift          = workflows.NotifyDrift
	// EventTest is what "send a test event" sends.
	EventTest = "test"
)

// EventNames lists the grant events a destination may filter on.
func EventNames() []string {
	return []string{EventRequested, EventApprovalNeeded, EventApproved, EventDenied, EventActive, EventExpiringSoon,
		EventExtended, EventRevoked, EventExpired, EventFailed, EventDisableBlocked, EventDrift}
}

// IsEventName reports whether name is a grant event (or the test event).
func IsEventName(name string) bool { return name == EventTest || slices.Contains(EventNames(), name) }

// CloudEventType is the CloudEvents type of an event name.
func CloudEventType(name string) string { return "jitaccess.grant." + name }

// Event is one thing that happened to a grant, as stored in the outbox.
type Event struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Time time.Time `json:"time"`
	// Source is the URI of the jitaccess instance (its public URL).
	Source string `json:"source"`
	Grant  Grant  `json:"grant"`
	Actor  *Actor `json:"actor,omitempty"`
	// Comment of an approver's decision; Reason of a denial, failure or revocation.
	Comment string `json:"comment,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// URL is the portal page of the request (its approval page while approval is needed).
	URL string `json:"url,omitempty"`
	// Recipients are the e-mail addresses that event concerns (requester, approvers); used
	// by e-mail destinations only, never sent to webhooks.
	Recipients []string `json:"recipients,omitempty"`
}

// Grant is what an event says about the grant.
type Grant struct {
	ID              string    `json:"id"`
	Status          string    `json:"status"`
	TenantID        string    `json:"tenant_id"`
	TenantName      string    `json:"tenant_name,omitempty"`
	ApplicationID   string    `json:"application_id"`
	ApplicationName string    `json:"application_name,omitempty"`
	TechnicianID    string    `json:"technician_id"`
	TechnicianEmail string    `json:"technician_email,omitempty"`
	Justification   string    `json:"justification,omitempty"`
	TicketReference string    `json:"ticket_reference,omitempty"`
	Roles           []string  `json:"roles"`      // role template ids
	RoleNames       []string  `json:"role_names"` // their names where well known, else the id
	AccountUPN      string    `json:"account_upn,omitempty"`
	RequestedAt     time.Time `json:"requested_at"`
	ExpiresAt       time.Time `json:"expires_at,omitzero"`
}

// Actor is who caused the event.
type Actor struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
}

// data is the CloudEvent's data: the event without its envelope and recipients.
type data struct {
	Grant   Grant  `json:"grant"`
	Actor   *Actor `json:"actor,omitempty"`
	Comment string `json:"comment,omitempty"`
	Reason  string `json:"reason,omitempty"`
	URL     string `json:"url,omitempty"`
}

// CloudEvent is ev as CloudEvents 1.0 structured-mode JSON.
func CloudEvent(ev Event) ([]byte, error) {
	ce := cloudevents.New(cloudevents.CloudEventsVersionV1)
	ce.SetID(ev.ID)
	ce.SetSource(ev.Source)
	ce.SetType(CloudEventType(ev.Name))
	ce.SetTime(ev.Time.UTC())
	if ev.Grant.ID != "" {
		ce.SetSubject(ev.Grant.ID)
	}
	if err := ce.SetData(cloudevents.ApplicationJSON, data{Grant: ev.Grant, Actor: ev.Actor, Comment: ev.Comment, Reason: ev.Reason, URL: ev.URL}); err != nil {
		return nil, fmt.Errorf("cloudevent data: %w", err)
	}
	if err := ce.Validate(); err != nil {
		return nil, fmt.Errorf("cloudevent: %w", err)
	}
	b, err := json.Marshal(ce)
	if err != nil {
		return nil, fmt.Errorf("cloudevent: %w", err)
	}
	return b, nil
}

// roleList is the roles for people.
func roleList(g Grant) string {
	if len(g.RoleNames) > 0 {
		return strings.Join(g.RoleNames, ", ")
	}
	return strings.Join(g.Roles, ", ")
}

// title is a one-line summary of the event for people.
func title(ev Event) string {
	who := ev.Grant.TechnicianEmail
	if who == "" {
		who = ev.Grant.TechnicianID
	}
	app := ev.Grant.ApplicationName
	if app == "" {
		app = ev.Grant.ApplicationID
	}
	switch ev.Name {
	case EventRequested:
		return fmt.Sprintf("%s requested access to %s", who, app)
	case EventApprovalNeeded:
		return fmt.Sprintf("Approval needed: %s requests access to %s", who, app)
	case EventApproved:
		return fmt.Sprintf("Access of %s to %s was approved", who, app)
	case EventDenied:
		return fmt.Sprintf("Access of %s to %s was denied", who, app)
	case EventActive:
		return fmt.Sprintf("%s now has access to %s", who, app)
	case EventExpiringSoon:
		return fmt.Sprintf("Access of %s to %s expires soon", who, app)
	case EventExtended:
		return fmt.Sprintf("Access of %s to %s was extended", who, app)
	case EventRevoked:
		return fmt.Sprintf("Access of %s to %s was revoked", who, app)
	case EventExpired:
		return fmt.Sprintf("Access of %s to %s expired", who, app)
	case EventFailed:
		return fmt.Sprintf("Access of %s to %s failed", who, app)
	case EventDisableBlocked:
		return fmt.Sprintf("The account of %s in %s cannot be disabled", who, app)
	case EventDrift:
		return fmt.Sprintf("Drift found on the account of %s in %s", who, app)
	case EventTest:
		return "Test event from jitaccess"
	}
	return fmt.Sprintf("%s: %s", ev.Name, app)
}
