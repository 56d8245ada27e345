package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows/signinwire"
)

// RenewTAPInput names the grant's account and its new end after an extension.
type RenewTAPInput = signinwire.RenewTAPInput

// RenewTAPResult says what happened to the pass, without the pass.
type RenewTAPResult = signinwire.RenewTAPResult

// RenewTAP replaces the grant's Temporary Access Pass when it ends before in.ExpiresAt: Graph
// keeps one pass per user and deletes the old one when it creates the new one
// (graph-facts-auth-methods.md §2), so the old pass stops working at once. The new lifetime
// is capped by the tenant's policy; a pass that already covers the grant is left alone.
func (a *SignIn) RenewTAP(ctx context.Context, in RenewTAPInput) (RenewTAPResult, error) {
	defer heartbeat(ctx, nil)() // the workflow's HeartbeatTimeout is 10 s
	method, err := a.Store.SignInMethod(ctx, in.ApplicationID)
	if err != nil {
		return RenewTAPResult{}, fmt.Errorf("read the sign-in method of %s: %w", in.ApplicationID, err)
	}
	if !store.UsesTAP(method) {
		return RenewTAPResult{}, nil
	}
	oldID, err := a.Store.TAPID(ctx, in.GrantID)
	if err != nil {
		return RenewTAPResult{}, err
	}
	end, ok, err := a.Store.TAPExpiry(ctx, in.GrantID)
	if err != nil {
		return RenewTAPResult{}, err
	}
	if ok && !end.Before(in.ExpiresAt.Add(-time.Minute)) {
		return RenewTAPResult{TAPID: oldID, ExpiresAt: end}, nil // it covers the new end already
	}
	ctx, err = a.pinned(ctx, in.GrantID)
	if err != nil {
		return RenewTAPResult{}, err
	}
	lifetime := max(in.ExpiresAt.Sub(a.now()), time.Minute)
	tap, err := a.Directory.IssueTAP(ctx, in.ApplicationID, in.ObjectID, lifetime)
	if err != nil {
		return RenewTAPResult{}, signInError("renew the Temporary Access Pass of "+in.ObjectID, err, false)
	}
	if err := a.Store.SaveTAP(ctx, in.GrantID, tap); err != nil {
		return RenewTAPResult{}, fmt.Errorf("save the renewed Temporary Access Pass of grant %s: %w", in.GrantID, err)
	}
	res := RenewTAPResult{Renewed: true, OldTAPID: oldID, TAPID: tap.ID, ExpiresAt: tap.ExpiresAt,
		CappedByPolicy: tap.ExpiresAt.Before(in.ExpiresAt.Add(-time.Minute))}
	a.logger().InfoContext(ctx, "temporary access pass renewed", "grant_id", in.GrantID, "tap", tap, "old_tap_id", oldID, "capped", res.CappedByPolicy)
	return res, nil
}
