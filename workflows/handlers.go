package workflows

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// setHandlers registers the status query, the extend update and the revoke signal.
func (g *grant) setHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, StatusQueryName, func() (State, error) {
		return g.snapshot(), nil
	}); err != nil {
		return fmt.Errorf("set query handler: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ExtendUpdateName, g.extend,
		workflow.UpdateHandlerOptions{Validator: g.validateExtend}); err != nil {
		return fmt.Errorf("set update handler: %w", err)
	}
	revokes := workflow.GetSignalChannel(ctx, RevokeSignalName)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var s RevokeSignal
			if !revokes.Receive(ctx, &s) {
				return
			}
			if g.onRevoke(s) {
				g.verifyRevoke(ctx, s)
			}
		}
	})
	return nil
}

// onRevoke keeps the first revocation; later ones change nothing. A revoke is honoured
// whoever sent it (ending access is always safe); it cancels provisioning in flight.
func (g *grant) onRevoke(s RevokeSignal) bool {
	if g.revoke != nil || g.st.Status.Final() || g.st.Status == StatusRevoking || g.st.Refused != "" {
		g.logger.Info("Revoke ignored", "Status", g.st.Status, "By", s.By)
		return false
	}
	if s.Reason == "" {
		s.Reason = "revoked"
	}
	g.revoke = &s
	g.logger.Info("Revoke received", "By", s.By, "Status", g.st.Status)
	if g.cancelProvision != nil {
		g.cancelProvision()
	}
	if s.By == "" {
		g.revokeActor = &Actor{ID: "system", Kind: "system", Verified: true}
	}
	return true
}

// verifyRevoke asks the database who sent the revoke; an unverifiable sender is recorded
// with the claimed name and Verified false.
func (g *grant) verifyRevoke(ctx workflow.Context, s RevokeSignal) {
	if g.revokeActor != nil {
		return
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	lctx := workflow.WithLocalActivityOptions(dctx, dbOptions("Verify who revoked"))
	var a Actor
	if err := workflow.ExecuteLocalActivity(lctx, VerifyActorActivity, VerifyActorInput{GrantID: g.in.GrantID, ActorID: s.By}).Get(lctx, &a); err != nil {
		a = Actor{Kind: s.ByKind}
	}
	a.ID = s.By // the name the signal carries, verified or not
	if !a.Verified {
		g.logger.Warn("Revoke from an unverified sender", "By", s.By)
	}
	g.revokeActor = &a
}

// validateExtend refuses at once what no database answer can make acceptable. It must not
// change any state.
func (g *grant) validateExtend(ctx workflow.Context, req ExtendRequest) error {
	if key := updateKey(ctx); slices.Contains(g.appliedKeys, key) {
		return nil // applied already: the handler answers with the current expiry
	}
	// The bounds the grant began with; the handler checks again with the current ones.
	return renewal(g.st, workflow.Now(ctx), g.revoke != nil, req,
		ExtendCheck{Actor: Actor{Verified: true}, Entitled: true, MaxStep: g.plan.MaxStep, MaxTotal: g.plan.MaxTotal})
}

// extend renews the lease once the database confirms the actor, the membership and the
// entitlement and the current bounds; the main coroutine restarts its timer. The update id
// is the idempotency key: a repeated key is applied once.
func (g *grant) extend(ctx workflow.Context, req ExtendRequest) (ExtendResult, error) {
	key := updateKey(ctx)
	_ = workflow.Await(ctx, func() bool { return !g.extending })
	if slices.Contains(g.appliedKeys, key) {
		return ExtendResult{ExpiresAt: g.st.ExpiresAt}, nil
	}
	g.extending = true
	defer func() { g.extending = false }()

	lctx := workflow.WithLocalActivityOptions(ctx, dbOptions(fmt.Sprintf("Check that %s may extend by %s", req.By, req.Duration)))
	var chk ExtendCheck
	if err := workflow.ExecuteLocalActivity(lctx, CheckExtendActivity, CheckExtendInput{GrantID: g.in.GrantID, ActorID: req.By}).Get(lctx, &chk); err != nil {
		return ExtendResult{}, temporal.NewApplicationError("the extension could not be checked: "+rootMessage(err), "ExtendCheckFailed")
	}
	chk.Actor.ID = req.By
	if err := renewal(g.st, workflow.Now(ctx), g.revoke != nil, req, chk); err != nil {
		return ExtendResult{}, err
	}
	now := workflow.Now(ctx)
	g.st.ExpiresAt = g.st.ExpiresAt.Add(req.Duration)
	g.st.Extensions = append(g.st.Extensions, Extension{By: chk.Actor.ID, Duration: req.Duration, At: now, ExpiresAt: g.st.ExpiresAt, Key: key})
	g.appliedKeys = append(g.appliedKeys, key)
	g.logger.Info("Grant extended", "By", chk.Actor.ID, "Duration", req.Duration, "ExpiresAt", g.st.ExpiresAt)
	g.upsertSearchAttributes(ctx)
	g.setDetails(ctx)
	g.flush(ctx, g.recordOf(Record{Action: ActionExtended, Key: "extend:" + key, Actor: chk.Actor, Extension: req.Duration}),
		fmt.Sprintf("Record extension by %s until %s", req.Duration, formatTime(g.st.ExpiresAt)))
	tapEnd, note := g.renewTAP(ctx, key)
	return ExtendResult{ExpiresAt: g.st.ExpiresAt, TAPExpiresAt: tapEnd, TAPNote: note}, nil
}

func updateKey(ctx workflow.Context) string {
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		return info.ID
	}
	return ""
}
