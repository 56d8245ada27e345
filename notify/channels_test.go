package notify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/store"
)

func approvalNeeded() notify.Event {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	return notify.Event{ID: "evt_1", Name: notify.EventApprovalNeeded, Time: at, Source: "https://jit.msp.example",
		Grant: notify.Grant{ID: "grt_1", Status: "pending_approval", TenantID: "tnt_1", TenantName: "Contoso", ApplicationName: "Entra <Contoso>",
			TechnicianEmail: "alice@msp.example", Justification: "P1 & outage", TicketReference: "#4711", Roles: []string{globalAdmin}, RoleNames: []string{"Global Administrator"}, RequestedAt: at},
		URL: "https://jit.msp.example/approvals/grt_1", Recipients: []string{"bob@msp.example", "alice@msp.example"}}
}

func TestTeamsAdaptiveCardOpensTheApprovalPage(t *testing.T) {
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	err := (&notify.Teams{}).Send(context.Background(), store.Destination{Type: store.DestinationTeams}, store.DestinationSecrets{URL: srv.URL}, approvalNeeded())
	require.NoError(t, err)
	require.Equal(t, "message", body["type"])
	att := body["attachments"].([]any)[0].(map[string]any)
	require.Equal(t, "application/vnd.microsoft.card.adaptive", att["contentType"])
	card := att["content"].(map[string]any)
	require.Equal(t, "AdaptiveCard", card["type"])
	action := card["actions"].([]any)[0].(map[string]any)
	require.Equal(t, "Action.OpenUrl", action["type"])
	require.Equal(t, "https://jit.msp.example/approvals/grt_1", action["url"])
	raw, _ := json.Marshal(body)
	require.Contains(t, string(raw), "#4711")
}

func TestSlackMessageHasApproveAndDenyButtons(t *testing.T) {
	msg := notify.SlackMessage(approvalNeeded())
	raw, err := json.Marshal(msg)
	require.NoError(t, err)
	s := string(raw)
	require.Contains(t, s, `"action_id":"jitaccess_approve"`)
	require.Contains(t, s, `"action_id":"jitaccess_deny"`)
	require.Contains(t, s, `"value":"grt_1"`)
	require.Contains(t, s, `Entra \u0026lt;Contoso\u0026gt;`, "mrkdwn escaped")
	require.Contains(t, s, `P1 \u0026amp; outage`)

	ev := approvalNeeded()
	ev.Name = notify.EventActive
	raw, _ = json.Marshal(notify.SlackMessage(ev))
	require.NotContains(t, string(raw), "jitaccess_approve", "buttons only while approval is needed")
}

// slackDests is one Slack destination with a signing secret and one linked user.
type slackDests struct{}

const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

func (slackDests) Destination(_ context.Context, id string) (store.Destination, error) {
	if id != "dst_slack" {
		return store.Destination{}, store.ErrNotFound
	}
	return store.Destination{ID: id, Type: store.DestinationSlack,
		Settings: store.DestinationSettings{SlackUsers: map[string]string{"U_BOB": "bob@msp.example", "U_ALICE": "alice@msp.example"}}}, nil
}

func (slackDests) DestinationSecrets(context.Context, string) (store.DestinationSecrets, error) {
	return store.DestinationSecrets{SigningSecret: slackSecret}, nil
}

// rulesDecider applies the approve/deny rules the API applies: never the requester.
type rulesDecider struct {
	mu        sync.Mutex
	decisions []notify.Decision
}

func (d *rulesDecider) Decide(_ context.Context, dec notify.Decision) error {
	if dec.ApproverEmail == "alice@msp.example" {
		return errors.New("a request cannot be approved or denied by its requester")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.decisions = append(d.decisions, dec)
	return nil
}

func slackRequest(t *testing.T, user, action string, now time.Time, sign func(ts string, body []byte) string) *http.Request {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": user},
		"actions": []any{map[string]any{"action_id": action, "value": "grt_1"}}})
	body := "payload=" + url.QueryEscape(string(payload))
	ts := strconv.FormatInt(now.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, "/v1/notification-destinations/dst_slack/slack/interactions", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(notify.SlackTimestampHeader, ts)
	r.Header.Set(notify.SlackSignatureHeader, sign(ts, []byte(body)))
	return r
}

func TestSlackInteractionsVerifySigningThenDecide(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	good := func(ts string, body []byte) string { return notify.SignSlackRequest([]byte(slackSecret), ts, body) }
	tests := []struct {
		name     string
		req      *http.Request
		status   int
		decision *notify.Decision
		reply    string
	}{
		{name: "bad signature", req: slackRequest(t, "U_BOB", notify.SlackApproveAction, now,
			func(ts string, body []byte) string { return notify.SignSlackRequest([]byte("wrong-secret"), ts, body) }), status: 401},
		{name: "no signature", req: slackRequest(t, "U_BOB", notify.SlackApproveAction, now,
			func(string, []byte) string { return "" }), status: 401},
		{name: "replayed after 6 minutes", req: slackRequest(t, "U_BOB", notify.SlackApproveAction, now.Add(-6*time.Minute), good), status: 401},
		{name: "approve", req: slackRequest(t, "U_BOB", notify.SlackApproveAction, now.Add(-time.Minute), good), status: 200,
			decision: &notify.Decision{GrantID: "grt_1", ApproverEmail: "bob@msp.example", Approve: true, Comment: "via Slack"}, reply: "You approved"},
		{name: "deny", req: slackRequest(t, "U_BOB", notify.SlackDenyAction, now, good), status: 200,
			decision: &notify.Decision{GrantID: "grt_1", ApproverEmail: "bob@msp.example", Approve: false, Comment: "via Slack"}, reply: "You denied"},
		{name: "requester refused by the rules", req: slackRequest(t, "U_ALICE", notify.SlackApproveAction, now, good), status: 200, reply: "requester"},
		{name: "unlinked Slack user", req: slackRequest(t, "U_EVE", notify.SlackApproveAction, now, good), status: 200, reply: "not linked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := &rulesDecider{}
			h := &notify.SlackInteractions{Destinations: slackDests{}, Decider: dec, Now: func() time.Time { return now }}
			rec := httptest.NewRecorder()
			h.ServeDestination(rec, tc.req, "dst_slack")
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.decision != nil {
				require.Equal(t, []notify.Decision{*tc.decision}, dec.decisions)
			} else {
				require.Empty(t, dec.decisions)
			}
			if tc.reply != "" {
				require.Contains(t, rec.Body.String(), tc.reply)
			}
		})
	}
	rec := httptest.NewRecorder()
	(&notify.SlackInteractions{Destinations: slackDests{}, Decider: &rulesDecider{}, Now: func() time.Time { return now }}).
		ServeDestination(rec, slackRequest(t, "U_BOB", notify.SlackApproveAction, now, good), "dst_other")
	require.Equal(t, http.StatusUnauthorized, rec.Code, "an unknown destination looks like a bad signature")
}

// smtpServer is a minimal SMTP receiver: it accepts every message and keeps it.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []smtpMessage
}

type smtpMessage struct {
	From string
	To   []string
	Data string
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &smtpServer{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = fmt.Fprintf(c, "%s\r\n", line) }
	say("220 localhost ESMTP test")
	var m smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-localhost")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = smtpMessage{From: smtpAddress(line[10:])}
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.To = append(m.To, smtpAddress(line[8:]))
			say("250 OK")
		case cmd == "DATA":
			say("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			m.Data = data.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			say("250 OK queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default: // NOOP, RSET
			say("250 OK")
		}
	}
}

// smtpAddress is the address in "<a@b> PARAM=…".
func smtpAddress(arg string) string {
	arg = strings.TrimSpace(arg)
	if i := strings.IndexByte(arg, '>'); i >= 0 {
		arg = arg[:i]
	}
	return strings.Trim(arg, "< ")
}

func TestEmailReachesRequesterAndApproversOverSMTP(t *testing.T) {
	srv := newSMTPServer(t)
	d := store.Destination{Type: store.DestinationEmail, Settings: store.DestinationSettings{
		SMTPAddr: srv.ln.Addr().String(), SMTPTLS: "none", From: "jitaccess@msp.example", Recipients: []string{"soc@msp.example"}}}
	err := (&notify.Email{}).Send(context.Background(), d, store.DestinationSecrets{}, approvalNeeded())
	require.NoError(t, err)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	require.Len(t, srv.msgs, 1)
	m := srv.msgs[0]
	require.Equal(t, "jitaccess@msp.example", m.From)
	require.ElementsMatch(t, []string{"alice@msp.example", "bob@msp.example", "soc@msp.example"}, m.To)
	unfolded := strings.ReplaceAll(m.Data, "\r\n ", " ")
	require.Contains(t, unfolded, "Subject: [jitaccess] Approval needed: alice@msp.example requests access to Entra <Contoso>")
	require.Contains(t, m.Data, "https://jit.msp.example/approvals/grt_1")
	require.Contains(t, m.Data, "#4711")
	require.Contains(t, m.Data, "Global Administrator")

	// A server that is not there is a retryable failure, not a permanent one.
	d.Settings.SMTPAddr = "127.0.0.1:1"
	err = (&notify.Email{Timeout: 2 * time.Second}).Send(context.Background(), d, store.DestinationSecrets{}, approvalNeeded())
	require.Error(t, err)
	require.NotErrorIs(t, err, notify.ErrPermanent)
}
