package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// Slack request signing (https://api.slack.com/authentication/verifying-requests-from-slack).
const (
	SlackSignatureHeader = "X-Slack-Signature"
	SlackTimestampHeader = "X-Slack-Request-Timestamp"
	slackMaxSkew         = 5 * time.Minute
	slackMaxBody         = 64 << 10
)

// Decider applies an approve or deny decision with the same rules as the API
// (POST /v1/access-requests/{id}/approve|deny): the approver's right from the database,
// never the requester, then the workflow's Update.
type Decider interface {
	Decide(ctx context.Context, d Decision) error
}

// Decision is an approve or deny pressed in Slack, by the staff member the Slack user is
// linked to.
type Decision struct {
	GrantID       string
	ApproverEmail string
	Approve       bool
	Comment       string
}

// SlackDestinations finds a Slack destination and its signing secret.
type SlackDestinations interface {
	Destination(ctx context.Context, id string) (store.Destination, error)
	DestinationSecrets(ctx context.Context, id string) (store.DestinationSecrets, error)
}

// SlackInteractions serves Slack's interactivity requests for one destination: it verifies
// the request signing (v0 HMAC-SHA256 of "v0:<timestamp>:<body>" with the destination's
// signing secret, timestamp within 5 minutes), maps the Slack user to a staff e-mail
// through the destination's slack_users, and hands the decision to Decider.
type SlackInteractions struct {
	Destinations SlackDestinations
	Decider      Decider
	Now          func() time.Time
	Logger       *slog.Logger
}

// ServeDestination handles one request for destinationID (the API mounts it at
// POST /v1/notification-destinations/{id}/slack/interactions, outside bearer auth).
func (h *SlackInteractions) ServeDestination(w http.ResponseWriter, r *http.Request, destinationID string) {
	ctx := r.Context()
	body, err := io.ReadAll(io.LimitReader(r.Body, slackMaxBody+1))
	if err != nil || len(body) > slackMaxBody {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	d, err := h.Destinations.Destination(ctx, destinationID)
	if err != nil || d.Type != store.DestinationSlack {
		// The same answer as a bad signature: the URL does not reveal which ids exist.
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	sec, err := h.Destinations.DestinationSecrets(ctx, destinationID)
	if err != nil {
		h.logger().Error("Slack destination secrets unreadable", "DestinationID", destinationID, "Error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := VerifySlackRequest([]byte(sec.SigningSecret), r.Header, body, h.now()); err != nil {
		h.logger().Warn("Slack interaction refused", "DestinationID", destinationID, "Reason", err.Error())
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var p struct {
		Type string `json:"type"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Actions []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(form.Get("payload")), &p); err != nil || p.Type != "block_actions" || len(p.Actions) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	act := p.Actions[0]
	if act.ActionID != SlackApproveAction && act.ActionID != SlackDenyAction {
		w.WriteHeader(http.StatusOK) // e.g. the "Open" link button
		return
	}
	email := d.Settings.SlackUsers[p.User.ID]
	if email == "" {
		slackReply(w, "Your Slack account is not linked to a jitaccess approver; decide in the portal.")
		return
	}
	dec := Decision{GrantID: act.Value, ApproverEmail: email, Approve: act.ActionID == SlackApproveAction, Comment: "via Slack"}
	if err := h.Decider.Decide(ctx, dec); err != nil {
		h.logger().Info("Slack decision refused", "GrantID", dec.GrantID, "Approver", email, "Error", err)
		slackReply(w, "Not recorded: "+err.Error())
		return
	}
	verb := "approved"
	if !dec.Approve {
		verb = "denied"
	}
	slackReply(w, fmt.Sprintf("You %s the request.", verb))
}

// VerifySlackRequest checks Slack's v0 request signature and the timestamp's freshness.
func VerifySlackRequest(secret []byte, h http.Header, body []byte, now time.Time) error {
	if len(secret) == 0 {
		return errors.New("no signing secret configured")
	}
	ts := h.Get(SlackTimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("missing or malformed timestamp")
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > slackMaxSkew || skew < -slackMaxSkew {
		return errors.New("timestamp outside 5 minutes")
	}
	got, ok := strings.CutPrefix(h.Get(SlackSignatureHeader), "v0=")
	if !ok {
		return errors.New("missing signature")
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return errors.New("malformed signature")
	}
	if !hmac.Equal(sig, slackMAC(secret, ts, body)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// SignSlackRequest is the X-Slack-Signature Slack sends for body at timestamp ts (tests,
// and tools that replay a callback).
func SignSlackRequest(secret []byte, ts string, body []byte) string {
	return "v0=" + hex.EncodeToString(slackMAC(secret, ts, body))
}

func slackMAC(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// slackReply answers with an ephemeral message to the person who pressed the button.
func slackReply(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"response_type": "ephemeral", "replace_original": false, "text": text})
}

func (h *SlackInteractions) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *SlackInteractions) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}
