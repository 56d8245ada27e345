package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/jitaccess/jitaccess/directory"
)

// FindUser reads a user by user principal name (GET /users/{upn}); a missing user is
// directory.ErrNotFound. Account.Created is false.
func (c *Client) FindUser(ctx context.Context, applicationID, upn string) (directory.Account, error) {
	var acct directory.Account
	err := c.do(ctx, applicationID, "find user "+upn, func(ctx context.Context) error {
		u, err := c.graph.Users().ByUserId(upn).Get(ctx, nil)
		if err != nil {
			return err
		}
		acct = directory.Account{ObjectID: deref(u.GetId()), UPN: deref(u.GetUserPrincipalName())}
		return nil
	})
	return acct, err
}

// EnsureAccount makes the technician's cloud-only account exist, enabled, with the given
// password (forceChangePasswordNextSignIn false): POST /users, one round trip. When the UPN
// already exists — an earlier grant, or this activity retried after its create succeeded —
// Graph answers the duplicate-UPN 400, and one $batch re-enables the account, resets its
// password (PATCH) and reads its id (GET): Account.Created is false.
func (c *Client) EnsureAccount(ctx context.Context, applicationID string, spec directory.AccountSpec, password string) (directory.Account, error) {
	if err := directory.ValidUPN(spec.UPN); err != nil {
		return directory.Account{}, fmt.Errorf("entra: ensure account: %w", err)
	}
	if err := directory.ValidPassword(password); err != nil {
		return directory.Account{}, fmt.Errorf("entra: ensure account %s: %w", spec.UPN, err)
	}
	if spec.MailNickname == "" {
		nick, err := directory.MailNickname(spec.UPN)
		if err != nil {
			return directory.Account{}, fmt.Errorf("entra: ensure account: %w", err)
		}
		spec.MailNickname = nick
	}
	if spec.DisplayName == "" {
		spec.DisplayName = spec.UPN
	}

	if spec.ObjectID != "" {
		acct, err := c.reenableKnown(ctx, applicationID, spec, password)
		if err == nil || !errors.Is(err, directory.ErrNotFound) {
			return acct, err
		}
		// The remembered account is gone: make it anew.
	}
	var acct directory.Account
	err := c.do(ctx, applicationID, "create user "+spec.UPN, func(ctx context.Context) error {
		u := models.NewUser()
		u.SetAccountEnabled(ptr(true))
		u.SetDisplayName(&spec.DisplayName)
		u.SetMailNickname(&spec.MailNickname)
		u.SetUserPrincipalName(&spec.UPN)
		u.SetPasswordProfile(passwordProfile(password))
		u.SetEmployeeType(ptr(directory.AccountMarker))
		created, err := c.graph.Users().Post(ctx, u, nil)
		if err == nil {
			acct = directory.Account{ObjectID: deref(created.GetId()), UPN: spec.UPN, Created: true}
			if acct.ObjectID == "" {
				return errors.New("graph created the user but returned no id")
			}
			return nil
		}
		if f := failureOf(err); f == nil || !f.IsDuplicateUPN() {
			return err
		}
		// The UPN exists and no object id is on record: only an account carrying the
		// marker jitaccess writes at creation (a retried create) is re-enabled; any
		// other is never touched.
		existing, err := c.graph.Users().ByUserId(spec.UPN).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "employeeType"}},
		})
		if err != nil {
			return err
		}
		if deref(existing.GetEmployeeType()) != directory.AccountMarker {
			return fmt.Errorf("entra: %s: %w", spec.UPN, directory.ErrAccountConflict)
		}
		acct, err = c.patchAndRead(ctx, deref(existing.GetId()), spec, password)
		return err
	})
	if err != nil {
		return directory.Account{}, err
	}
	return acct, nil
}

// reenableKnown re-enables the account an earlier grant made, by its object id: one $batch of
// PATCH and GET instead of POST /users (400, the UPN exists) followed by that $batch. A 404
// (the account was deleted since) is directory.ErrNotFound, for EnsureAccount to create it.
// The account keeps its name even if someone renamed it: the id is what this product made.
func (c *Client) reenableKnown(ctx context.Context, applicationID string, spec directory.AccountSpec, password string) (directory.Account, error) {
	var acct directory.Account
	err := c.do(ctx, applicationID, "re-enable user "+spec.ObjectID, func(ctx context.Context) error {
		var err error
		acct, err = c.patchAndRead(ctx, spec.ObjectID, spec, password)
		return err
	})
	return acct, err
}

// patchAndRead enables the user named by ref (object id or UPN), sets its display name and
// password, and reads back its id and UPN, in one $batch of PATCH and GET: EnsureAccount's
// path for an existing account.
func (c *Client) patchAndRead(ctx context.Context, ref string, spec directory.AccountSpec, password string) (directory.Account, error) {
	op := "re-enable user " + ref
	u := models.NewUser()
	u.SetAccountEnabled(ptr(true))
	u.SetDisplayName(&spec.DisplayName)
	u.SetPasswordProfile(passwordProfile(password))
	item := c.graph.Users().ByUserId(ref)
	patch, err := item.ToPatchRequestInformation(ctx, u, nil)
	if err != nil {
		return directory.Account{}, err
	}
	get, err := item.ToGetRequestInformation(ctx, nil)
	if err != nil {
		return directory.Account{}, err
	}
	res, err := c.runSteps(ctx, []step{{Req: patch}, {Req: get}})
	if err != nil {
		return directory.Account{}, err
	}
	for i, what := range []string{"patch", "read"} {
		if !res[i].OK() {
			return directory.Account{}, res[i].Failure().Err(op + " (" + what + ")")
		}
	}
	var got struct {
		ID  string `json:"id"`
		UPN string `json:"userPrincipalName"`
	}
	if err := json.Unmarshal(res[1].Body, &got); err != nil || got.ID == "" {
		return directory.Account{}, fmt.Errorf("%s: Graph returned no user id", op)
	}
	if got.UPN == "" {
		got.UPN = spec.UPN
	}
	return directory.Account{ObjectID: got.ID, UPN: got.UPN, Created: false}, nil
}

// DisableAccount ends a grant in one $batch: PATCH the user (accountEnabled false, password
// replaced by scramble, which nobody ever sees), then POST revokeSignInSessions (it depends on
// the PATCH, so no session can start between the two; any 2xx counts: the documented 200
// and the observed 204), and DELETE each role assignment. A user or assignment that is gone
// (404) counts as done, so the call is idempotent.
func (c *Client) DisableAccount(ctx context.Context, applicationID, objectID string, assignmentIDs []string, scramble string) error {
	if objectID == "" {
		return errors.New("entra: disable account: no object id")
	}
	if err := directory.ValidPassword(scramble); err != nil {
		return fmt.Errorf("entra: disable account %s: scramble: %w", objectID, err)
	}
	ids := dedupe(assignmentIDs)
	return c.do(ctx, applicationID, "disable user "+objectID, func(ctx context.Context) error {
		u := models.NewUser()
		u.SetAccountEnabled(ptr(false))
		u.SetPasswordProfile(passwordProfile(scramble))
		user := c.graph.Users().ByUserId(objectID)
		patch, err := user.ToPatchRequestInformation(ctx, u, nil)
		if err != nil {
			return err
		}
		revoke, err := user.RevokeSignInSessions().ToPostRequestInformation(ctx, nil)
		if err != nil {
			return err
		}
		steps, err := c.deleteAssignmentSteps(ctx, []step{{Req: patch}, {Req: revoke, DependsOn: 1}}, ids)
		if err != nil {
			return err
		}
		res, err := c.runSteps(ctx, steps)
		if err != nil {
			return err
		}
		var firstErr error
		for k := range steps {
			r := &res[k]
			if r.OK() || r.Status == http.StatusNotFound {
				continue
			}
			what := "disable user " + objectID
			switch {
			case k == 1:
				what = "revoke sign-in sessions of " + objectID
			case k >= 2:
				what = "remove role assignment " + ids[k-2]
			}
			if r.Status == http.StatusFailedDependency {
				continue // reported through the PATCH it depends on
			}
			firstErr = cmp(firstErr, r.Failure().Err(what))
		}
		return firstErr
	})
}
