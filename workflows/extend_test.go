package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitaccess/jitaccess/workflows"
)

type extendCall struct {
	at  time.Duration
	id  string
	req workflows.ExtendRequest
	// before runs just before the update (e.g. to change the database).
	before func(f *fixture)
}

// extendOutcomes runs the grant (1 h, application 2 h per step, 4 h in all) with the calls
// and returns each update's outcome: "ok" or the error type.
func extendOutcomes(t *testing.T, calls []extendCall) (map[string]string, workflows.Result, *fixture) {
	f := newFixture(t)
	got := map[string]string{}
	for _, c := range calls {
		c := c
		f.env.RegisterDelayedCallback(func() {
			if c.before != nil {
				c.before(f)
			}
			outcome := func(err error) {
				if err == nil {
					got[c.id] = "ok"
					return
				}
				var appErr *temporal.ApplicationError
				if assert.ErrorAs(t, err, &appErr) {
					got[c.id] = appErr.Type()
				}
			}
			f.env.UpdateWorkflow(workflows.ExtendUpdateName, c.id, &testsuite.TestUpdateCallback{
				OnReject: outcome, OnAccept: func() {}, OnComplete: func(_ any, err error) { outcome(err) },
			}, c.req)
		}, c.at)
	}
	res := f.run(input())
	return got, res, f
}

func TestExtendRules(t *testing.T) {
	ext := func(d time.Duration) workflows.ExtendRequest {
		return workflows.ExtendRequest{Duration: d, By: "tec_1"}
	}
	tests := []struct {
		name      string
		calls     []extendCall
		want      map[string]string
		wantTotal time.Duration
	}{
		{name: "accepted", calls: []extendCall{{at: 10 * time.Minute, id: "a", req: ext(30 * time.Minute)}},
			want: map[string]string{"a": "ok"}, wantTotal: 90 * time.Minute},
		{name: "below the minimum step", calls: []extendCall{{at: 10 * time.Minute, id: "a", req: ext(4 * time.Minute)}},
			want: map[string]string{"a": workflows.ErrTypeExtensionTooShort}, wantTotal: time.Hour},
		{name: "not positive", calls: []extendCall{{at: 10 * time.Minute, id: "a", req: ext(0)}},
			want: map[string]string{"a": workflows.ErrTypeInvalidDuration}, wantTotal: time.Hour},
		{name: "step beyond the application's duration", calls: []extendCall{{at: 10 * time.Minute, id: "a", req: ext(2*time.Hour + time.Minute)}},
			want: map[string]string{"a": workflows.ErrTypeDurationExceedsMaximum}, wantTotal: time.Hour},
		{name: "total beyond the global maximum", calls: []extendCall{
			{at: 10 * time.Minute, id: "a", req: ext(2 * time.Hour)},
			{at: 20 * time.Minute, id: "b", req: ext(90 * time.Minute)}},
			want: map[string]string{"a": "ok", "b": workflows.ErrTypeDurationExceedsMaximum}, wantTotal: 3 * time.Hour},
		{name: "membership removed", calls: []extendCall{{at: 10 * time.Minute, id: "a", req: ext(30 * time.Minute),
			before: func(f *fixture) { f.st.Entitlement.Allowed, f.st.Entitlement.Reason = false, "not a member any more" }}},
			want: map[string]string{"a": workflows.ErrTypeNotEntitled}, wantTotal: time.Hour},
		{name: "unverified actor", calls: []extendCall{{at: 10 * time.Minute, id: "a", req: workflows.ExtendRequest{Duration: 30 * time.Minute, By: "mallory"}}},
			want: map[string]string{"a": workflows.ErrTypeActorUnverified}, wantTotal: time.Hour},
		{name: "same key applied once", calls: []extendCall{
			{at: 10 * time.Minute, id: "k", req: ext(10 * time.Minute)},
			{at: 11 * time.Minute, id: "k", req: ext(10 * time.Minute)}},
			want: map[string]string{"k": "ok"}, wantTotal: 70 * time.Minute},
		{name: "count limit", calls: func() []extendCall {
			var cs []extendCall
			for i := range workflows.MaxExtensions + 1 {
				cs = append(cs, extendCall{at: time.Duration(10+i) * time.Minute, id: string(rune('a' + i)), req: ext(5 * time.Minute)})
			}
			return cs
		}(), want: map[string]string{"a": "ok", "b": "ok", "c": "ok", "d": "ok", "e": "ok", "f": workflows.ErrTypeExtensionLimit},
			wantTotal: time.Hour + workflows.MaxExtensions*5*time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, res, f := extendOutcomes(t, tc.calls)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, workflows.StatusExpired, res.Status)
			assert.Equal(t, tc.wantTotal, res.ExpiresAt.Sub(res.ActivatedAt))
			oks := 0
			for _, v := range tc.want {
				if v == "ok" {
					oks++
				}
			}
			assert.Equal(t, oks, countOf(f.st.Actions(), "grant.extended"), "one audit event per applied extension")
			assert.Len(t, res.Extensions, oks)
		})
	}
}
