package policy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	globalAdmin = "62e90394-69f5-4237-9190-012177145e10"
	reportsRead = "4a5d8f65-41da-4de4-8968-e035b65339cf"
)

var lim = Limits{GlobalMax: 24 * time.Hour, GlobalMin: 5 * time.Minute}

func TestDefault(t *testing.T) {
	priv := Default([]string{reportsRead, globalAdmin})
	require.True(t, priv.Approval.Required)
	require.Equal(t, 1, priv.Approval.ApprovalsNeeded)
	require.Equal(t, Duration(DefaultApprovalTimeout), priv.Approval.Timeout)
	require.NoError(t, priv.Validate(lim))

	plain := Default([]string{reportsRead})
	require.False(t, plain.Approval.Required)
	require.Equal(t, Optional, plain.Justification)
	require.NoError(t, plain.Validate(lim))

	for _, id := range []string{
		"e8611ab8-c189-46e8-94e1-60213ab1f814", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "194ae4cb-b126-40b2-bd5b-6091b380977d",
	} {
		require.True(t, IsPrivilegedRole(id), id)
	}
	require.False(t, IsPrivilegedRole(reportsRead))
	require.Len(t, PrivilegedRoleIDs(), 22)
	require.Equal(t, "Global Administrator", RoleName(globalAdmin))
	require.Equal(t, "Reports Reader", RoleName(reportsRead))
	require.Equal(t, "custom-role-id", RoleName("custom-role-id"))
}

func TestJSONShape(t *testing.T) {
	b, err := json.Marshal(Default([]string{globalAdmin}))
	require.NoError(t, err)
	require.JSONEq(t, `{"justification":"optional","ticket":{"required":false,"pattern":"","label":""},
		"max_duration":"","max_total_duration":"",
		"approval":{"required":true,"approver_group_ids":[],"approvals_needed":1,"timeout":"8h0m0s"}}`, string(b))
	p, err := Parse(b)
	require.NoError(t, err)
	require.Equal(t, Default([]string{globalAdmin}), p)
}

func TestApply(t *testing.T) {
	base := Default([]string{globalAdmin})
	tests := []struct {
		name, doc, field string
		check            func(t *testing.T, p Policy)
	}{
		{name: "partial keeps the rest", doc: `{"justification":"required"}`, check: func(t *testing.T, p Policy) {
			require.Equal(t, Required, p.Justification)
			require.True(t, p.Approval.Required, "approval default kept")
		}},
		{name: "full", doc: `{"justification":"required","ticket":{"required":true,"pattern":"#?\\d{4,8}","label":"ConnectWise ticket"},
			"max_duration":"2h","max_total_duration":"6h","approval":{"required":true,"approver_group_ids":["all-admins","grp_x"],"approvals_needed":2,"timeout":"30m"}}`,
			check: func(t *testing.T, p Policy) {
				require.Equal(t, Duration(2*time.Hour), p.MaxDuration)
				require.Equal(t, Duration(6*time.Hour), p.MaxTotalDuration)
				require.Equal(t, []string{"all-admins", "grp_x"}, p.Approval.ApproverGroupIDs)
				require.Equal(t, 2, p.Approval.ApprovalsNeeded)
				require.Equal(t, Duration(30*time.Minute), p.Approval.Timeout)
			}},
		{name: "approval off", doc: `{"approval":{"required":false}}`, check: func(t *testing.T, p Policy) {
			require.False(t, p.Approval.Required)
		}},
		{name: "bad justification", doc: `{"justification":"maybe"}`, field: "policy.justification"},
		{name: "bad pattern", doc: `{"ticket":{"pattern":"(["}}`, field: "policy.ticket.pattern"},
		{name: "bad duration", doc: `{"max_duration":"forever"}`, field: "policy.max_duration"},
		{name: "over global max", doc: `{"max_total_duration":"48h"}`, field: "policy.max_total_duration"},
		{name: "under global min", doc: `{"max_duration":"1m"}`, field: "policy.max_duration"},
		{name: "total shorter than max", doc: `{"max_duration":"4h","max_total_duration":"2h"}`, field: "policy.max_total_duration"},
		{name: "too many approvals", doc: `{"approval":{"required":true,"approvals_needed":11}}`, field: "policy.approval.approvals_needed"},
		{name: "bad timeout", doc: `{"approval":{"required":true,"timeout":"10s"}}`, field: "policy.approval.timeout"},
		{name: "duplicate group", doc: `{"approval":{"required":true,"approver_group_ids":["a","a"]}}`, field: "policy.approval.approver_group_ids"},
		{name: "unknown field", doc: `{"working_hours":true}`, field: "policy.working_hours"},
		{name: "wrong type", doc: `{"approval":{"approvals_needed":"two"}}`, field: "policy.approval.approvals_needed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Apply(base, []byte(tc.doc), lim)
			if tc.field != "" {
				e, ok := AsError(err)
				require.True(t, ok, "%v", err)
				require.Equal(t, CodeInvalidPolicy, e.Code)
				require.Equal(t, tc.field, e.Field)
				return
			}
			require.NoError(t, err)
			tc.check(t, p)
		})
	}
	require.True(t, base.Approval.Required, "Apply leaves its input alone")
}

func TestCheckRequest(t *testing.T) {
	strict := Policy{Justification: Required, Ticket: Ticket{Required: true, Pattern: `#?\d{4,8}`, Label: "ConnectWise ticket"}, MaxDuration: Duration(2 * time.Hour)}
	loose := Policy{Justification: Optional, Ticket: Ticket{Pattern: `#?\d{4,8}`}}
	tests := []struct {
		name string
		p    Policy
		r    Request
		code string
	}{
		{"all good", strict, Request{Justification: "outage", TicketReference: "#12345", Duration: time.Hour}, ""},
		{"justification missing", strict, Request{Justification: "  ", TicketReference: "1234", Duration: time.Hour}, CodeJustificationRequired},
		{"ticket missing", strict, Request{Justification: "x", Duration: time.Hour}, CodeTicketReferenceInvalid},
		{"ticket malformed", strict, Request{Justification: "x", TicketReference: "12", Duration: time.Hour}, CodeTicketReferenceInvalid},
		{"ticket must match whole", strict, Request{Justification: "x", TicketReference: "1234; drop", Duration: time.Hour}, CodeTicketReferenceInvalid},
		{"too long", strict, Request{Justification: "x", TicketReference: "1234", Duration: 3 * time.Hour}, CodeDurationExceedsPolicy},
		{"optional ticket may be empty", loose, Request{}, ""},
		{"optional ticket still checked", loose, Request{TicketReference: "abc"}, CodeTicketReferenceInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.CheckRequest(tc.r)
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			e, ok := AsError(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.code, e.Code)
			require.NotEmpty(t, e.Field)
			require.Equal(t, 400, e.HTTPStatus())
		})
	}
	require.Equal(t, 2*time.Hour, strict.MaxRequestDuration(4*time.Hour))
	require.Equal(t, 4*time.Hour, loose.MaxRequestDuration(4*time.Hour))
}

func TestCheckExtension(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	approved := Policy{Approval: Approval{Required: true, ApprovalsNeeded: 1}, MaxTotalDuration: Duration(8 * time.Hour)}
	open := Policy{}
	tests := []struct {
		name string
		p    Policy
		e    Extension
		code string
	}{
		{"no approval, no limit", open, Extension{ActivatedAt: at, ExpiresAt: at.Add(4 * time.Hour), By: 10 * time.Hour}, ""},
		{"within approved", approved, Extension{ActivatedAt: at, ExpiresAt: at.Add(time.Hour), By: time.Hour, ApprovedTotal: 2 * time.Hour}, ""},
		{"beyond approved", approved, Extension{ActivatedAt: at, ExpiresAt: at.Add(2 * time.Hour), By: time.Hour, ApprovedTotal: 2 * time.Hour}, CodeApprovalRequired},
		{"beyond policy total", approved, Extension{ActivatedAt: at, ExpiresAt: at.Add(8 * time.Hour), By: time.Hour, ApprovedTotal: 9 * time.Hour}, CodeDurationExceedsPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.CheckExtension(tc.e)
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			e, ok := AsError(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.code, e.Code)
		})
	}
	e, _ := AsError(approved.CheckExtension(Extension{ActivatedAt: at, ExpiresAt: at.Add(2 * time.Hour), By: time.Hour, ApprovedTotal: time.Hour}))
	require.Equal(t, 409, e.HTTPStatus())
}

func TestCheckApprover(t *testing.T) {
	admins := Policy{Approval: Approval{Required: true}}
	grouped := Policy{Approval: Approval{Required: true, ApproverGroupIDs: []string{"grp_sec"}}}
	tests := []struct {
		name string
		p    Policy
		a    Approver
		code string
	}{
		{"admin when no groups", admins, Approver{ID: "t2", Role: "admin"}, ""},
		{"technician when no groups", admins, Approver{ID: "t2", Role: "technician"}, CodeNotApprover},
		{"self, even as admin", admins, Approver{ID: "t1", Role: "admin"}, CodeSelfApproval},
		{"group member", grouped, Approver{ID: "t2", Role: "technician", GroupIDs: []string{"all-admins", "grp_sec"}}, ""},
		{"admin outside the groups", grouped, Approver{ID: "t2", Role: "admin", GroupIDs: []string{"all-admins"}}, CodeNotApprover},
		{"self in group", grouped, Approver{ID: "t1", GroupIDs: []string{"grp_sec"}}, CodeSelfApproval},
		{"nobody", grouped, Approver{}, CodeNotApprover},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.CheckApprover("t1", tc.a)
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			e, ok := AsError(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.code, e.Code)
			require.Equal(t, 403, e.HTTPStatus())
		})
	}
}
