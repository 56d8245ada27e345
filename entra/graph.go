package entra

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/jitaccess/jitaccess/directory"
)

// directoryScope is the tenant-wide scope of a directory role assignment.
const directoryScope = "/"

// do runs one Graph operation for an application: it puts the application on the context
// (the token provider reads it there), retries once with a fresh access token when Graph
// answers 401 (token revoked or expired early), and maps errors to package directory's.
func (c *Client) do(ctx context.Context, applicationID, op string, fn func(ctx context.Context) error) error {
	if c.initErr != nil {
		return c.initErr
	}
	actx := withApp(ctx, applicationID)
	err := fn(actx)
	if statusOf(err) == http.StatusUnauthorized {
		c.dropAccessToken(applicationID)
		err = fn(actx)
	}
	return mapGraphError(op, err)
}

// Domains lists the tenant's domains (GET /domains).
func (c *Client) Domains(ctx context.Context, applicationID string) ([]directory.Domain, error) {
	var out []directory.Domain
	err := c.do(ctx, applicationID, "list domains", func(ctx context.Context) error {
		out = out[:0]
		resp, err := c.graph.Domains().Get(ctx, nil)
		if err != nil {
			return err
		}
		it, err := msgraphgocore.NewPageIterator[models.Domainable](resp, c.adapter, models.CreateDomainCollectionResponseFromDiscriminatorValue)
		if err != nil {
			return err
		}
		return it.Iterate(ctx, func(d models.Domainable) bool {
			out = append(out, directory.Domain{
				ID:                 deref(d.GetId()),
				AuthenticationType: deref(d.GetAuthenticationType()),
				IsVerified:         derefBool(d.GetIsVerified()),
				IsDefault:          derefBool(d.GetIsDefault()),
				IsInitial:          derefBool(d.GetIsInitial()),
			})
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Roles lists the tenant's built-in directory roles (GET roleDefinitions, isBuiltIn
// filtered here), sorted by name. Role.ID is the template id, which for built-in roles
// equals the definition id and is the same in every tenant.
func (c *Client) Roles(ctx context.Context, applicationID string) ([]directory.Role, error) {
	var out []directory.Role
	err := c.do(ctx, applicationID, "list directory roles", func(ctx context.Context) error {
		out = out[:0]
		resp, err := c.graph.RoleManagement().Directory().RoleDefinitions().Get(ctx, nil)
		if err != nil {
			return err
		}
		it, err := msgraphgocore.NewPageIterator[models.UnifiedRoleDefinitionable](resp, c.adapter, models.CreateUnifiedRoleDefinitionCollectionResponseFromDiscriminatorValue)
		if err != nil {
			return err
		}
		return it.Iterate(ctx, func(r models.UnifiedRoleDefinitionable) bool {
			if !derefBool(r.GetIsBuiltIn()) {
				return true
			}
			id := deref(r.GetTemplateId())
			if id == "" {
				id = deref(r.GetId())
			}
			out = append(out, directory.Role{ID: id, DisplayName: deref(r.GetDisplayName()), Description: deref(r.GetDescription())})
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DisplayName < out[j].DisplayName })
	return out, nil
}

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
		if f := failureOf(err); f == nil || !f.isDuplicateUPN() {
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
	res, err := c.runSteps(ctx, []step{{req: patch}, {req: get}})
	if err != nil {
		return directory.Account{}, err
	}
	for i, what := range []string{"patch", "read"} {
		if !res[i].ok() {
			return directory.Account{}, res[i].failure().toError(op + " (" + what + ")")
		}
	}
	var got struct {
		ID  string `json:"id"`
		UPN string `json:"userPrincipalName"`
	}
	if err := json.Unmarshal(res[1].body, &got); err != nil || got.ID == "" {
		return directory.Account{}, fmt.Errorf("%s: Graph returned no user id", op)
	}
	if got.UPN == "" {
		got.UPN = spec.UPN
	}
	return directory.Account{ObjectID: got.ID, UPN: got.UPN, Created: false}, nil
}

// AssignRoles assigns built-in directory roles to a principal at the tenant scope with one
// $batch of POST roleAssignments (split by 20), and returns the assignment ids in the order
// of roleIDs (duplicates removed). Idempotent: Graph's 400 "conflicting object" for a pair
// already assigned counts as success, its id read back with one list request.
//
// Right after a user is created, Entra answers 404 Request_ResourceNotFound for that
// principal for tens of seconds: those items are resent for up to Config.ReplicationWait,
// then *directory.ReplicationLagError is returned for the caller's retry policy. Items still
// throttled give *directory.ThrottledError. On error the ids assigned so far are returned.
func (c *Client) AssignRoles(ctx context.Context, applicationID, objectID string, roleIDs []string) ([]string, error) {
	roles := dedupe(roleIDs)
	if objectID == "" || len(roles) == 0 {
		return nil, fmt.Errorf("entra: assign roles: need a principal id and at least one role")
	}
	ids := make([]string, len(roles))
	err := c.do(ctx, applicationID, "assign roles to "+objectID, func(ctx context.Context) error {
		return c.assign(ctx, objectID, roles, ids)
	})
	var done []string
	for _, id := range ids {
		if id != "" {
			done = append(done, id)
		}
	}
	if err != nil {
		return done, err
	}
	return ids, nil
}

func (c *Client) assign(ctx context.Context, objectID string, roles, ids []string) error {
	op := "assign roles to " + objectID
	lagDeadline := time.Now().Add(max(c.cfg.ReplicationWait, 0))
	backoff := 500 * time.Millisecond
	var conflicts []int
	for {
		var todo []int
		var steps []step
		for i, id := range ids {
			if id == "" && !contains(conflicts, i) {
				ra := models.NewUnifiedRoleAssignment()
				ra.SetOdataType(ptr("#microsoft.graph.unifiedRoleAssignment"))
				ra.SetRoleDefinitionId(&roles[i])
				ra.SetPrincipalId(&objectID)
				ra.SetDirectoryScopeId(ptr(directoryScope))
				req, err := c.graph.RoleManagement().Directory().RoleAssignments().ToPostRequestInformation(ctx, ra, nil)
				if err != nil {
					return err
				}
				todo, steps = append(todo, i), append(steps, step{req: req})
			}
		}
		if len(steps) == 0 {
			break
		}
		res, err := c.runSteps(ctx, steps)
		if err != nil {
			return err
		}
		var lagging bool
		var firstErr error
		for k, i := range todo {
			r := &res[k]
			if r.ok() {
				var got struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(r.body, &got) != nil || got.ID == "" {
					return fmt.Errorf("%s: Graph returned no assignment id for role %s", op, roles[i])
				}
				ids[i] = got.ID
				continue
			}
			f := r.failure()
			switch {
			case f.isConflictingObject():
				conflicts = append(conflicts, i)
			case f.status == http.StatusNotFound && f.code == codeResourceNotFound &&
				strings.Contains(strings.ToLower(f.message), strings.ToLower(roles[i])):
				// The role definition itself does not exist: waiting does not help.
				firstErr = cmp(firstErr, f.toError(op+": role "+roles[i]))
			case f.status == http.StatusNotFound:
				lagging = true // the principal is not replicated yet
			default:
				firstErr = cmp(firstErr, f.toError(op+": role "+roles[i]))
			}
		}
		if firstErr != nil {
			return firstErr
		}
		if !lagging {
			break
		}
		if time.Now().Add(backoff).After(lagDeadline) {
			return &directory.ReplicationLagError{Op: op, ObjectID: objectID}
		}
		if err := sleep(ctx, backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, 4*time.Second)
	}
	if len(conflicts) == 0 {
		return nil
	}
	// Already assigned (a retried activity): read the real ids back.
	existing, err := c.listAssignments(ctx, objectID)
	if err != nil {
		return err
	}
	for _, i := range conflicts {
		for _, a := range existing {
			if strings.EqualFold(a.RoleID, roles[i]) && a.DirectoryScopeID == directoryScope {
				ids[i] = a.ID
				break
			}
		}
		if ids[i] == "" {
			// Not listed yet (replication): Graph's assignment ids are deterministic.
			ids[i] = AssignmentID(roles[i], objectID)
		}
	}
	return nil
}

// ListAssignments lists the directory role assignments of a principal
// (GET roleAssignments?$filter=principalId eq '…').
func (c *Client) ListAssignments(ctx context.Context, applicationID, objectID string) ([]directory.RoleAssignment, error) {
	var out []directory.RoleAssignment
	err := c.do(ctx, applicationID, "list role assignments of "+objectID, func(ctx context.Context) error {
		var err error
		out, err = c.listAssignments(ctx, objectID)
		return err
	})
	return out, err
}

func (c *Client) listAssignments(ctx context.Context, objectID string) ([]directory.RoleAssignment, error) {
	filter := "principalId eq '" + strings.ReplaceAll(objectID, "'", "''") + "'"
	resp, err := c.graph.RoleManagement().Directory().RoleAssignments().Get(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: &filter},
	})
	if err != nil {
		return nil, err
	}
	it, err := msgraphgocore.NewPageIterator[models.UnifiedRoleAssignmentable](resp, c.adapter, models.CreateUnifiedRoleAssignmentCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return nil, err
	}
	var out []directory.RoleAssignment
	err = it.Iterate(ctx, func(a models.UnifiedRoleAssignmentable) bool {
		out = append(out, directory.RoleAssignment{
			ID:               deref(a.GetId()),
			RoleID:           deref(a.GetRoleDefinitionId()),
			PrincipalID:      deref(a.GetPrincipalId()),
			DirectoryScopeID: deref(a.GetDirectoryScopeId()),
		})
		return true
	})
	return out, err
}

// RemoveAssignments deletes role assignments with one $batch of DELETEs (split by 20);
// an assignment that is already gone (404) counts as removed.
func (c *Client) RemoveAssignments(ctx context.Context, applicationID string, assignmentIDs []string) error {
	ids := dedupe(assignmentIDs)
	if len(ids) == 0 {
		return nil
	}
	return c.do(ctx, applicationID, "remove role assignments", func(ctx context.Context) error {
		steps, err := c.deleteAssignmentSteps(ctx, nil, ids)
		if err != nil {
			return err
		}
		res, err := c.runSteps(ctx, steps)
		if err != nil {
			return err
		}
		var firstErr error
		for k, id := range ids {
			if r := &res[k]; !r.ok() && r.status != http.StatusNotFound {
				firstErr = cmp(firstErr, r.failure().toError("remove role assignment "+id))
			}
		}
		return firstErr
	})
}

// deleteAssignmentSteps appends a DELETE batch step for each role assignment id to steps.
func (c *Client) deleteAssignmentSteps(ctx context.Context, steps []step, ids []string) ([]step, error) {
	for _, id := range ids {
		req, err := c.graph.RoleManagement().Directory().RoleAssignments().ByUnifiedRoleAssignmentId(id).ToDeleteRequestInformation(ctx, nil)
		if err != nil {
			return nil, err
		}
		steps = append(steps, step{req: req})
	}
	return steps, nil
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
		steps, err := c.deleteAssignmentSteps(ctx, []step{{req: patch}, {req: revoke, dependsOn: 1}}, ids)
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
			if r.ok() || r.status == http.StatusNotFound {
				continue
			}
			what := "disable user " + objectID
			switch {
			case k == 1:
				what = "revoke sign-in sessions of " + objectID
			case k >= 2:
				what = "remove role assignment " + ids[k-2]
			}
			if r.status == http.StatusFailedDependency {
				continue // reported through the PATCH it depends on
			}
			firstErr = cmp(firstErr, r.failure().toError(what))
		}
		return firstErr
	})
}

// AssignmentID is the id Graph gives the tenant-scope assignment of a role to a principal:
// base64url of the two GUIDs in Microsoft's byte order (first three fields little-endian)
// followed by "-1" (inferred from documented ids; e.g. Global Administrator's start
// "lAPpYvVpN0KRkAEhdxReE"). Only a fallback: AssignRoles reads real ids back.
func AssignmentID(roleDefinitionID, principalID string) string {
	a, okA := guidBytes(roleDefinitionID)
	b, okB := guidBytes(principalID)
	if !okA || !okB {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(append(a, b...)) + "-1"
}

func guidBytes(s string) ([]byte, bool) {
	h := strings.ReplaceAll(s, "-", "")
	raw, err := hex.DecodeString(h)
	if err != nil || len(raw) != 16 {
		return nil, false
	}
	// Data1 (4 bytes), Data2 (2), Data3 (2) are little-endian in Microsoft's layout.
	raw[0], raw[1], raw[2], raw[3] = raw[3], raw[2], raw[1], raw[0]
	raw[4], raw[5] = raw[5], raw[4]
	raw[6], raw[7] = raw[7], raw[6]
	return raw, true
}

func passwordProfile(password string) models.PasswordProfileable {
	p := models.NewPasswordProfile()
	p.SetPassword(&password)
	p.SetForceChangePasswordNextSignIn(ptr(false))
	return p
}

func ptr[T any](v T) *T { return &v }

func derefBool(b *bool) bool { return b != nil && *b }

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	var out []string
	for _, s := range in {
		k := strings.ToLower(strings.TrimSpace(s))
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// cmp keeps the first error.
func cmp(first, next error) error {
	if first != nil {
		return first
	}
	return next
}
