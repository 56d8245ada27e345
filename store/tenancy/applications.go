package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Application statuses: unauthorized → authorized (admin consent stored) → ready (domain and
// at least one role configured).
const (
	AppUnauthorized = "unauthorized"
	AppAuthorized   = "authorized"
	AppReady        = "ready"
)

// DefaultAccessDuration is how long access lasts unless the admin picks otherwise.
const DefaultAccessDuration = 4 * time.Hour

// Application is an Entra ID application with its authorization, if any.
type Application struct {
	ID             string
	TenantID       string
	Name           string
	Type           string
	Credentials    string
	AccessDuration time.Duration
	Domain         string
	Roles          []string
	Status         string
	Authorization  *Authorization // nil until an admin authorized it
	SignInMethod   string         // password | tap | password_and_tap (SetSignInMethod)
	// RestrictedAdminUnit: JIT accounts go into a restricted-management administrative unit
	// (SetRestrictedAdminUnit).
	RestrictedAdminUnit bool
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Authorization records the admin consent of an application (never the token itself).
type Authorization struct {
	Account       string
	DisplayName   string
	EntraTenantID string
	AuthorizedAt  time.Time
	AuthorizedBy  string
}

// ApplicationPatch changes some settings of an application; nil fields stay unchanged.
type ApplicationPatch struct {
	Name           *string
	AccessDuration *time.Duration
	Domain         *string
	Roles          *[]string
}

// NewApplication is the input of CreateApplication.
type NewApplication struct {
	Name, Type, Credentials string
	AccessDuration          time.Duration // DefaultAccessDuration when zero
}

// applicationStatus derives the status from what is configured.
func applicationStatus(authorized bool, domain string, roles []string) string {
	switch {
	case !authorized:
		return AppUnauthorized
	case domain != "" && len(roles) > 0:
		return AppReady
	default:
		return AppAuthorized
	}
}

func applicationOf(m schema.Application, auth *schema.ApplicationAuthorization) Application {
	a := Application{ID: m.ID, TenantID: m.TenantID, Name: m.Name, Type: m.Type, Credentials: m.Credentials,
		AccessDuration: m.AccessDuration, Domain: m.Domain, Roles: sqlstore.OrEmpty(m.Roles), Status: m.Status,
		CreatedAt: sqlstore.UTC(m.CreatedAt), UpdatedAt: sqlstore.UTC(m.UpdatedAt), SignInMethod: m.SignInMethod,
		RestrictedAdminUnit: m.RestrictedAdminUnit}
	if auth != nil {
		a.Authorization = &Authorization{Account: auth.Account, DisplayName: auth.DisplayName, EntraTenantID: auth.EntraTenantID,
			AuthorizedAt: sqlstore.UTC(auth.AuthorizedAt), AuthorizedBy: auth.AuthorizedBy}
	}
	return a
}

// CreateApplication adds an unauthorized application to a tenant. A name taken in the tenant
// is ErrConflict.
func (s *Store) CreateApplication(ctx context.Context, tenantID string, in NewApplication) (Application, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return Application{}, err
	}
	d := in.AccessDuration
	if d == 0 {
		d = DefaultAccessDuration
	}
	now := s.Clock()
	m := schema.Application{ID: sqlstore.NewID("app"), TenantID: tenantID, Name: strings.TrimSpace(in.Name), Type: in.Type,
		Credentials: in.Credentials, AccessDuration: d, Roles: schema.StringList{}, Status: AppUnauthorized, CreatedAt: now, UpdatedAt: now,
		SignInMethod: DefaultSignInMethod}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		if sqlstore.IsUniqueViolation(err) {
			return Application{}, fmt.Errorf("application %q: %w", m.Name, sqlstore.ErrConflict)
		}
		return Application{}, fmt.Errorf("create application: %w", err)
	}
	return applicationOf(m, nil), nil
}

// Application reads an application of a tenant; one of another tenant is ErrNotFound.
func (s *Store) Application(ctx context.Context, tenantID, applicationID string) (Application, error) {
	a, err := s.ApplicationByID(ctx, applicationID)
	if err != nil {
		return Application{}, err
	}
	if a.TenantID != tenantID {
		return Application{}, sqlstore.NotFound("application", applicationID)
	}
	return a, nil
}

// ApplicationByID reads an application whatever its tenant.
func (s *Store) ApplicationByID(ctx context.Context, applicationID string) (Application, error) {
	return s.readApplication(ctx, s.DB, applicationID)
}

func (s *Store) readApplication(ctx context.Context, db bun.IDB, applicationID string) (Application, error) {
	var m schema.Application
	if err := db.NewSelect().Model(&m).Where("id = ?", applicationID).Scan(ctx); err != nil {
		return Application{}, sqlstore.NoRows(err, "application", applicationID)
	}
	var auth schema.ApplicationAuthorization
	err := db.NewSelect().Model(&auth).Where("application_id = ?", applicationID).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return applicationOf(m, nil), nil
	case err != nil:
		return Application{}, fmt.Errorf("read authorization: %w", err)
	}
	return applicationOf(m, &auth), nil
}

// Applications lists a tenant's applications, newest first.
func (s *Store) Applications(ctx context.Context, tenantID string, p sqlstore.Page) ([]Application, string, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, "", err
	}
	var rows []schema.Application
	q, err := sqlstore.Paginate(s.DB.NewSelect().Model(&rows).Where("tenant_id = ?", tenantID), p, "created_at", "id")
	if err != nil {
		return nil, "", sqlstore.ErrCursor(err)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list applications: %w", err)
	}
	rows, next := sqlstore.Trim(rows, p, func(m schema.Application) (time.Time, string) { return m.CreatedAt, m.ID })
	auths := map[string]*schema.ApplicationAuthorization{}
	if len(rows) > 0 {
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		var as []schema.ApplicationAuthorization
		if err := s.DB.NewSelect().Model(&as).Where("application_id IN (?)", sqlstore.In(ids)).Scan(ctx); err != nil {
			return nil, "", fmt.Errorf("list authorizations: %w", err)
		}
		for i := range as {
			auths[as[i].ApplicationID] = &as[i]
		}
	}
	out := make([]Application, len(rows))
	for i, r := range rows {
		out[i] = applicationOf(r, auths[r.ID])
	}
	return out, next, nil
}

// UpdateApplication applies a patch and recomputes the status. Checking the domain and roles
// against the live directory is the caller's job; the store only records them.
func (s *Store) UpdateApplication(ctx context.Context, tenantID, applicationID string, p ApplicationPatch) (Application, error) {
	var out Application
	err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.readApplication(ctx, tx, applicationID)
		if err != nil {
			return err
		}
		if a.TenantID != tenantID {
			return sqlstore.NotFound("application", applicationID)
		}
		if p.Name != nil {
			a.Name = strings.TrimSpace(*p.Name)
		}
		if p.AccessDuration != nil {
			a.AccessDuration = *p.AccessDuration
		}
		if p.Domain != nil {
			a.Domain = *p.Domain
		}
		if p.Roles != nil {
			a.Roles = sqlstore.Dedupe(*p.Roles)
		}
		a.Status = applicationStatus(a.Authorization != nil, a.Domain, a.Roles)
		a.UpdatedAt = s.Clock()
		_, err = tx.NewUpdate().Model((*schema.Application)(nil)).
			Set("name = ?", a.Name).
			Set("access_duration = ?", int64(a.AccessDuration)).
			Set("domain = ?", nullString(a.Domain)).
			Set("roles = ?", schema.StringList(a.Roles)).
			Set("status = ?", a.Status).
			Set("updated_at = ?", a.UpdatedAt).
			Where("id = ?", a.ID).Exec(ctx)
		if err != nil {
			if sqlstore.IsUniqueViolation(err) {
				return fmt.Errorf("application %q: %w", a.Name, sqlstore.ErrConflict)
			}
			return fmt.Errorf("update application: %w", err)
		}
		out = a
		return nil
	})
	return out, err
}

// DeleteApplication removes an application, its authorization and its rules. While a grant
// of it is live (not yet ended) it is ErrInUse: the account must be disabled first.
func (s *Store) DeleteApplication(ctx context.Context, tenantID, applicationID string) error {
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.readApplication(ctx, tx, applicationID)
		if err != nil {
			return err
		}
		if a.TenantID != tenantID {
			return sqlstore.NotFound("application", applicationID)
		}
		live, err := tx.NewSelect().Model((*schema.Grant)(nil)).
			Where("application_id = ? AND status NOT IN (?)", applicationID, sqlstore.In(sqlstore.TerminalStatuses())).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check live grants: %w", err)
		}
		if live {
			return fmt.Errorf("application %s has live grants: %w", applicationID, sqlstore.ErrInUse)
		}
		if _, err := tx.NewDelete().Model((*schema.Application)(nil)).Where("id = ?", applicationID).Exec(ctx); err != nil {
			return fmt.Errorf("delete application: %w", err)
		}
		return nil
	})
}

// ApplicationConfig is what a grant needs to know of an application.
func (s *Store) ApplicationConfig(ctx context.Context, applicationID string) (ApplicationConfig, error) {
	a, err := s.ApplicationByID(ctx, applicationID)
	if err != nil {
		return ApplicationConfig{}, err
	}
	return configOf(a), nil
}

func configOf(a Application) ApplicationConfig {
	return ApplicationConfig{ID: a.ID, TenantID: a.TenantID, Name: a.Name, Status: a.Status, Domain: a.Domain,
		Roles: append([]string(nil), a.Roles...), AccessDuration: a.AccessDuration, SignInMethod: a.SignInMethod}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
