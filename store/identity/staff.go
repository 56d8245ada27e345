package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Reasons a sign-in is refused besides ErrNotFound (not staff).
var (
	// ErrInactive: the person was deactivated.
	ErrInactive = errors.New("deactivated")
	// ErrIdentityMismatch: the e-mail belongs to staff already linked to another Entra
	// identity (a renamed or recreated user is not the person the record names).
	ErrIdentityMismatch = errors.New("the e-mail belongs to another Entra identity")
)

// SignInIdentity is who an ID token says signed in: tid and oid identify the person; the
// e-mails (preferred_username, email) only find an unlinked staff record the first time.
type SignInIdentity struct {
	TenantID string
	ObjectID string
	Emails   []string
}

// StaffForSignIn finds the member of staff linked to (tenant, object id), or links the
// unlinked one named by an e-mail at this first sign-in. An e-mail already linked to another
// identity is ErrIdentityMismatch; a deactivated person is ErrInactive.
func (s *Store) StaffForSignIn(ctx context.Context, id SignInIdentity) (Technician, error) {
	if id.TenantID == "" || id.ObjectID == "" {
		return Technician{}, fmt.Errorf("sign-in without tid or oid: %w", sqlstore.ErrNotFound)
	}
	var m schema.Technician
	err := s.DB.NewSelect().Model(&m).Where("entra_tenant_id = ? AND entra_object_id = ?", id.TenantID, id.ObjectID).Scan(ctx)
	if err == nil {
		return activeOnly(TechnicianOf(m))
	}
	if err = sqlstore.NoRows(err, "technician", id.ObjectID); !errors.Is(err, sqlstore.ErrNotFound) {
		return Technician{}, err
	}
	for _, email := range id.Emails {
		if strings.TrimSpace(email) == "" {
			continue
		}
		t, err := s.TechnicianByEmail(ctx, email)
		if errors.Is(err, sqlstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return Technician{}, err
		}
		if t.EntraObjectID != "" {
			return Technician{}, fmt.Errorf("technician %s: %w", t.ID, ErrIdentityMismatch)
		}
		res, err := s.DB.NewUpdate().Model((*schema.Technician)(nil)).
			Set("entra_tenant_id = ?", id.TenantID).Set("entra_object_id = ?", id.ObjectID).
			Where("id = ? AND entra_object_id IS NULL", t.ID).Exec(ctx)
		if err != nil {
			if sqlstore.IsUniqueViolation(err) {
				return Technician{}, fmt.Errorf("link technician %s: %w", t.ID, ErrIdentityMismatch)
			}
			return Technician{}, fmt.Errorf("link technician: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 { // linked concurrently: read who won
			return s.StaffForSignIn(ctx, SignInIdentity{TenantID: id.TenantID, ObjectID: id.ObjectID})
		}
		t.EntraTenantID, t.EntraObjectID = id.TenantID, id.ObjectID
		return activeOnly(t)
	}
	return Technician{}, sqlstore.NotFound("technician", id.ObjectID)
}

func activeOnly(t Technician) (Technician, error) {
	if !t.Active {
		return Technician{}, fmt.Errorf("technician %s: %w", t.ID, ErrInactive)
	}
	return t, nil
}

// HasAdmin reports whether an active admin exists (JIT_BOOTSTRAP_ADMIN_EMAIL applies only
// while none does).
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	ok, err := s.DB.NewSelect().Model((*schema.Technician)(nil)).Where("role = ? AND active", RoleAdmin).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("has admin: %w", err)
	}
	return ok, nil
}

// SetTechnicianActive deactivates (or reactivates) a member of staff. Deactivating ends
// their portal sessions and revokes their API tokens in the same transaction; their live
// grants are the caller's to revoke (through the workflow).
func (s *Store) SetTechnicianActive(ctx context.Context, id string, active bool) (Technician, error) {
	now := s.Clock()
	err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model((*schema.Technician)(nil)).Set("active = ?", active).Where("id = ?", id)
		if active {
			q = q.Set("deactivated_at = NULL")
		} else {
			q = q.Set("deactivated_at = COALESCE(deactivated_at, ?)", now)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return sqlstore.NotFound("technician", id)
		}
		if active {
			return nil
		}
		if _, err := tx.NewDelete().Model((*schema.PortalSession)(nil)).Where("technician_id = ?", id).Exec(ctx); err != nil {
			return err
		}
		_, err = tx.NewUpdate().Model((*schema.APIToken)(nil)).Set("revoked_at = ?", now).
			Where("technician_id = ? AND revoked_at IS NULL", id).Exec(ctx)
		return err
	})
	if err != nil {
		if errors.Is(err, sqlstore.ErrNotFound) {
			return Technician{}, err
		}
		return Technician{}, fmt.Errorf("set technician active: %w", err)
	}
	return s.Technician(ctx, id)
}
