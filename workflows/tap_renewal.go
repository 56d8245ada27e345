package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/workflows/signinwire"
)

// ActionTAPRenewed / ActionTAPNotRenewed: after an extension, the grant's pass was replaced by
// one covering the new end (Graph deletes the old pass when it creates the new one), or was
// left to end before the grant, with the reason.
const (
	ActionTAPRenewed    = "grant.tap_renewed"
	ActionTAPNotRenewed = "grant.tap_not_renewed"
)

// tapRenewalChange versions the extend handler: from version 1 an applied extension is
// followed by RenewTAP when the application issues a pass. Histories recorded before run on
// DefaultVersion and never schedule it.
const tapRenewalChange = "tap-renewal-on-extend"

// renewTAPTimeout bounds the renewal, well inside the 30 s the API waits for the extend
// update; the extension is applied either way.
const renewTAPTimeout = 15 * time.Second

// renewTAP runs after an applied extension: a pass that would end before the new expiry is
// replaced by one covering it (capped by the tenant's policy). A renewal that fails leaves
// the old pass to its end and says why in the audit log and the extend result; it never
// undoes the extension.
func (g *grant) renewTAP(ctx workflow.Context, key string) (tapEnd time.Time, note string) {
	if !g.plan.UsesTAP() || g.st.AccountID == "" || g.revoke != nil {
		return time.Time{}, ""
	}
	if workflow.GetVersion(ctx, tapRenewalChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return time.Time{}, ""
	}
	o := provisionOptions("Renew the Temporary Access Pass of " + g.st.AccountUPN + " until " + formatTime(g.st.ExpiresAt))
	o.ScheduleToCloseTimeout = renewTAPTimeout
	actx := workflow.WithActivityOptions(ctx, o)
	var res signinwire.RenewTAPResult
	err := workflow.ExecuteActivity(actx, signinwire.RenewTAPActivity, signinwire.RenewTAPInput{
		GrantID: g.in.GrantID, ApplicationID: g.in.ApplicationID, ObjectID: g.st.AccountID, ExpiresAt: g.st.ExpiresAt,
	}).Get(actx, &res)
	switch {
	case err != nil:
		note = "The Temporary Access Pass was not renewed and ends before the access does: " + rootMessage(err)
		g.flush(ctx, g.recordOf(Record{Action: ActionTAPNotRenewed, Key: "tap:" + key, Reason: note}),
			"Record that the Temporary Access Pass was not renewed")
		return time.Time{}, note
	case res.Renewed:
		reason := fmt.Sprintf("Temporary Access Pass %s replaced by %s, valid until %s", res.OldTAPID, res.TAPID, formatTime(res.ExpiresAt))
		if res.CappedByPolicy {
			note = fmt.Sprintf("The Temporary Access Pass ends at %s, before the access: the tenant's Temporary Access Pass policy caps its lifetime.", formatTime(res.ExpiresAt))
			reason += " (capped by the tenant's policy)"
		}
		g.flush(ctx, g.recordOf(Record{Action: ActionTAPRenewed, Key: "tap:" + key, Reason: reason}),
			"Record the renewed Temporary Access Pass")
	case res.CappedByPolicy:
		note = fmt.Sprintf("The Temporary Access Pass ends at %s, before the access: the tenant's Temporary Access Pass policy caps its lifetime.", formatTime(res.ExpiresAt))
	}
	return res.ExpiresAt, note
}
