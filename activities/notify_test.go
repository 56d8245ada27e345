package activities

import (
	"testing"

	"github.com/jitaccess/jitaccess/workflows"
)

func TestNotificationOf(t *testing.T) {
	tests := []struct {
		name string
		rec  workflows.Record
		want string // "" : no event
	}{
		{"activated", workflows.Record{Status: workflows.StatusActive, Action: workflows.ActionActivated}, workflows.NotifyActive},
		{"extended", workflows.Record{Status: workflows.StatusActive, Action: workflows.ActionExtended, Key: "ext-1"}, workflows.NotifyExtended},
		{"expired", workflows.Record{Status: workflows.StatusExpired, Action: "grant.expired", Key: "final"}, workflows.NotifyExpired},
		{"revoked", workflows.Record{Status: workflows.StatusRevoked, Action: workflows.ActionRevoked, Key: "final"}, workflows.NotifyRevoked},
		{"failed", workflows.Record{Status: workflows.StatusFailed, Action: "grant.failed", Key: "final"}, workflows.NotifyFailed},
		{"denied", workflows.Record{Status: workflows.StatusDenied, Action: workflows.ActionDenied, Key: "final"}, workflows.NotifyDenied},
		{"no decision in time", workflows.Record{Status: workflows.StatusExpiredUnapproved, Action: "grant.expired_unapproved", Key: "final"}, workflows.NotifyDenied},
		{"disable blocked", workflows.Record{Status: workflows.StatusRevoking, Action: workflows.ActionDisableBlocked, Key: "blocked"}, workflows.NotifyDisableBlocked},
		{"revoke requested is not an end", workflows.Record{Status: workflows.StatusRevoking, Action: workflows.ActionRevoke}, ""},
		{"projection only", workflows.Record{Status: workflows.StatusActive}, ""},
		{"account cleaned", workflows.Record{Action: workflows.ActionAccountCleaned}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rec.GrantID = "grt_1"
			n, ok := notificationOf(tt.rec)
			if got := map[bool]string{true: n.Event, false: ""}[ok]; got != tt.want {
				t.Fatalf("event %q, want %q", got, tt.want)
			}
			if ok && (n.GrantID != "grt_1" || n.Key != tt.rec.Key) {
				t.Errorf("notification %+v does not carry the record's grant and key", n)
			}
		})
	}
}
