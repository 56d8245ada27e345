package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/workflows"
)

// sweepAccounts reads, AccountsPerRead at a time and at most one read per Pace, every account
// the application's grants recorded: O(accounts jitaccess created), never the tenant's users.
func (s *Sweeper) sweepAccounts(ctx context.Context, in SweepInput, res *SweepResult) error {
	after := ""
	var lastRead time.Time
	for {
		accts, err := s.Store.CreatedAccounts(ctx, in.ApplicationID, after, AccountsPerRead)
		if err != nil {
			return err
		}
		if len(accts) == 0 {
			return nil
		}
		after = accts[len(accts)-1].AccountID
		// The pace runs from the end of the previous batch, its repairs included.
		if wait := s.pace() - time.Since(lastRead); !lastRead.IsZero() && wait > 0 {
			if err := sleep(ctx, wait); err != nil {
				return err
			}
		}
		ids := make([]string, len(accts))
		for i, a := range accts {
			ids[i] = a.AccountID
		}
		var states []directory.AccountState
		if err := s.throttled(ctx, func() (err error) {
			states, err = s.Directory.AccountStates(ctx, in.ApplicationID, ids)
			return err
		}); err != nil {
			return fmt.Errorf("read %d accounts: %w", len(ids), err)
		}
		byID := make(map[string]directory.AccountState, len(states))
		for _, st := range states {
			byID[strings.ToLower(st.ObjectID)] = st
		}
		for _, a := range accts {
			res.Accounts++
			st, ok := byID[strings.ToLower(a.AccountID)]
			if !ok {
				st = directory.AccountState{ObjectID: a.AccountID}
			}
			if err := s.checkAccount(ctx, in, res, a, st); err != nil {
				return err
			}
		}
		lastRead = time.Now()
		heartbeat(ctx, "accounts", after)
		if len(accts) < AccountsPerRead {
			return nil
		}
	}
}

// checkAccount compares an account with the grants that hold it: none → it must be disabled
// and hold no role; an active one → it must hold no role the grant was not configured with,
// and a disabled or missing account is recorded. A grant in motion (pending, provisioning,
// revoking) owns the account for now.
func (s *Sweeper) checkAccount(ctx context.Context, in SweepInput, res *SweepResult, a store.CreatedAccount, st directory.AccountState) error {
	live, err := s.Store.LiveGrantsOfAccount(ctx, a.TenantID, a.TechnicianID, a.AccountID)
	if err != nil {
		return err
	}
	f := Finding{TenantID: a.TenantID, ApplicationID: a.ApplicationID, AccountID: a.AccountID, UPN: a.AccountUPN}
	if st.UPN != "" {
		f.UPN = st.UPN
	}
	if len(live) == 0 {
		signedIn := signedInSince(st, a.LastActivatedAt)
		if !st.Exists || (!st.Enabled && len(st.Assignments) == 0 && !signedIn) {
			return nil
		}
		switch {
		case st.Enabled:
			f.Kind = KindAccountEnabled
		case len(st.Assignments) > 0:
			f.Kind = KindAccountPrivileged
		default:
			f.Kind = KindSessionsNotRevoked
		}
		f.Seen = fmt.Sprintf("enabled=%v with %d role assignments (%s) and no live grant", st.Enabled, len(st.Assignments), roleList(st.Assignments))
		if signedIn {
			f.Seen += fmt.Sprintf("; sign-in sessions valid since %s, before its last grant began (%s)",
				formatTime(st.SessionsValidFrom), formatTime(a.LastActivatedAt))
		}
		if in.DryRun {
			f.Done = "fully disable the account"
			return s.report(ctx, in, res, f)
		}
		// Read the grants again right before acting: a request may have begun meanwhile.
		if live, err = s.Store.LiveGrantsOfAccount(ctx, a.TenantID, a.TechnicianID, a.AccountID); err != nil || len(live) > 0 {
			return err
		}
		f.Done, err = s.fullDisable(ctx, a.ApplicationID, a.AccountID)
		if err != nil {
			f.Error = err.Error()
		}
		return s.report(ctx, in, res, f)
	}
	allowed := map[string]bool{}
	expiring := false
	for _, g := range live {
		if g.Status != string(workflows.StatusActive) {
			return nil
		}
		// Past expires_at the run is disabling the account (a plain expiry records no
		// `revoking`): a disabled account is what should be seen.
		expiring = expiring || (!g.ExpiresAt.IsZero() && !time.Now().Before(g.ExpiresAt))
		f.GrantID = g.ID
		for _, r := range g.Roles {
			allowed[strings.ToLower(r)] = true
		}
	}
	switch {
	case expiring:
	case !st.Exists:
		f.Kind, f.Seen, f.Done = KindAccountMissing, "the grant is active but its account does not exist in the directory", doneRecorded
		return s.report(ctx, in, res, f)
	case !st.Enabled:
		f.Kind, f.Seen, f.Done = KindAccountDisabled, "the grant is active but its account is disabled", doneRecorded
		if err := s.report(ctx, in, res, f); err != nil {
			return err
		}
	}
	var extra []directory.RoleAssignment
	for _, ra := range st.Assignments {
		if !allowed[strings.ToLower(ra.RoleID)] || ra.DirectoryScopeID != "/" {
			extra = append(extra, ra)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	f.Kind = KindExtraRoles
	f.Seen = fmt.Sprintf("the active grant's account holds %d role assignments it was not configured with (%s)", len(extra), roleList(extra))
	if in.DryRun {
		f.Done = fmt.Sprintf("remove the %d extra role assignments", len(extra))
		return s.report(ctx, in, res, f)
	}
	ids := make([]string, len(extra))
	for i, ra := range extra {
		ids[i] = ra.ID
	}
	err = s.throttled(ctx, func() error { return s.Directory.RemoveAssignments(ctx, a.ApplicationID, ids) })
	f.Done = fmt.Sprintf("removed %d extra role assignments", len(extra))
	if err != nil {
		f.Done, f.Error = "removing the extra role assignments failed; retried next sweep", err.Error()
	}
	return s.report(ctx, in, res, f)
}

// fullDisable reads every role assignment of the account, then disables it, revokes its
// sign-in sessions, scrambles its password and removes all those assignments (one $batch),
// and deletes every Temporary Access Pass it holds: no live grant owns the account, so no
// pass on it is anyone's. The pass goes after the disable, which it never holds up.
func (s *Sweeper) fullDisable(ctx context.Context, applicationID, objectID string) (string, error) {
	var st []directory.AccountState
	if err := s.throttled(ctx, func() (err error) {
		st, err = s.Directory.AccountStates(ctx, applicationID, []string{objectID})
		return err
	}); err != nil {
		return "full disable failed; retried next sweep", err
	}
	if len(st) == 0 || !st[0].Exists {
		return "the account no longer exists", nil
	}
	ids := make([]string, len(st[0].Assignments))
	for i, ra := range st[0].Assignments {
		ids[i] = ra.ID
	}
	err := s.throttled(ctx, func() error {
		err := s.Directory.DisableAccount(ctx, applicationID, objectID, ids, directory.NewPassword())
		if errors.Is(err, directory.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return "full disable failed; retried next sweep", err
	}
	done := fmt.Sprintf("account disabled, signed out, password scrambled, %d role assignments removed", len(ids))
	err = s.throttled(ctx, func() error {
		err := s.Directory.DeleteTAP(ctx, applicationID, objectID, "")
		if errors.Is(err, directory.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return done + "; deleting its temporary access passes failed", err
	}
	return done + ", temporary access passes deleted", nil
}

// signedInSince reports whether an existing account's sign-in sessions were not revoked
// after the last grant on it began (never revoked: no time at all). Graph keeps whole
// seconds, so a revoke within the same second counts as after.
func signedInSince(st directory.AccountState, lastActivated time.Time) bool {
	return st.Exists && !lastActivated.IsZero() && st.SessionsValidFrom.Before(lastActivated.Truncate(time.Second))
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// throttled runs call, waiting out Graph's Retry-After (at least a second) when it is
// throttled, a few times at most.
func (s *Sweeper) throttled(ctx context.Context, call func() error) error {
	for n := 0; ; n++ {
		err := call()
		var te *directory.ThrottledError
		if !errors.As(err, &te) || n >= maxThrottleWaits {
			return err
		}
		heartbeat(ctx, "throttled", te.RetryAfter.String())
		if err := sleep(ctx, max(te.RetryAfter, time.Second)); err != nil {
			return err
		}
	}
}

func (s *Sweeper) pace() time.Duration {
	if s.Pace > 0 {
		return s.Pace
	}
	return DefaultPace
}

func roleList(as []directory.RoleAssignment) string {
	roles := make([]string, 0, len(as))
	for _, a := range as {
		r := a.RoleID
		if a.DirectoryScopeID != "" && a.DirectoryScopeID != "/" {
			r += "@" + a.DirectoryScopeID
		}
		roles = append(roles, r)
	}
	slices.Sort(roles)
	return strings.Join(roles, ", ")
}

// sleep waits d, or until ctx ends, heartbeating every few seconds.
func sleep(ctx context.Context, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		t := time.NewTimer(min(left, 5*time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		heartbeat(ctx, "waiting")
	}
}
