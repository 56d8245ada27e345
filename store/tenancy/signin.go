package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Sign-in methods given to technicians (application field sign_in_method, SPEC §10).
const (
	SignInPassword       = "password"
	SignInTAP            = "tap"
	SignInPasswordAndTAP = "password_and_tap"
	// DefaultSignInMethod is what a new application gets: a Temporary Access Pass satisfies
	// Microsoft's mandatory MFA for the admin portals, the password still serves other clients.
	DefaultSignInMethod = SignInPasswordAndTAP
)

// ErrInvalidSignInMethod is a sign_in_method other than password, tap, password_and_tap.
var ErrInvalidSignInMethod = errors.New("sign_in_method must be password, tap or password_and_tap")

// UsesTAP reports whether the method issues a Temporary Access Pass.
func UsesTAP(method string) bool { return method == SignInTAP || method == SignInPasswordAndTAP }

// TAPPolicyReader reads a tenant's Temporary Access Pass policy live (*entra.Client).
type TAPPolicyReader interface {
	TAPPolicy(ctx context.Context, applicationID string) (directory.TAPPolicy, error)
}

// CheckTAPPolicy reads the tenant's policy live when method issues a TAP, and refuses with
// directory.ErrTAPPolicyDisabled (SPEC code tap_policy_disabled; the message names the
// setting to change) when the policy is off. The API calls it before saving sign_in_method.
func CheckTAPPolicy(ctx context.Context, policy TAPPolicyReader, applicationID, method string) error {
	if !UsesTAP(method) {
		return nil
	}
	p, err := policy.TAPPolicy(ctx, applicationID)
	if err != nil {
		return fmt.Errorf("read the tenant's Temporary Access Pass policy: %w", err)
	}
	if !p.Enabled {
		return fmt.Errorf("sign_in_method %q: %w", method, directory.ErrTAPPolicyDisabled)
	}
	return nil
}

// SetSignInMethod saves an application's sign-in method after CheckTAPPolicy passed.
func (s *Store) SetSignInMethod(ctx context.Context, applicationID, method string, policy TAPPolicyReader) error {
	switch method {
	case SignInPassword, SignInTAP, SignInPasswordAndTAP:
	default:
		return ErrInvalidSignInMethod
	}
	if err := CheckTAPPolicy(ctx, policy, applicationID, method); err != nil {
		return err
	}
	res, err := s.DB.NewUpdate().Table("applications").
		Set("sign_in_method = ?", method).Set("updated_at = ?", s.Clock()).
		Where("id = ?", applicationID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save sign_in_method: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlstore.NotFound("application", applicationID)
	}
	return nil
}

// SignInMethod returns an application's sign-in method.
func (s *Store) SignInMethod(ctx context.Context, applicationID string) (string, error) {
	var m string
	err := s.DB.NewSelect().Table("applications").Column("sign_in_method").Where("id = ?", applicationID).Scan(ctx, &m)
	if err != nil {
		return "", sqlstore.NoRows(err, "application", applicationID)
	}
	return m, nil
}

// PinnedEntraTenant returns the Entra tenant id an application is pinned to ("" before its
// first consent).
func (s *Store) PinnedEntraTenant(ctx context.Context, applicationID string) (string, error) {
	return PinnedTenant(ctx, s.DB, applicationID)
}

// PinnedTenant is PinnedEntraTenant inside the caller's transaction.
func PinnedTenant(ctx context.Context, db bun.IDB, applicationID string) (string, error) {
	var t sql.NullString
	err := db.NewSelect().Table("applications").Column("entra_tenant_id").Where("id = ?", applicationID).Scan(ctx, &t)
	if err != nil {
		return "", sqlstore.NoRows(err, "application", applicationID)
	}
	return t.String, nil
}

// pinTenant is the consent rule (issue #15 finding 2): the first consent pins the application
// to its Entra tenant; a consent from another tenant is *directory.TenantMismatchError naming
// both, and nothing is stored. To move a customer to another tenant, create a new application.
func pinTenant(ctx context.Context, tx bun.IDB, applicationID, entraTenantID string) error {
	pinned, err := PinnedTenant(ctx, tx, applicationID)
	if err != nil {
		return err
	}
	if pinned != "" {
		if !strings.EqualFold(pinned, entraTenantID) {
			return &directory.TenantMismatchError{Pinned: pinned, Got: entraTenantID}
		}
		return nil
	}
	if _, err := tx.NewUpdate().Table("applications").Set("entra_tenant_id = ?", entraTenantID).
		Where("id = ?", applicationID).Exec(ctx); err != nil {
		return fmt.Errorf("pin the Entra tenant: %w", err)
	}
	return nil
}
