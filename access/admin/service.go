// Package admin holds the admin operations of the domain service: tenants, applications
// (authorization, domains, roles, sign-in method, restricted administrative unit, policy),
// groups, members, entitlements, staff, auditors' tenants and reports. Every method takes the
// domain.Actor it acts for and returns *domain.Error for refusals. *access.Service embeds
// *Service, so the front ends call these methods on it; ending the grants a change leaves
// without reason is the grant rules' business (Deps.EndGrants).
package admin

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// Directory is what the rules need of a customer's Entra directory (*entra.Client).
type Directory interface {
	AuthCodeURL(state, codeVerifier, loginHint string) string
	Domains(ctx context.Context, applicationID string) ([]directory.Domain, error)
	Roles(ctx context.Context, applicationID string) ([]directory.Role, error)
	TAPPolicy(ctx context.Context, applicationID string) (directory.TAPPolicy, error)
}

// Deps are the admin operations' dependencies, with access.New's defaults applied.
type Deps struct {
	Store             *store.Store
	Directory         Directory
	MinAccessDuration time.Duration
	MaxAccessDuration time.Duration
	OAuthStateTTL     time.Duration
	Logger            *slog.Logger
	// EndGrants revokes, through their workflows, the live grants in gs that lost their reason
	// (all of them when recheck is false); it returns how many it revoked.
	EndGrants func(ctx context.Context, a domain.Actor, gs []store.Grant, why string, recheck bool) (int, error)
}

// Service holds the admin operations.
type Service struct {
	deps Deps
	log  *slog.Logger
}

// New builds the admin operations over d.
func New(d Deps) *Service { return &Service{deps: d, log: d.Logger} }

// Store is the service's store, for the front ends' plain reads (lists, pages).
func (s *Service) Store() *store.Store { return s.deps.Store }

// Audit records an event of the actor; when the event names no actor it is a. A failure
// to write the log is logged, not shown to the caller whose change already happened.
func (s *Service) Audit(ctx context.Context, a domain.Actor, e store.AuditEvent) {
	if e.ActorID == "" {
		e.ActorID, e.ActorKind = a.ID, a.Role
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details["request_id"] = a.RequestID
	// The change is done; record it even if the client went away.
	ctx = context.WithoutCancel(ctx)
	if err := s.deps.Store.RecordAudit(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit event lost", slog.String("action", e.Action), slog.String("target", e.Target), slog.Any("error", err))
	}
}

// directoryError turns a failure of the customer's directory into a refusal without
// leaking details; the details are logged.
func (s *Service) directoryError(ctx context.Context, a domain.Actor, op string, err error) error {
	var throttled *directory.ThrottledError
	switch {
	case errors.Is(err, directory.ErrAuthorizationLost), errors.Is(err, directory.ErrNotAuthorized):
		return domain.Refuse(domain.Conflict, "authorization_lost", "The consent for this tenant no longer works; authorize the application again.")
	case errors.As(err, &throttled):
		p := domain.Refuse(domain.Unavailable, "directory_throttled", "Microsoft Entra ID is throttling requests for this tenant; try again shortly.")
		p.RetryAfter = max(1, int(throttled.RetryAfter.Seconds()))
		return p
	default:
		s.log.ErrorContext(ctx, "directory call failed",
			slog.String("request_id", a.RequestID), slog.String("op", op), slog.Any("error", err))
		return domain.Refuse(domain.Upstream, "directory_error", "Microsoft Entra ID could not answer; try again (request id "+a.RequestID+").")
	}
}

// endGrants ends the grants through the grant rules (Deps.EndGrants).
func (s *Service) endGrants(ctx context.Context, a domain.Actor, gs []store.Grant, why string, recheck bool) (int, error) {
	return s.deps.EndGrants(ctx, a, gs, why, recheck)
}
