package entra

import (
	"context"
	"net/http"
	"sort"
	"strings"

	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra/token"
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
	actx := token.ForApplication(ctx, applicationID)
	err := fn(actx)
	if statusOf(err) == http.StatusUnauthorized {
		c.tokens.Drop(applicationID)
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
