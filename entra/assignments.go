package entra

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra/batch"
	"github.com/jitaccess/jitaccess/entra/grapherr"
)

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
				todo, steps = append(todo, i), append(steps, step{Req: req})
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
			if r.OK() {
				var got struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(r.Body, &got) != nil || got.ID == "" {
					return fmt.Errorf("%s: Graph returned no assignment id for role %s", op, roles[i])
				}
				ids[i] = got.ID
				continue
			}
			f := r.Failure()
			switch {
			case f.IsConflictingObject():
				conflicts = append(conflicts, i)
			case f.Status == http.StatusNotFound && f.Code == grapherr.CodeResourceNotFound &&
				strings.Contains(strings.ToLower(f.Message), strings.ToLower(roles[i])):
				// The role definition itself does not exist: waiting does not help.
				firstErr = cmp(firstErr, f.Err(op+": role "+roles[i]))
			case f.Status == http.StatusNotFound:
				lagging = true // the principal is not replicated yet
			default:
				firstErr = cmp(firstErr, f.Err(op+": role "+roles[i]))
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
		if err := batch.Sleep(ctx, backoff); err != nil {
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
	resp, err := c.graph.RoleManagement().Directory().RoleAssignments().Get(ctx, assignmentsOf(objectID))
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

// assignmentsOf filters the tenant's role assignments to one principal's.
func assignmentsOf(objectID string) *rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration {
	filter := "principalId eq '" + strings.ReplaceAll(objectID, "'", "''") + "'"
	return &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: &filter}}
}

// assignmentPage decodes a page of role assignments answered to a $batch item; more says
// that Graph has further pages.
func assignmentPage(body []byte) (as []directory.RoleAssignment, more bool, err error) {
	var page struct {
		Value []struct {
			ID               string `json:"id"`
			RoleDefinitionID string `json:"roleDefinitionId"`
			PrincipalID      string `json:"principalId"`
			DirectoryScopeID string `json:"directoryScopeId"`
		} `json:"value"`
		NextLink string `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, false, err
	}
	for _, a := range page.Value {
		as = append(as, directory.RoleAssignment{ID: a.ID, RoleID: a.RoleDefinitionID, PrincipalID: a.PrincipalID, DirectoryScopeID: a.DirectoryScopeID})
	}
	return as, page.NextLink != "", nil
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
			if r := &res[k]; !r.OK() && r.Status != http.StatusNotFound {
				firstErr = cmp(firstErr, r.Failure().Err("remove role assignment "+id))
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
		steps = append(steps, step{Req: req})
	}
	return steps, nil
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
