package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/jitaccess/jitaccess/directory"
)

// Temporary Access Pass, authentication methods and account cleaning
// (graph-facts-auth-methods.md §1, §2, §6). Passes never appear in errors or logs.

// tapPolicyID is the id of the TAP authenticationMethodConfiguration.
const tapPolicyID = "TemporaryAccessPass"

// Graph's messages for a refused TAP (graph-facts-auth-methods.md §1.4; both observed, not documented).
const (
	msgTAPPolicy   = "usercredentialpolicy does not allow"
	msgTAPLifetime = "invalid lifetimeinminutes"
)

// TAPPolicy reads the tenant's Temporary Access Pass method policy (GET
// /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass;
// needs Policy.Read.All).
func (c *Client) TAPPolicy(ctx context.Context, applicationID string) (directory.TAPPolicy, error) {
	var out directory.TAPPolicy
	err := c.do(ctx, applicationID, "read the Temporary Access Pass policy", func(ctx context.Context) error {
		p, err := c.tapPolicy(ctx)
		if err != nil {
			return err
		}
		minutes := func(v *int32) time.Duration {
			if v == nil {
				return 0
			}
			return time.Duration(*v) * time.Minute
		}
		out = directory.TAPPolicy{
			Enabled:         p.GetState() != nil && *p.GetState() == models.ENABLED_AUTHENTICATIONMETHODSTATE,
			DefaultLifetime: minutes(p.GetDefaultLifetimeInMinutes()),
			MinLifetime:     minutes(p.GetMinimumLifetimeInMinutes()),
			MaxLifetime:     minutes(p.GetMaximumLifetimeInMinutes()),
			UsableOnce:      derefBool(p.GetIsUsableOnce()),
		}
		for _, t := range p.GetIncludeTargets() {
			if deref(t.GetId()) == "all_users" {
				out.AllUsers = true
			}
		}
		return nil
	})
	return out, err
}

// tapPolicy reads the TAP authenticationMethodConfiguration.
func (c *Client) tapPolicy(ctx context.Context) (models.TemporaryAccessPassAuthenticationMethodConfigurationable, error) {
	cfg, err := c.graph.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations().
		ByAuthenticationMethodConfigurationId(tapPolicyID).Get(ctx, nil)
	if err != nil {
		return nil, err
	}
	p, ok := cfg.(models.TemporaryAccessPassAuthenticationMethodConfigurationable)
	if !ok {
		return nil, fmt.Errorf("graph returned a %T, not the Temporary Access Pass policy", cfg)
	}
	return p, nil
}

// minTAPPolicyLifetime is the smallest minimum lifetime a tenant's TAP policy can have (Graph:
// minimumLifetimeInMinutes 10 to 43,200).
const minTAPPolicyLifetime = 10

// IssueTAP creates a Temporary Access Pass for the user lasting lifetime (rounded up to a
// minute), replacing any earlier one (Graph keeps one per user): one round trip. When the
// tenant's policy does not allow that lifetime, the policy is read and the pass is issued
// with the lifetime clamped into the policy's range (TAP.ExpiresAt then differs from what
// was asked). A policy that is off or does not target the user is directory.ErrTAPPolicyDisabled.
func (c *Client) IssueTAP(ctx context.Context, applicationID, objectID string, lifetime time.Duration) (directory.TAP, error) {
	if objectID == "" || lifetime <= 0 {
		return directory.TAP{}, errors.New("entra: issue a Temporary Access Pass: need an object id and a positive lifetime")
	}
	op := "issue a Temporary Access Pass for " + objectID
	minutes := int32((lifetime + time.Minute - 1) / time.Minute)
	if minutes < minTAPPolicyLifetime {
		// No policy can allow it: ask for the policy's default lifetime (within its range, so
		// at least what was needed) instead of a refusal and a second try.
		minutes = 0
	}
	var tap directory.TAP
	post := func(ctx context.Context, minutes int32) error {
		b := models.NewTemporaryAccessPassAuthenticationMethod()
		if minutes > 0 {
			b.SetLifetimeInMinutes(&minutes)
		}
		created, err := c.graph.Users().ByUserId(objectID).Authentication().TemporaryAccessPassMethods().Post(ctx, b, nil)
		if err != nil {
			return err
		}
		tap = directory.TAP{ID: deref(created.GetId()), Pass: deref(created.GetTemporaryAccessPass()), UsableOnce: derefBool(created.GetIsUsableOnce())}
		if tap.ID == "" || tap.Pass == "" {
			return errors.New("graph created the Temporary Access Pass but returned no id or no pass")
		}
		tap.StartsAt = time.Now().UTC()
		if s := created.GetStartDateTime(); s != nil {
			tap.StartsAt = s.UTC()
		}
		n := minutes
		if l := created.GetLifetimeInMinutes(); l != nil {
			n = *l
		}
		if n <= 0 {
			return errors.New("graph created the Temporary Access Pass but returned no lifetime")
		}
		tap.ExpiresAt = tap.StartsAt.Add(time.Duration(n) * time.Minute)
		return nil
	}
	err := c.do(ctx, applicationID, op, func(ctx context.Context) error {
		err := post(ctx, minutes)
		f := failureOf(err)
		switch {
		case f == nil || f.Status != http.StatusBadRequest:
			return err
		case strings.Contains(strings.ToLower(f.Message), msgTAPPolicy):
			return fmt.Errorf("%s: %w", op, directory.ErrTAPPolicyDisabled)
		case !strings.Contains(strings.ToLower(f.Message), msgTAPLifetime):
			return err
		}
		tp, err := c.tapPolicy(ctx)
		if err != nil {
			return err
		}
		if tp.GetMinimumLifetimeInMinutes() == nil || tp.GetMaximumLifetimeInMinutes() == nil {
			return fmt.Errorf("%s: the policy refused the lifetime and gave no range", op)
		}
		return post(ctx, min(max(minutes, *tp.GetMinimumLifetimeInMinutes()), *tp.GetMaximumLifetimeInMinutes()))
	})
	if err != nil {
		return directory.TAP{}, err
	}
	return tap, nil
}

// DeleteTAP deletes a user's Temporary Access Pass: by id in one round trip, or every TAP of
// the user (list, then a $batch of DELETEs) when tapID is empty. Gone already counts as done.
func (c *Client) DeleteTAP(ctx context.Context, applicationID, objectID, tapID string) error {
	if objectID == "" {
		return errors.New("entra: delete Temporary Access Pass: no object id")
	}
	op := "delete the Temporary Access Pass of " + objectID
	return c.do(ctx, applicationID, op, func(ctx context.Context) error {
		ids := []string{tapID}
		if tapID == "" {
			list, err := c.graph.Users().ByUserId(objectID).Authentication().TemporaryAccessPassMethods().Get(ctx, nil)
			if err != nil {
				return err
			}
			ids = ids[:0]
			for _, m := range list.GetValue() {
				ids = append(ids, deref(m.GetId()))
			}
		}
		var steps []step
		for _, id := range ids {
			req, err := c.deleteMethodRequest(ctx, objectID, directory.AuthMethod{ID: id, Type: "temporaryAccessPass"})
			if err != nil {
				return err
			}
			steps = append(steps, step{Req: req})
		}
		if len(steps) == 0 {
			return nil
		}
		if len(steps) == 1 {
			err := c.adapter.SendNoContent(ctx, steps[0].Req, errorMapping())
			if statusOf(err) == http.StatusNotFound {
				return nil
			}
			return err
		}
		res, err := c.runSteps(ctx, steps)
		if err != nil {
			return err
		}
		for k := range res {
			if r := &res[k]; !r.OK() && r.Status != http.StatusNotFound {
				return r.Failure().Err(op)
			}
		}
		return nil
	})
}

// AuthMethods lists a user's authentication methods (GET /users/{id}/authentication/methods),
// the password included.
func (c *Client) AuthMethods(ctx context.Context, applicationID, objectID string) ([]directory.AuthMethod, error) {
	var out []directory.AuthMethod
	err := c.do(ctx, applicationID, "list the authentication methods of "+objectID, func(ctx context.Context) error {
		resp, err := c.graph.Users().ByUserId(objectID).Authentication().Methods().Get(ctx, nil)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, m := range resp.GetValue() {
			out = append(out, directory.AuthMethod{ID: deref(m.GetId()), Type: methodType(deref(m.GetOdataType()))})
		}
		return nil
	})
	return out, err
}

// methodType turns "#microsoft.graph.phoneAuthenticationMethod" into "phone".
func methodType(odataType string) string {
	t := strings.TrimPrefix(odataType, "#microsoft.graph.")
	return strings.TrimSuffix(t, "AuthenticationMethod")
}

// deleteMethodRequest builds DELETE /users/{id}/authentication/{type}Methods/{methodId}.
// The password and types Graph v1.0 cannot delete are an error: a cleaning must not report
// success while a method is left.
func (c *Client) deleteMethodRequest(ctx context.Context, objectID string, m directory.AuthMethod) (*abs.RequestInformation, error) {
	a := c.graph.Users().ByUserId(objectID).Authentication()
	switch m.Type {
	case "email":
		return a.EmailMethods().ByEmailAuthenticationMethodId(m.ID).ToDeleteRequestInformation(ctx, nil)
	case "fido2":
		return a.Fido2Methods().ByFido2AuthenticationMethodId(m.ID).ToDeleteRequestInformation(ctx, nil)
	case "microsoftAuthenticator":
		return a.MicrosoftAuthenticatorMethods().ByMicrosoftAuthenticatorAuthenticationMethodId(m.ID).ToDeleteRequestInformation(ctx, nil)
	case "phone":
		return a.PhoneMethods().ByPhoneAuthenticationMethodId(m.ID).ToDeleteRequestInformation(ctx, nil)
	case "softwareOath":
		return a.SoftwareOathMethods().BySoftwareOathAuthenticationMethodId(m.ID).ToDeleteRequestInformation(ctx, nil)
	case "temporaryAccessPass":
		return a.TemporaryAccessPassMethods().ByTemporaryAccessPassAuthenticationMethodId(m.ID).ToDeleteRequestInformation(ctx, nil)
	case "windowsHelloForBusiness":
		return a.WindowsHelloForBusinessMethods().ByWindowsHelloForBusinessAuthenticationMethodId(m.ID).ToDeleteRequestInformation(ctx, nil)
	case "platformCredential":
		return a.PlatformCredentialMethods().ByPlatformCredentialAuthenticationMethodId(m.ID).ToDeleteRequestInformation(ctx, nil)
	}
	return nil, fmt.Errorf("entra: cannot remove authentication method %s of type %q", m.ID, m.Type)
}

// CleanAccount prepares an existing account before it is enabled again, in two round trips:
// one $batch reads the account, its authentication methods and role assignments (an account
// without the creation marker is directory.ErrAccountConflict, and nothing is removed), a second deletes every
// method except the password, deletes every role assignment whose role is not in keepRoleIDs
// (tenant scope), and revokes its sign-in sessions. It returns what it removed, for the audit
// log; a method or assignment already gone counts as removed.
func (c *Client) CleanAccount(ctx context.Context, applicationID, objectID string, keepRoleIDs []string) (directory.Cleanup, error) {
	var out directory.Cleanup
	if objectID == "" {
		return out, errors.New("entra: clean account: no object id")
	}
	op := "clean account " + objectID
	err := c.do(ctx, applicationID, op, func(ctx context.Context) error {
		out = directory.Cleanup{}
		u := c.graph.Users().ByUserId(objectID)
		listMethods, err := u.Authentication().Methods().ToGetRequestInformation(ctx, nil)
		if err != nil {
			return err
		}
		listRoles, err := c.graph.RoleManagement().Directory().RoleAssignments().ToGetRequestInformation(ctx, assignmentsOf(objectID))
		if err != nil {
			return err
		}
		readUser, err := u.ToGetRequestInformation(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName", "employeeType"}},
		})
		if err != nil {
			return err
		}
		res, err := c.runSteps(ctx, []step{{Req: listMethods}, {Req: listRoles}, {Req: readUser}})
		if err != nil {
			return err
		}
		for i, what := range []string{"list methods", "list role assignments", "read the account"} {
			if !res[i].OK() {
				return res[i].Failure().Err(op + " (" + what + ")")
			}
		}
		var info struct {
			ID           string `json:"id"`
			UPN          string `json:"userPrincipalName"`
			EmployeeType string `json:"employeeType"`
		}
		if json.Unmarshal(res[2].Body, &info) != nil {
			return fmt.Errorf("%s: Graph's answer could not be decoded", op)
		}
		// Only an account jitaccess created is cleaned (and then enabled).
		if err := directory.CheckAdoption(directory.AccountInfo{ObjectID: info.ID, UPN: info.UPN, EmployeeType: info.EmployeeType}, objectID); err != nil {
			return err
		}
		var methods struct {
			Value []struct {
				ID   string `json:"id"`
				Type string `json:"@odata.type"`
			} `json:"value"`
		}
		roles, more, err := assignmentPage(res[1].Body)
		if err != nil || json.Unmarshal(res[0].Body, &methods) != nil {
			return fmt.Errorf("%s: Graph's answer could not be decoded", op)
		}
		if more {
			return fmt.Errorf("%s: the account has more role assignments than one page", op)
		}
		revoke, err := u.RevokeSignInSessions().ToPostRequestInformation(ctx, nil)
		if err != nil {
			return err
		}
		steps := []step{{Req: revoke}}
		var removedM []directory.AuthMethod
		for _, m := range methods.Value {
			am := directory.AuthMethod{ID: m.ID, Type: methodType(m.Type)}
			if am.Type == "password" {
				continue
			}
			req, err := c.deleteMethodRequest(ctx, objectID, am)
			if err != nil {
				return err
			}
			steps, removedM = append(steps, step{Req: req}), append(removedM, am)
		}
		var removedA []directory.RoleAssignment
		for _, a := range roles {
			if a.DirectoryScopeID == directoryScope && containsFold(keepRoleIDs, a.RoleID) {
				continue
			}
			removedA = append(removedA, a)
		}
		steps, err = c.deleteAssignmentSteps(ctx, steps, assignmentIDs(removedA))
		if err != nil {
			return err
		}
		res, err = c.runSteps(ctx, steps)
		if err != nil {
			return err
		}
		var firstErr error
		for k := range steps {
			if r := &res[k]; !r.OK() && r.Status != http.StatusNotFound {
				firstErr = cmp(firstErr, r.Failure().Err(op))
			}
		}
		if firstErr != nil {
			return firstErr
		}
		out = directory.Cleanup{RemovedMethods: removedM, RemovedAssignments: removedA, SessionsRevoked: true}
		return nil
	})
	return out, err
}

func assignmentIDs(as []directory.RoleAssignment) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// Account reads what the adoption rule needs of the account with this user principal name
// (GET /users/{upn}?$select=id,userPrincipalName,employeeType,accountEnabled); a missing
// account is directory.ErrNotFound.
func (c *Client) Account(ctx context.Context, applicationID, upn string) (directory.AccountInfo, error) {
	var out directory.AccountInfo
	err := c.do(ctx, applicationID, "read account "+upn, func(ctx context.Context) error {
		u, err := c.graph.Users().ByUserId(upn).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName", "employeeType", "accountEnabled"}},
		})
		if err != nil {
			return err
		}
		out = directory.AccountInfo{ObjectID: deref(u.GetId()), UPN: deref(u.GetUserPrincipalName()),
			EmployeeType: deref(u.GetEmployeeType()), AccountEnabled: derefBool(u.GetAccountEnabled())}
		return nil
	})
	return out, err
}

// CheckAdoption refuses to let jitaccess enable an account it did not create: not found is
// nil (the account will be created), otherwise directory.CheckAdoption on what Graph holds.
func (c *Client) CheckAdoption(ctx context.Context, applicationID, upn, recordedObjectID string) error {
	acct, err := c.Account(ctx, applicationID, upn)
	if errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return directory.CheckAdoption(acct, recordedObjectID)
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), v) {
			return true
		}
	}
	return false
}
