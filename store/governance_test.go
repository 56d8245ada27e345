package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
)

const globalAdminRole = "62e90394-69f5-4237-9190-012177145e10"

func startGrant(t *testing.T, st *store.Store, f fixture) store.Grant {
	t.Helper()
	g, err := st.CreatePendingGrant(context.Background(), store.PendingGrant{WorkflowID: "wf-" + store.NewID("x"),
		TenantID: f.tenant.ID, ApplicationID: f.app.ID, TechnicianID: f.tech.ID, RequestedAt: time.Now()})
	require.NoError(t, err)
	require.NoError(t, st.AttachRun(context.Background(), g.ID, "run-1"))
	return g
}

func TestApplicationPolicy(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)

		p, saved, err := st.ApplicationPolicy(ctx, f.app.ID)
		require.NoError(t, err)
		require.False(t, saved)
		require.False(t, p.Approval.Required, "role-1 is not privileged")

		roles := []string{"role-1", globalAdminRole}
		_, err = st.UpdateApplication(ctx, f.tenant.ID, f.app.ID, store.ApplicationPatch{Roles: &roles})
		require.NoError(t, err)
		p, saved, err = st.ApplicationPolicy(ctx, f.app.ID)
		require.NoError(t, err)
		require.False(t, saved)
		require.True(t, p.Approval.Required, "Global Administrator needs approval by default")

		custom, err := policy.Apply(p, []byte(`{"justification":"required","ticket":{"required":true,"pattern":"\\d{4}","label":"PSA"},"approval":{"approvals_needed":2}}`),
			policy.Limits{GlobalMax: 24 * time.Hour})
		require.NoError(t, err)
		require.NoError(t, st.SetApplicationPolicy(ctx, f.tenant.ID, f.app.ID, &custom))
		got, saved, err := st.ApplicationPolicy(ctx, f.app.ID)
		require.NoError(t, err)
		require.True(t, saved)
		require.Equal(t, custom, got)

		require.ErrorIs(t, st.SetApplicationPolicy(ctx, "tnt_other", f.app.ID, &custom), store.ErrNotFound)
		require.NoError(t, st.SetApplicationPolicy(ctx, f.tenant.ID, f.app.ID, nil))
		_, saved, err = st.ApplicationPolicy(ctx, f.app.ID)
		require.NoError(t, err)
		require.False(t, saved)
		_, _, err = st.ApplicationPolicy(ctx, "app_missing")
		require.ErrorIs(t, err, store.ErrNotFound)

		g := startGrant(t, st, f)
		require.NoError(t, st.SetTicketReference(ctx, g.ID, " #1234 "))
		ref, err := st.TicketReference(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, "#1234", ref)
		require.ErrorIs(t, st.SetTicketReference(ctx, "grt_missing", "1"), store.ErrNotFound)
	})
}

func TestApprovals(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		bob, _, err := st.CreateTechnician(ctx, "bob@msp.example", "Bob", "")
		require.NoError(t, err)
		carol, _, err := st.CreateTechnician(ctx, "carol@msp.example", "Carol", "")
		require.NoError(t, err)
		sec, err := st.CreateGroup(ctx, f.tenant.ID, "Security")
		require.NoError(t, err)
		require.NoError(t, st.AddGroupMember(ctx, f.tenant.ID, sec.ID, bob.ID))
		require.NoError(t, st.AddGroupMember(ctx, f.tenant.ID, sec.ID, f.tech.ID))

		// Default for a privileged application: any admin but the requester.
		roles := []string{globalAdminRole}
		_, err = st.UpdateApplication(ctx, f.tenant.ID, f.app.ID, store.ApplicationPatch{Roles: &roles})
		require.NoError(t, err)
		g := startGrant(t, st, f)
		require.NoError(t, st.CheckApprover(ctx, g.ID, f.admin.ID))
		requireCode(t, policy.CodeNotApprover, st.CheckApprover(ctx, g.ID, bob.ID))
		requireCode(t, policy.CodeSelfApproval, st.CheckApprover(ctx, g.ID, f.tech.ID))
		require.ErrorIs(t, st.CheckApprover(ctx, "grt_missing", f.admin.ID), store.ErrNotFound)

		// A policy naming the Security group: its members decide, the admin no longer.
		p := policy.Default(roles)
		p.Approval.ApproverGroupIDs = []string{sec.ID}
		p.Approval.ApprovalsNeeded = 2
		require.NoError(t, st.SetApplicationPolicy(ctx, f.tenant.ID, f.app.ID, &p))
		requireCode(t, policy.CodeNotApprover, st.CheckApprover(ctx, g.ID, f.admin.ID))
		requireCode(t, policy.CodeSelfApproval, st.CheckApprover(ctx, g.ID, f.tech.ID), "the requester is in the group but never decides")
		require.NoError(t, st.CheckApprover(ctx, g.ID, bob.ID))

		a, recorded, err := st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: bob.ID, Decision: store.DecisionApproved, Comment: "ok for the outage"})
		require.NoError(t, err)
		require.True(t, recorded)
		require.Equal(t, "bob@msp.example", a.ApproverEmail)
		// Bob again, even changing his mind, is the same approver: his first decision stands.
		a, recorded, err = st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: bob.ID, Decision: store.DecisionDenied})
		require.NoError(t, err)
		require.False(t, recorded)
		require.Equal(t, store.DecisionApproved, a.Decision)
		_, _, err = st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: carol.ID, Decision: store.DecisionApproved})
		requireCode(t, policy.CodeNotApprover, err)
		_, _, err = st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: f.tech.ID, Decision: store.DecisionApproved})
		requireCode(t, policy.CodeSelfApproval, err)

		list, err := st.Approvals(ctx, g.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, bob.ID, list[0].ApproverID)
		require.Equal(t, "ok for the outage", list[0].Comment)

		events, _, err := st.AuditEvents(ctx, store.AuditFilter{TenantID: f.tenant.ID}, store.Page{})
		require.NoError(t, err)
		var found int
		for _, e := range events {
			if e.Action == store.ActionApprovalGranted {
				found++
				require.Equal(t, bob.ID, e.ActorID)
				require.Equal(t, g.ID, e.Target)
				require.Equal(t, "ok for the outage", e.Details["comment"])
			}
		}
		require.Equal(t, 1, found, "one audit event per approver")

		// Once the grant has moved on, no decision is recorded any more.
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "revoked", EndedAt: time.Now()}))
		dave, _, err := st.CreateTechnician(ctx, "dave@msp.example", "Dave", "")
		require.NoError(t, err)
		require.NoError(t, st.AddGroupMember(ctx, f.tenant.ID, sec.ID, dave.ID))
		_, _, err = st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: dave.ID, Decision: store.DecisionApproved})
		requireCode(t, policy.CodeNotPendingApproval, err)

		emails, err := st.ApproverEmails(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"bob@msp.example", "dave@msp.example"}, emails, "the group's members but the requester")
		p.Approval.ApproverGroupIDs = []string{store.AllAdminsGroupID, sec.ID}
		require.NoError(t, st.SetApplicationPolicy(ctx, f.tenant.ID, f.app.ID, &p))
		require.NoError(t, st.AddMember(ctx, f.tenant.ID, carol.ID))
		emails, err = st.ApproverEmails(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"bob@msp.example", "carol@msp.example", "dave@msp.example"}, emails)
		require.NoError(t, st.SetApplicationPolicy(ctx, f.tenant.ID, f.app.ID, nil))
		emails, err = st.ApproverEmails(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"admin@msp.example"}, emails, "no groups: the admins")

		// Only grants in pending_approval are listed (this one is pending).
		queue, err := st.PendingApprovals(ctx, bob.ID)
		require.NoError(t, err)
		require.Empty(t, queue)
	})
}

func requireCode(t *testing.T, code string, err error, msg ...any) {
	t.Helper()
	e, ok := policy.AsError(err)
	require.True(t, ok, "want %s, got %v", code, err)
	require.Equal(t, code, e.Code, msg...)
}

func TestNotificationOutbox(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, db *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		all, err := st.CreateDestination(ctx, store.NewDestination{Name: "SIEM", Type: store.DestinationWebhook,
			Settings: store.DestinationSettings{URLHost: "siem.example"},
			Secrets:  store.DestinationSecrets{URL: "https://siem.example/hook?token=URL-SECRET-123456789", SigningSecret: "HMAC-SECRET-abcdefghijk"}})
		require.NoError(t, err)
		onlyApproved, err := st.CreateDestination(ctx, store.NewDestination{Name: "Approvers", Type: store.DestinationSlack,
			TenantID: f.tenant.ID, Events: []string{"approval_needed"}, Secrets: store.DestinationSecrets{URL: "https://hooks.slack.example/x"}})
		require.NoError(t, err)
		_, err = st.CreateDestination(ctx, store.NewDestination{Name: "Bad", Type: store.DestinationEmail, TenantID: "tnt_missing"})
		require.ErrorIs(t, err, store.ErrNotFound)

		raw := dumpTables(t, db) + dumpNotificationTables(t, db)
		require.NotContains(t, raw, "URL-SECRET")
		require.NotContains(t, raw, "HMAC-SECRET")
		sec, err := st.DestinationSecrets(ctx, all.ID)
		require.NoError(t, err)
		require.Equal(t, "HMAC-SECRET-abcdefghijk", sec.SigningSecret)

		dests, err := st.Destinations(ctx)
		require.NoError(t, err)
		require.Len(t, dests, 2)
		require.Equal(t, "siem.example", dests[0].Settings.URLHost)

		ev := func(id, typ, grant string) store.OutboxEvent {
			return store.OutboxEvent{ID: id, Type: typ, GrantID: grant, TenantID: f.tenant.ID, Payload: []byte(`{"id":"` + id + `"}`)}
		}
		n, err := st.EnqueueEvent(ctx, ev("e1", "requested", "g1"))
		require.NoError(t, err)
		require.Equal(t, 1, n, "the Slack destination only wants approval_needed")
		n, err = st.EnqueueEvent(ctx, ev("e2", "approval_needed", "g1"))
		require.NoError(t, err)
		require.Equal(t, 2, n)
		n, err = st.EnqueueEvent(ctx, ev("e2", "approval_needed", "g1"))
		require.NoError(t, err)
		require.Zero(t, n, "enqueuing again adds nothing")
		_, err = st.EnqueueEvent(ctx, ev("e3", "approved", "g2"))
		require.NoError(t, err)

		// Heads only: g1's first event for each destination, and g2's.
		claimed, err := st.ClaimDeliveries(ctx, 10, time.Minute)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"e1", "e2", "e3"}, eventIDs(claimed))
		again, err := st.ClaimDeliveries(ctx, 10, time.Minute)
		require.NoError(t, err)
		require.Empty(t, again, "leased")

		var e1 store.Delivery
		for _, d := range claimed {
			if d.EventID == "e1" {
				e1 = d
			}
		}
		require.NoError(t, st.MarkAttemptFailed(ctx, e1.ID, "connection refused", time.Now().Add(-time.Second), false))
		for _, d := range claimed {
			if d.EventID != "e1" {
				require.NoError(t, st.MarkDelivered(ctx, d.ID))
			}
		}
		next, err := st.ClaimDeliveries(ctx, 10, time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{"e1"}, eventIDs(next), "e2 waits behind e1 for the webhook")
		require.Equal(t, 1, next[0].Attempts)
		require.NoError(t, st.MarkDelivered(ctx, next[0].ID))
		next, err = st.ClaimDeliveries(ctx, 10, time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{"e2"}, eventIDs(next))
		require.Equal(t, all.ID, next[0].DestinationID)

		hist, err := st.Deliveries(ctx, all.ID, 10)
		require.NoError(t, err)
		require.Len(t, hist, 3)
		require.NoError(t, st.EnqueueTestEvent(ctx, onlyApproved.ID, ev("t1", "test", "")))
		hist, err = st.Deliveries(ctx, onlyApproved.ID, 10)
		require.NoError(t, err)
		require.Len(t, hist, 2)

		n, err = st.PruneDeliveries(ctx, time.Now().Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 3, n, "e1, e3 and the Slack e2 delivered; the webhook e2 (claimed, pending) and t1 stay")
		hist, err = st.Deliveries(ctx, all.ID, 10)
		require.NoError(t, err)
		require.Len(t, hist, 1)

		require.NoError(t, st.DeleteDestination(ctx, all.ID))
		require.ErrorIs(t, st.DeleteDestination(ctx, all.ID), store.ErrNotFound)
		hist, err = st.Deliveries(ctx, all.ID, 10)
		require.NoError(t, err)
		require.Empty(t, hist)
	})
}

func eventIDs(ds []store.Delivery) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.EventID)
	}
	return out
}

func dumpNotificationTables(t *testing.T, db *bun.DB) string {
	t.Helper()
	var s []string
	require.NoError(t, db.NewRaw("SELECT secrets_sealed || config FROM notification_destinations").Scan(context.Background(), &s))
	out := ""
	for _, v := range s {
		out += v
	}
	return out
}

// An extension past the approved duration is decided like the grant: the projection holds the
// pending request, the queue lists it, decisions are per request (the grant's approver may
// decide it again, the requester never), and only the pending request takes decisions.
func TestExtensionApprovals(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, _ *bun.DB) {
		ctx := context.Background()
		f := setup(t, st)
		roles := []string{globalAdminRole}
		_, err := st.UpdateApplication(ctx, f.tenant.ID, f.app.ID, store.ApplicationPatch{Roles: &roles})
		require.NoError(t, err)
		g := startGrant(t, st, f)
		_, _, err = st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: f.admin.ID, Decision: store.DecisionApproved})
		require.NoError(t, err)
		now := time.Now().UTC().Truncate(time.Second)
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "active", ActivatedAt: now, ExpiresAt: now.Add(time.Hour)}))

		// Nothing pending: no decision on an extension, nothing in the queue.
		_, _, err = st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: f.admin.ID, Decision: store.DecisionApproved, Request: "extension:k1"})
		requireCode(t, policy.CodeNotPendingApproval, err)
		queue, err := st.PendingApprovals(ctx, f.admin.ID)
		require.NoError(t, err)
		require.Empty(t, queue)

		pe := store.PendingExtension{Duration: 30 * time.Minute, By: f.tech.ID, RequestedAt: now, Request: "extension:k1"}
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "active", PendingExtension: &pe}))
		got, err := st.Grant(ctx, g.ID)
		require.NoError(t, err)
		require.NotNil(t, got.PendingExtension)
		require.Equal(t, pe.Duration, got.PendingExtension.Duration)
		require.Equal(t, pe.By, got.PendingExtension.By)
		require.Equal(t, pe.Request, got.PendingExtension.Request)
		require.True(t, pe.RequestedAt.Equal(got.PendingExtension.RequestedAt))
		require.True(t, now.Add(time.Hour).Equal(got.ExpiresAt), "the expiry does not move while pending")
		queue, err = st.PendingApprovals(ctx, f.admin.ID)
		require.NoError(t, err)
		require.Len(t, queue, 1)
		require.Equal(t, g.ID, queue[0].ID)
		require.NotNil(t, queue[0].PendingExtension)
		queue, err = st.PendingApprovals(ctx, f.tech.ID)
		require.NoError(t, err)
		require.Empty(t, queue, "never in the requester's queue")

		a, recorded, err := st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: f.admin.ID, Decision: store.DecisionApproved,
			Comment: "fine", Request: "extension:k1"})
		require.NoError(t, err)
		require.True(t, recorded, "the grant's approver decides the extension afresh")
		require.Equal(t, "fine", a.Comment)
		_, _, err = st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: f.admin.ID, Decision: store.DecisionApproved, Request: "extension:k0"})
		requireCode(t, policy.CodeNotPendingApproval, err)
		_, _, err = st.RecordApproval(ctx, store.ApprovalDecision{GrantID: g.ID, ApproverID: f.tech.ID, Decision: store.DecisionApproved, Request: "extension:k1"})
		requireCode(t, policy.CodeSelfApproval, err)
		list, err := st.ExtensionApprovals(ctx, g.ID, "extension:k1")
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, "extension:k1", list[0].Request)
		list, err = st.Approvals(ctx, g.ID)
		require.NoError(t, err)
		require.Len(t, list, 1, "the grant's own decisions are apart")

		// A write without it clears it.
		require.NoError(t, st.RecordGrant(ctx, store.GrantUpdate{GrantID: g.ID, Status: "active"}))
		got, err = st.Grant(ctx, g.ID)
		require.NoError(t, err)
		require.Nil(t, got.PendingExtension)
	})
}
