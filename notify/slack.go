package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// Slack action ids of the Approve and Deny buttons; their value is the grant id.
const (
	SlackApproveAction = "jitaccess_approve"
	SlackDenyAction    = "jitaccess_deny"
)

// Slack posts Block Kit messages to a Slack incoming webhook. An approval_needed message
// has Approve and Deny buttons; Slack calls the interactivity URL (SlackInteractions) when
// one is pressed.
type Slack struct {
	Client *http.Client
}

// Send implements Sender.
func (s *Slack) Send(ctx context.Context, _ store.Destination, sec store.DestinationSecrets, ev Event) error {
	body, err := json.Marshal(SlackMessage(ev))
	if err != nil {
		return fmt.Errorf("slack message: %v: %w", err, ErrPermanent)
	}
	return post(ctx, clientOr(s.Client), sec.URL, "application/json", body, nil)
}

// SlackMessage is the webhook body.
func SlackMessage(ev Event) map[string]any {
	var fields []any
	add := func(k, v string) {
		if v != "" {
			fields = append(fields, map[string]any{"type": "mrkdwn", "text": "*" + k + "*\n" + slackEscape(v)})
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
	if len(fields) > 10 { // Block Kit's limit per section
		fields = fields[:10]
	}
	blocks := []any{
		map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*" + slackEscape(title(ev)) + "*"}},
	}
	if len(fields) > 0 {
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	var buttons []any
	if ev.Name == EventApprovalNeeded && ev.Grant.ID != "" {
		buttons = append(buttons,
			map[string]any{"type": "button", "action_id": SlackApproveAction, "value": ev.Grant.ID, "style": "primary",
				"text": map[string]any{"type": "plain_text", "text": "Approve"}},
			map[string]any{"type": "button", "action_id": SlackDenyAction, "value": ev.Grant.ID, "style": "danger",
				"text": map[string]any{"type": "plain_text", "text": "Deny"},
				"confirm": map[string]any{"title": map[string]any{"type": "plain_text", "text": "Deny this request?"},
					"text":    map[string]any{"type": "plain_text", "text": "The request ends and no account is created."},
					"confirm": map[string]any{"type": "plain_text", "text": "Deny"},
					"deny":    map[string]any{"type": "plain_text", "text": "Cancel"}}})
	}
	if ev.URL != "" {
		buttons = append(buttons, map[string]any{"type": "button", "action_id": "jitaccess_open", "url": ev.URL,
			"text": map[string]any{"type": "plain_text", "text": "Open in jitaccess"}})
	}
	if len(buttons) > 0 {
		blocks = append(blocks, map[string]any{"type": "actions", "block_id": "jitaccess_decision", "elements": buttons})
	}
	return map[string]any{"text": title(ev), "blocks": blocks}
}

// slackEscape escapes the three characters mrkdwn treats as control characters.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
