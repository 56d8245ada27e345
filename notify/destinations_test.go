package notify_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/notify"
	"github.com/jitaccess/jitaccess/store"
)

func TestDestinationRequestValidation(t *testing.T) {
	tests := []struct {
		name  string
		req   notify.DestinationRequest
		field string
	}{
		{"webhook", notify.DestinationRequest{Name: "SIEM", Type: "webhook", URL: "https://siem.example/hook", Events: []string{"approved"}}, ""},
		{"teams", notify.DestinationRequest{Name: "Ops", Type: "teams", URL: "https://prod.westeurope.logic.azure.com/workflows/x"}, ""},
		{"slack", notify.DestinationRequest{Name: "Approvers", Type: "slack", URL: "https://hooks.slack.com/services/T/B/X", Secret: "signing-secret",
			SlackUsers: map[string]string{"U1": "bob@msp.example"}}, ""},
		{"email", notify.DestinationRequest{Name: "Mail", Type: "email", SMTPAddr: "smtp.msp.example:587", From: "jit@msp.example"}, ""},
		{"local webhook over http", notify.DestinationRequest{Name: "dev", Type: "webhook", URL: "http://127.0.0.1:9000/x"}, ""},
		{"no name", notify.DestinationRequest{Type: "webhook", URL: "https://x.example"}, "name"},
		{"bad type", notify.DestinationRequest{Name: "x", Type: "pager"}, "type"},
		{"bad event", notify.DestinationRequest{Name: "x", Type: "webhook", URL: "https://x.example", Events: []string{"became_admin"}}, "events"},
		{"plain http", notify.DestinationRequest{Name: "x", Type: "webhook", URL: "http://x.example/hook"}, "url"},
		{"short secret", notify.DestinationRequest{Name: "x", Type: "webhook", URL: "https://x.example", Secret: "short"}, "secret"},
		{"slack without signing secret", notify.DestinationRequest{Name: "x", Type: "slack", URL: "https://hooks.slack.com/x"}, "secret"},
		{"slack user not an e-mail", notify.DestinationRequest{Name: "x", Type: "slack", URL: "https://hooks.slack.com/x", Secret: "s",
			SlackUsers: map[string]string{"U1": "bob"}}, "slack_users"},
		{"smtp without port", notify.DestinationRequest{Name: "x", Type: "email", SMTPAddr: "smtp.example", From: "a@b.example"}, "smtp_addr"},
		{"cleartext smtp far away", notify.DestinationRequest{Name: "x", Type: "email", SMTPAddr: "smtp.example:25", SMTPTLS: "none", From: "a@b.example"}, "smtp_tls"},
		{"bad from", notify.DestinationRequest{Name: "x", Type: "email", SMTPAddr: "smtp.example:25", From: "nobody"}, "from"},
		{"bad recipient", notify.DestinationRequest{Name: "x", Type: "email", SMTPAddr: "smtp.example:25", From: "a@b.example", Recipients: []string{"x"}}, "recipients"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, secret, err := tc.req.NewDestination("tec_admin")
			if tc.field != "" {
				var fe *notify.FieldError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, tc.field, fe.Field)
				require.Equal(t, "invalid_field", fe.Code())
				return
			}
			require.NoError(t, err)
			require.Equal(t, "tec_admin", in.CreatedBy)
			if tc.req.Type == "webhook" {
				require.Len(t, secret, 64, "a webhook without a secret gets one, shown once")
				require.Equal(t, secret, in.Secrets.SigningSecret)
			}
			v := notify.View(store.Destination{ID: "dst_1", Name: in.Name, Type: in.Type, Events: in.Events, Settings: in.Settings},
				[]store.Delivery{{ID: "dlv_1", EventType: "approved", Status: store.DeliveryFailed, Attempts: 3, LastError: "503"}})
			raw, err := json.Marshal(v)
			require.NoError(t, err)
			require.NotContains(t, string(raw), "signing-secret")
			require.NotContains(t, string(raw), "/services/T/B/X", "the URL is a credential")
			require.Contains(t, string(raw), `"status":"failed"`)
		})
	}
}
