package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// transition moves the grant to status: search attributes, UI details, projection and audit.
func (g *grant) transition(ctx workflow.Context, status Status, rec Record) {
	g.enter(ctx, status)
	g.flush(ctx, g.recordOf(rec), "Record grant "+string(status))
}

// enter changes the status without a projection write (an activity wrote it).
func (g *grant) enter(ctx workflow.Context, status Status) {
	g.st.Status = status
	g.logger.Info("Grant status", "Status", status)
	g.upsertSearchAttributes(ctx)
	g.setDetails(ctx)
}

// flush writes rec and every record still pending, in order, as one local activity tried for
// a minute. What is not written stays in the outbox for the next write: the workflow never
// waits on the database before disabling an account, and nothing recorded is lost.
func (g *grant) flush(ctx workflow.Context, rec Record, summary string) {
	g.outbox = append(g.outbox, rec)
	lctx := workflow.WithLocalActivityOptions(ctx, recordOptions(summary))
	if err := workflow.ExecuteLocalActivity(lctx, RecordGrantActivity, g.outbox).Get(lctx, nil); err != nil {
		g.logger.Error("Grant projection not written yet; kept for the next write", "Pending", len(g.outbox), "Error", err)
		return
	}
	g.outbox = nil
}

// drain writes the outbox with an activity the server retries until it succeeds: the
// database ends equal to the history.
func (g *grant) drain(ctx workflow.Context) {
	for len(g.outbox) > 0 {
		actx := workflow.WithActivityOptions(ctx, drainOptions(fmt.Sprintf("Write %d pending grant records", len(g.outbox))))
		if err := workflow.ExecuteActivity(actx, RecordGrantActivity, g.outbox).Get(actx, nil); err != nil {
			g.logger.Error("Pending grant records not written; again", "Error", err)
			continue
		}
		g.outbox = nil
	}
}

// recordOf completes rec with the grant's current state.
func (g *grant) recordOf(rec Record) Record {
	rec.GrantID = g.in.GrantID
	rec.WorkflowID, rec.RunID = g.workflowID, g.runID
	rec.TenantID, rec.ApplicationID, rec.TechnicianID = g.in.TenantID, g.in.ApplicationID, g.in.TechnicianID
	rec.Status = g.st.Status
	rec.ActivatedAt, rec.ExpiresAt, rec.EndedAt = g.st.ActivatedAt, g.st.ExpiresAt, g.st.EndedAt
	rec.AccountUPN, rec.AccountID = g.st.AccountUPN, g.st.AccountID
	rec.Roles = g.st.Roles
	rec.PendingExtension = g.st.PendingExtension
	if rec.Failure == "" {
		rec.Failure = g.st.Failure
	}
	if rec.RevokedBy == "" {
		rec.RevokedBy = g.st.RevokedBy
	}
	return rec
}

// upsertSearchAttributes keeps JitStatus and JitExpiresAt current (best effort).
func (g *grant) upsertSearchAttributes(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{StatusKey.ValueSet(string(g.st.Status))}
	if !g.st.ExpiresAt.IsZero() {
		updates = append(updates, ExpiresAtKey.ValueSet(g.st.ExpiresAt))
	}
	if _, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(TechnicianEmailKey); !ok && g.plan.TechnicianEmail != "" {
		updates = append(updates, TenantIDKey.ValueSet(g.in.TenantID), ApplicationIDKey.ValueSet(g.in.ApplicationID),
			TechnicianEmailKey.ValueSet(g.plan.TechnicianEmail))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		g.logger.Error("Search attributes not upserted", "Error", err)
	}
}

// setDetails shows the grant's state on the workflow's page in the Temporal UI.
func (g *grant) setDetails(ctx workflow.Context) {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** for %s", g.st.Status, g.plan.TechnicianEmail)
	if g.st.AccountUPN != "" {
		fmt.Fprintf(&b, " as %s", g.st.AccountUPN)
	}
	if !g.st.ExpiresAt.IsZero() {
		fmt.Fprintf(&b, ", expires %s", formatTime(g.st.ExpiresAt))
	}
	if p := g.st.PendingExtension; p != nil {
		fmt.Fprintf(&b, "\n\nextension awaiting approval: %s more, asked by %s at %s", p.Duration, p.By, formatTime(p.RequestedAt))
	}
	if g.st.Failure != "" {
		fmt.Fprintf(&b, "\n\n%s", g.st.Failure)
	}
	workflow.SetCurrentDetails(ctx, b.String())
}

// snapshot copies the state so query callers never share slices with the workflow.
func (g *grant) snapshot() State {
	s := g.st
	s.Roles = append([]string(nil), g.st.Roles...)
	s.Extensions = append([]Extension(nil), g.st.Extensions...)
	if p := g.st.PendingExtension; p != nil {
		c := *p
		s.PendingExtension = &c
	}
	return s
}
