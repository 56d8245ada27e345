package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra/batch"
)

// MaxAccountStates is how many accounts one AccountStates call reads: two requests each
// (the user, its role assignments), one $batch of 20.
const MaxAccountStates = batch.MaxItems / 2

// AccountStates reads accounts by object id (a UPN works for the user, but role assignments
// are listed by object id only) in one $batch (at most MaxAccountStates of
// them): GET /users/{id}?$select=id,userPrincipalName,accountEnabled,signInSessionsValidFromDateTime and GET
// roleAssignments?$filter=principalId eq '{id}'. A user that does not exist (404) has
// Exists false. Items Graph still throttles after Config.ThrottleWait make the whole call
// a *directory.ThrottledError, so the caller slows down on Retry-After.
func (c *Client) AccountStates(ctx context.Context, applicationID string, objectIDs []string) ([]directory.AccountState, error) {
	ids := dedupe(objectIDs)
	if len(ids) > MaxAccountStates {
		return nil, fmt.Errorf("entra: account states: %d accounts, at most %d per call", len(ids), MaxAccountStates)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]directory.AccountState, len(ids))
	err := c.do(ctx, applicationID, "read account states", func(ctx context.Context) error {
		steps := make([]step, 0, 2*len(ids))
		for _, id := range ids {
			get, err := c.graph.Users().ByUserId(id).ToGetRequestInformation(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName", "accountEnabled", "signInSessionsValidFromDateTime"}},
			})
			if err != nil {
				return err
			}
			list, err := c.graph.RoleManagement().Directory().RoleAssignments().ToGetRequestInformation(ctx, assignmentsOf(id))
			if err != nil {
				return err
			}
			steps = append(steps, step{Req: get}, step{Req: list})
		}
		res, err := c.runSteps(ctx, steps)
		if err != nil {
			return err
		}
		for k, id := range ids {
			st := directory.AccountState{ObjectID: id}
			user, roles := &res[2*k], &res[2*k+1]
			switch {
			case user.OK():
				var u struct {
					ID             string `json:"id"`
					UPN            string `json:"userPrincipalName"`
					AccountEnabled *bool  `json:"accountEnabled"`
					ValidFrom      string `json:"signInSessionsValidFromDateTime"`
				}
				if err := json.Unmarshal(user.Body, &u); err != nil {
					return fmt.Errorf("read user %s: %w", id, err)
				}
				st.Exists, st.UPN, st.Enabled = true, u.UPN, u.AccountEnabled == nil || *u.AccountEnabled
				if t, err := time.Parse(time.RFC3339, u.ValidFrom); err == nil {
					st.SessionsValidFrom = t.UTC()
				}
				if u.ID != "" {
					st.ObjectID = u.ID // the caller may have named the user by UPN
				}
			case user.Status == http.StatusNotFound:
			default:
				return user.Failure().Err("read user " + id)
			}
			switch {
			case roles.OK():
				as, more, err := assignmentPage(roles.Body)
				if err != nil {
					return fmt.Errorf("read role assignments of %s: %w", id, err)
				}
				if more {
					// More than a page of assignments: read them all the plain way.
					if as, err = c.listAssignments(ctx, id); err != nil {
						return err
					}
				}
				st.Assignments = as
			case roles.Status == http.StatusNotFound && !st.Exists:
			default:
				return roles.Failure().Err("read role assignments of " + id)
			}
			out[k] = st
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
