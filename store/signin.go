package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/directory"
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
	res, err := s.db.NewUpdate().Table("applications").
		Set("sign_in_method = ?", method).Set("updated_at = ?", s.clock()).
		Where("id = ?", applicationID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save sign_in_method: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("application", applicationID)
	}
	return nil
}

// SignInMethod returns an application's sign-in method.
func (s *Store) SignInMethod(ctx context.Context, applicationID string) (string, error) {
	var m string
	err := s.db.NewSelect().Table("applications").Column("sign_in_method").Where("id = ?", applicationID).Scan(ctx, &m)
	if err != nil {
		return "", noRows(err, "application", applicationID)
	}
	return m, nil
}

// PinnedEntraTenant returns the Entra tenant id an application is pinned to ("" before its
// first consent).
func (s *Store) PinnedEntraTenant(ctx context.Context, applicationID string) (string, error) {
	return pinnedTenant(ctx, s.db, applicationID)
}

func pinnedTenant(ctx context.Context, db bun.IDB, applicationID string) (string, error) {
	var t sql.NullString
	err := db.NewSelect().Table("applications").Column("entra_tenant_id").Where("id = ?", applicationID).Scan(ctx, &t)
	if err != nil {
		return "", noRows(err, "application", applicationID)
	}
	return t.String, nil
}

// pinTenant is the consent rule (issue #15 finding 2): the first consent pins the application
// to its Entra tenant; a consent from another tenant is *directory.TenantMismatchError naming
// both, and nothing is stored. To move a customer to another tenant, create a new application.
func pinTenant(ctx context.Context, tx bun.IDB, applicationID, entraTenantID string) error {
	pinned, err := pinnedTenant(ctx, tx, applicationID)
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

// PinGrantTenant records on a grant the Entra tenant its application is pinned to (once;
// later calls return what was recorded) and returns it. Every Graph call for the grant is
// then bound to it with entra.WithTenant. An application never consented has none: "".
func (s *Store) PinGrantTenant(ctx context.Context, grantID string) (string, error) {
	var out string
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var row struct {
			Tenant sql.NullString `bun:"entra_tenant_id"`
			App    string         `bun:"application_id"`
		}
		if err := tx.NewSelect().Table("grants").Column("entra_tenant_id", "application_id").
			Where("id = ?", grantID).Scan(ctx, &row); err != nil {
			return noRows(err, "grant", grantID)
		}
		if row.Tenant.String != "" {
			out = row.Tenant.String
			return nil
		}
		pinned, err := pinnedTenant(ctx, tx, row.App)
		if err != nil || pinned == "" {
			return err
		}
		if _, err := tx.NewUpdate().Table("grants").Set("entra_tenant_id = ?", pinned).
			Where("id = ? AND entra_tenant_id IS NULL", grantID).Exec(ctx); err != nil {
			return fmt.Errorf("record the grant's Entra tenant: %w", err)
		}
		out = pinned
		return nil
	})
	return out, err
}

func tapAAD(grantID string) string { return "temporary_access_pass:" + grantID }

// SaveTAP stores a grant's Temporary Access Pass sealed (bound to the grant) beside its
// password, with its id and expiry. The credential row must exist (SaveCredential first).
func (s *Store) SaveTAP(ctx context.Context, grantID string, tap directory.TAP) error {
	sealed, err := s.sealer.Seal(tap.Pass, tapAAD(grantID))
	if err != nil {
		return fmt.Errorf("seal temporary access pass: %w", err)
	}
	res, err := s.db.NewUpdate().Table("grant_credentials").
		Set("temporary_access_pass_sealed = ?", sealed).
		Set("tap_id = ?", tap.ID).
		Set("tap_expires_at = ?", tap.ExpiresAt.UTC()).
		Where("grant_id = ?", grantID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save temporary access pass: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("credential", grantID)
	}
	return nil
}

// GrantTAP is a grant's Temporary Access Pass. Pass is a secret.
type GrantTAP struct {
	ID        string
	Pass      string
	ExpiresAt time.Time
}

// TAP returns a grant's unsealed Temporary Access Pass; ErrNotFound when it has none (the
// application does not issue one, or the account was disabled).
func (s *Store) TAP(ctx context.Context, grantID string) (GrantTAP, error) {
	var row struct {
		Sealed    sql.NullString `bun:"temporary_access_pass_sealed"`
		ID        sql.NullString `bun:"tap_id"`
		ExpiresAt sql.NullTime   `bun:"tap_expires_at"`
	}
	if err := s.db.NewSelect().Table("grant_credentials").Column("temporary_access_pass_sealed", "tap_id", "tap_expires_at").
		Where("grant_id = ?", grantID).Scan(ctx, &row); err != nil {
		return GrantTAP{}, noRows(err, "temporary access pass", grantID)
	}
	if !row.Sealed.Valid || row.Sealed.String == "" {
		return GrantTAP{}, notFound("temporary access pass", grantID)
	}
	plain, err := s.sealer.Open(row.Sealed.String, tapAAD(grantID))
	if err != nil {
		return GrantTAP{}, fmt.Errorf("open temporary access pass of %s: %w", grantID, err)
	}
	return GrantTAP{ID: row.ID.String, Pass: plain, ExpiresAt: row.ExpiresAt.Time.UTC()}, nil
}

// TAPID returns the id of a grant's Temporary Access Pass without unsealing it ("" when none),
// for DeleteTAP at disable.
func (s *Store) TAPID(ctx context.Context, grantID string) (string, error) {
	var id sql.NullString
	err := s.db.NewSelect().Table("grant_credentials").Column("tap_id").Where("grant_id = ?", grantID).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read temporary access pass id: %w", err)
	}
	return id.String, nil
}
