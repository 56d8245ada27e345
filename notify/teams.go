package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// Teams posts an Adaptive Card to a Teams Workflows ("When a Teams webhook request is
// received") or incoming-webhook URL. Its button opens the request in the portal, where
// the approver signs in and decides: Teams never decides by itself.
type Teams struct {
	Client *http.Client
}

// Send implements Sender.
func (t *Teams) Send(ctx context.Context, _ store.Destination, sec store.DestinationSecrets, ev Event) error {
	body, err := json.Marshal(TeamsMessage(ev))
	if err != nil {
		return fmt.Errorf("teams card: %v: %w", err, ErrPermanent)
	}
	return post(ctx, clientOr(t.Client), sec.URL, "application/json", body, nil)
}

// TeamsMessage is the webhook body: a message with one Adaptive Card attachment.
func TeamsMessage(ev Event) map[string]any {
	facts := []map[string]string{}
	add := func(k, v string) {
		if v != "" {
			facts = append(facts, map[string]string{"title": k, "value": v})
		}
	}
	add("Requester", ev.Grant.TechnicianEmail)
	add("Application", firstOf(ev.Grant.ApplicationName, ev.Grant.ApplicationID))
	add("Customer", firstOf(ev.Grant.TenantName, ev.Grant.TenantID))
	add("Roles", roleList(ev.Grant))
	add("Justification", ev.Grant.Justification)
	add("Ticket", ev.Grant.TicketReference)
	if !ev.Grant.ExpiresAt.IsZero() {
		add("Expires", ev.Grant.ExpiresAt.UTC().Format(time.RFC1123))
	}
	if ev.Actor != nil {
		add("By", firstOf(ev.Actor.Email, ev.Actor.ID))
	}
	add("Comment", ev.Comment)
	add("Reason", ev.Reason)
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body": []any{
			map[string]any{"type": "TextBlock", "text": title(ev), "weight": "Bolder", "size": "Medium", "wrap": true},
			map[string]any{"type": "FactSet", "facts": facts},
		},
	}
	if ev.URL != "" {
		label := "Open in jitaccess"
		if ev.Name == EventApprovalNeeded {
			label = "Review and approve"
		}
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": label, "url": ev.URL}}
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
