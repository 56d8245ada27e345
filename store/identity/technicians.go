package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Roles of MSP staff.
const (
	RoleAdmin      = "admin"
	RoleTechnician = "technician"
	RoleAuditor    = "auditor" // read-only: grants, audit events, reports (see package permission)
)

// ErrUnauthenticated means a bearer token is unknown.
var ErrUnauthenticated = errors.New("unknown API token")

// tokenTouchInterval limits how often a token's last_used_at is written, so that
// authenticating stays a single read on the hot path.
const tokenTouchInterval = time.Minute

// TechnicianOf is the Technician a row of the technicians table holds.
func TechnicianOf(m schema.Technician) Technician {
	return Technician{ID: m.ID, Email: m.Email, DisplayName: m.DisplayName, Role: m.Role, CreatedAt: sqlstore.UTC(m.CreatedAt),
		Active: m.Active, DeactivatedAt: sqlstore.UTC(m.DeactivatedAt), EntraTenantID: m.EntraTenantID, EntraObjectID: m.EntraObjectID}
}

// NormalizeEmail is the stored form of an e-mail address (trimmed, lowercase).
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateTechnician adds a member of the MSP's staff and a first API token, returned in plain
// text once. A duplicate e-mail is ErrConflict.
func (s *Store) CreateTechnician(ctx context.Context, email, displayName, role string) (Technician, string, error) {
	if role == "" {
		role = RoleTechnician
	}
	m := schema.Technician{ID: sqlstore.NewID("tec"), Email: NormalizeEmail(email), DisplayName: strings.TrimSpace(displayName), Role: role, CreatedAt: s.Clock(), Active: true}
	plain, hash := seal.NewToken()
	err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&m).Exec(ctx); err != nil {
			return err
		}
		_, err := insertToken(ctx, tx, schema.APIToken{TechnicianID: m.ID, Hash: hash, Name: "first token", CreatedAt: s.Clock()})
		return err
	})
	if err != nil {
		if sqlstore.IsUniqueViolation(err) {
			return Technician{}, "", fmt.Errorf("technician %q: %w", m.Email, sqlstore.ErrConflict)
		}
		return Technician{}, "", fmt.Errorf("create technician: %w", err)
	}
	return TechnicianOf(m), plain, nil
}

func insertToken(ctx context.Context, db bun.IDB, tok schema.APIToken) (schema.APIToken, error) {
	tok.ID = sqlstore.NewID("tok")
	_, err := db.NewInsert().Model(&tok).Exec(ctx)
	return tok, err
}

// AddToken registers an API token given in plain text (e.g. JIT_BOOTSTRAP_ADMIN_TOKEN) for a
// technician. Registering a token that already exists for the same technician is a no-op.
func (s *Store) AddToken(ctx context.Context, technicianID, plain string) error {
	hash := seal.HashToken(plain)
	var existing schema.APIToken
	err := s.DB.NewSelect().Model(&existing).Where("hash = ?", hash).Scan(ctx)
	if err == nil {
		if existing.TechnicianID != technicianID {
			return fmt.Errorf("token belongs to another technician: %w", sqlstore.ErrConflict)
		}
		return nil
	}
	if _, err := insertToken(ctx, s.DB, schema.APIToken{TechnicianID: technicianID, Hash: hash, Name: "bootstrap", CreatedAt: s.Clock()}); err != nil {
		if sqlstore.IsForeignKeyViolation(err) {
			return sqlstore.NotFound("technician", technicianID)
		}
		return fmt.Errorf("add token: %w", err)
	}
	return nil
}

// EnsureAdmin returns the technician with this e-mail, creating it as an admin when missing
// and promoting it to admin when it is a technician (bootstrap).
func (s *Store) EnsureAdmin(ctx context.Context, email, displayName string) (Technician, error) {
	t, err := s.TechnicianByEmail(ctx, email)
	switch {
	case err == nil && t.Role == RoleAdmin:
		return t, nil
	case err == nil:
		if _, err := s.DB.NewUpdate().Model((*schema.Technician)(nil)).Set("role = ?", RoleAdmin).Where("id = ?", t.ID).Exec(ctx); err != nil {
			return Technician{}, fmt.Errorf("promote admin: %w", err)
		}
		t.Role = RoleAdmin
		return t, nil
	case errors.Is(err, sqlstore.ErrNotFound):
		t, _, err := s.CreateTechnician(ctx, email, displayName, RoleAdmin)
		if errors.Is(err, sqlstore.ErrConflict) { // created concurrently
			return s.TechnicianByEmail(ctx, email)
		}
		return t, err
	default:
		return Technician{}, err
	}
}

// Technician reads one member of staff.
func (s *Store) Technician(ctx context.Context, id string) (Technician, error) {
	var m schema.Technician
	if err := s.DB.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return Technician{}, sqlstore.NoRows(err, "technician", id)
	}
	return TechnicianOf(m), nil
}

// TechnicianByEmail reads one member of staff by e-mail (case-insensitive).
func (s *Store) TechnicianByEmail(ctx context.Context, email string) (Technician, error) {
	var m schema.Technician
	if err := s.DB.NewSelect().Model(&m).Where("email = ?", NormalizeEmail(email)).Scan(ctx); err != nil {
		return Technician{}, sqlstore.NoRows(err, "technician", email)
	}
	return TechnicianOf(m), nil
}

// Technicians lists the MSP's staff, newest first.
func (s *Store) Technicians(ctx context.Context, p sqlstore.Page) ([]Technician, string, error) {
	var rows []schema.Technician
	q, err := sqlstore.Paginate(s.DB.NewSelect().Model(&rows), p, "created_at", "id")
	if err != nil {
		return nil, "", sqlstore.ErrCursor(err)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list technicians: %w", err)
	}
	rows, next := sqlstore.Trim(rows, p, func(m schema.Technician) (time.Time, string) { return m.CreatedAt, m.ID })
	out := make([]Technician, len(rows))
	for i, m := range rows {
		out[i] = TechnicianOf(m)
	}
	return out, next, nil
}
