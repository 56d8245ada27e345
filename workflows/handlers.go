package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

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

	chk, err := g.checkExtend(ctx, req.By, req.Duration)
	if err != nil {
		return ExtendResult{}, err
	}
	if err := renewal(g.st, workflow.Now(ctx), g.revoke != nil, req, chk); err != nil {
		return ExtendResult{}, g.requestExtension(ctx, req, chk, key, err)
	}
	return g.applyExtension(ctx, req, chk.Actor, key, nil), nil
}

// checkExtend asks the database whether by may extend the grant now, with the current bounds.
func (g *grant) checkExtend(ctx workflow.Context, by string, d time.Duration) (ExtendCheck, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, dbOptions(fmt.Sprintf("Check that %s may extend by %s", by, d)))
	var chk ExtendCheck
	if err := workflow.ExecuteLocalActivity(lctx, CheckExtendActivity, CheckExtendInput{GrantID: g.in.GrantID, ActorID: by}).Get(lctx, &chk); err != nil {
		return ExtendCheck{}, temporal.NewApplicationError("the extension could not be checked: "+rootMessage(err), "ExtendCheckFailed")
	}
	chk.Actor.ID = by
	return chk, nil
}

// applyExtension moves the expiry (the main coroutine restarts its timer), records and
// announces the extension and renews the Temporary Access Pass. approvedBy names the
// approvers of an extension past the approved duration.
func (g *grant) applyExtension(ctx workflow.Context, req ExtendRequest, actor Actor, key string, approvedBy []string) ExtendResult {
	now := workflow.Now(ctx)
	g.st.ExpiresAt = g.st.ExpiresAt.Add(req.Duration)
	g.st.Extensions = append(g.st.Extensions, Extension{By: actor.ID, Duration: req.Duration, At: now, ExpiresAt: g.st.ExpiresAt, Key: key,
		ApprovedBy: approvedBy})
	g.appliedKeys = append(g.appliedKeys, key)
	g.logger.Info("Grant extended", "By", actor.ID, "Duration", req.Duration, "ExpiresAt", g.st.ExpiresAt)
	g.upsertSearchAttributes(ctx)
	g.setDetails(ctx)
	rec := Record{Action: ActionExtended, Key: "extend:" + key, Actor: actor, Extension: req.Duration}
	if len(approvedBy) > 0 {
		rec.Reason = "approved by " + strings.Join(approvedBy, ", ")
	}
	g.flush(ctx, g.recordOf(rec), fmt.Sprintf("Record extension by %s until %s", req.Duration, formatTime(g.st.ExpiresAt)))
	tapEnd, note := g.renewTAP(ctx, key)
	return ExtendResult{ExpiresAt: g.st.ExpiresAt, TAPExpiresAt: tapEnd, TAPNote: note}
}

func updateKey(ctx workflow.Context) string {
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		return info.ID
	}
	return ""
}
