package notify

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// DestinationRequest is the body of POST /v1/notification-destinations.
type DestinationRequest struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // webhook | teams | slack | email
	TenantID string   `json:"tenant_id,omitempty"`
	Events   []string `json:"events,omitempty"` // empty: every event
	// URL of the webhook, Teams Workflows webhook or Slack incoming webhook (kept sealed).
	URL string `json:"url,omitempty"`
	// Secret is the webhook's HMAC key (generated and shown once when empty) or the Slack
	// app's signing secret (required for Slack: it verifies the Approve/Deny callbacks).
	Secret       string            `json:"secret,omitempty"`
	SMTPAddr     string            `json:"smtp_addr,omitempty"`
	SMTPUsername string            `json:"smtp_username,omitempty"`
	SMTPPassword string            `json:"smtp_password,omitempty"`
	SMTPTLS      string            `json:"smtp_tls,omitempty"` // starttls (default) | tls | none
	From         string            `json:"from,omitempty"`
	Recipients   []string          `json:"recipients,omitempty"`
	SlackUsers   map[string]string `json:"slack_users,omitempty"` // Slack user id → staff e-mail
}

// FieldError is a bad destination request naming the field (400 invalid_field).
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Code is the API error code.
func (e *FieldError) Code() string { return "invalid_field" }

// NewDestination validates r and makes the store's input. generatedSecret is the webhook
// HMAC key made for a webhook created without one: show it once in the 201 answer.
func (r DestinationRequest) NewDestination(createdBy string) (in store.NewDestination, generatedSecret string, err error) {
	bad := func(field, msg string) (store.NewDestination, string, error) {
		return store.NewDestination{}, "", &FieldError{Field: field, Message: msg}
	}
	name := strings.TrimSpace(r.Name)
	if name == "" || len(name) > 100 {
		return bad("name", "must be 1 to 100 characters")
	}
	types := []string{store.DestinationWebhook, store.DestinationTeams, store.DestinationSlack, store.DestinationEmail}
	if !slices.Contains(types, r.Type) {
		return bad("type", "must be one of webhook, teams, slack, email")
	}
	for _, e := range r.Events {
		if !slices.Contains(EventNames(), e) {
			return bad("events", fmt.Sprintf("%q is not an event; events are %s", e, strings.Join(EventNames(), ", ")))
		}
	}
	in = store.NewDestination{Name: name, Type: r.Type, TenantID: r.TenantID, Events: r.Events, CreatedBy: createdBy}
	switch r.Type {
	case store.DestinationEmail:
		host, _, err := net.SplitHostPort(r.SMTPAddr)
		if err != nil || host == "" {
			return bad("smtp_addr", "must be host:port")
		}
		if !slices.Contains([]string{"", "starttls", "tls", "none"}, r.SMTPTLS) {
			return bad("smtp_tls", "must be starttls, tls or none")
		}
		if r.SMTPTLS == "none" && !isLoopback(host) {
			return bad("smtp_tls", "none is only allowed for a relay on this host")
		}
		if _, err := mail.ParseAddress(r.From); err != nil {
			return bad("from", "must be an e-mail address")
		}
		for _, a := range r.Recipients {
			if _, err := mail.ParseAddress(a); err != nil {
				return bad("recipients", fmt.Sprintf("%q is not an e-mail address", a))
			}
		}
		in.Settings = store.DestinationSettings{SMTPAddr: r.SMTPAddr, SMTPUsername: r.SMTPUsername, SMTPTLS: r.SMTPTLS,
			From: r.From, Recipients: r.Recipients}
		in.Secrets = store.DestinationSecrets{SMTPPassword: r.SMTPPassword}
		return in, "", nil
	}
	u, err := url.Parse(r.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return bad("url", "must be an https URL (http only on this host)")
	}
	in.Settings.URLHost = u.Host
	in.Secrets.URL = r.URL
	switch r.Type {
	case store.DestinationWebhook:
		in.Secrets.SigningSecret = r.Secret
		if r.Secret == "" {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			generatedSecret = hex.EncodeToString(b)
			in.Secrets.SigningSecret = generatedSecret
		} else if len(r.Secret) < 16 {
			return bad("secret", "must be at least 16 characters")
		}
	case store.DestinationSlack:
		if r.Secret == "" {
			return bad("secret", "the Slack app's signing secret is required to verify Approve and Deny")
		}
		in.Secrets.SigningSecret = r.Secret
		for id, email := range r.SlackUsers {
			if _, err := mail.ParseAddress(email); err != nil || id == "" {
				return bad("slack_users", fmt.Sprintf("%q must map a Slack user id to a staff e-mail", id))
			}
		}
		in.Settings.SlackUsers = r.SlackUsers
	}
	return in, generatedSecret, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DestinationView is a destination as the API shows it: never its secrets.
type DestinationView struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	TenantID       string            `json:"tenant_id,omitempty"`
	Events         []string          `json:"events"`
	URLHost        string            `json:"url_host,omitempty"`
	SMTPAddr       string            `json:"smtp_addr,omitempty"`
	From           string            `json:"from,omitempty"`
	Recipients     []string          `json:"recipients,omitempty"`
	SlackUsers     map[string]string `json:"slack_users,omitempty"`
	CreatedBy      string            `json:"created_by,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	LastDeliveries []DeliveryView    `json:"last_deliveries"`
	// Secret is set only in the answer that created a webhook without one.
	Secret string `json:"secret,omitempty"`
}

// DeliveryView is one delivery in a destination's history.
type DeliveryView struct {
	ID          string    `json:"id"`
	Event       string    `json:"event"`
	GrantID     string    `json:"grant_id,omitempty"`
	Status      string    `json:"status"` // pending | delivered | failed
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// View is d with its latest deliveries, for GET /v1/notification-destinations.
func View(d store.Destination, deliveries []store.Delivery) DestinationView {
	v := DestinationView{ID: d.ID, Name: d.Name, Type: d.Type, TenantID: d.TenantID, Events: d.Events, URLHost: d.Settings.URLHost,
		SMTPAddr: d.Settings.SMTPAddr, From: d.Settings.From, Recipients: d.Settings.Recipients, SlackUsers: d.Settings.SlackUsers,
		CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt, LastDeliveries: []DeliveryView{}}
	for _, x := range deliveries {
		v.LastDeliveries = append(v.LastDeliveries, DeliveryView{ID: x.ID, Event: x.EventType, GrantID: x.GrantID, Status: x.Status,
			Attempts: x.Attempts, LastError: x.LastError, CreatedAt: x.CreatedAt, DeliveredAt: x.DeliveredAt})
	}
	return v
}
