package access

import (
	"context"
	"fmt"
	"time"

	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// SignInView is how the technician of a grant signs in: the application's method and, when a
// Temporary Access Pass was issued, when it ends (no secret; the pass itself is read with
// ReadCredentials, which audits).
type SignInView struct {
	Method string // password, tap or password_and_tap
	TAP    bool   // a pass is on record for the grant
	// TAPExpiresAt is the pass's end; EndsEarly when it ends before the grant (the tenant's
	// policy caps its lifetime, or it could not be renewed after an extension), by Shortfall.
	TAPExpiresAt time.Time
	EndsEarly    bool
	Shortfall    time.Duration
	// Note says why the pass ends early when an extension could not renew it ("" otherwise).
	Note string
}

// GrantSignIn describes the sign-in of a grant the actor may see.
func (s *Service) GrantSignIn(ctx context.Context, u Actor, grantID string) (SignInView, error) {
	g, err := s.VisibleGrant(ctx, u, grantID)
	if err != nil {
		return SignInView{}, err
	}
	method, err := s.deps.Store.SignInMethod(ctx, g.ApplicationID)
	if err != nil {
		return SignInView{}, fmt.Errorf("sign-in method of %s: %w", g.ApplicationID, err)
	}
	v := SignInView{Method: method}
	if !store.UsesTAP(method) {
		return v, nil
	}
	at, ok, err := s.deps.Store.TAPExpiry(ctx, g.ID)
	if err != nil || !ok {
		return v, err
	}
	v.TAP, v.TAPExpiresAt = true, at
	// A minute of slack: the pass is issued a moment after the grant's clock starts.
	if !g.ExpiresAt.IsZero() && at.Before(g.ExpiresAt.Add(-time.Minute)) {
		v.EndsEarly, v.Shortfall = true, g.ExpiresAt.Sub(at).Round(time.Minute)
		if v.Note, err = s.tapNote(ctx, g.ID); err != nil {
			return v, err
		}
	}
	return v, nil
}

// tapNote is the reason the last extension could not renew the grant's pass, unless a later
// extension renewed it.
func (s *Service) tapNote(ctx context.Context, grantID string) (string, error) {
	reason, at, ok, err := s.deps.Store.LatestGrantEvent(ctx, grantID, workflows.ActionTAPNotRenewed)
	if err != nil || !ok {
		return "", err
	}
	_, renewedAt, renewed, err := s.deps.Store.LatestGrantEvent(ctx, grantID, workflows.ActionTAPRenewed)
	if err != nil || (renewed && renewedAt.After(at)) {
		return "", err
	}
	return reason, nil
}
