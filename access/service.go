package access

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// Actor is the member of staff a request acts for, whether it came with an API token or a
// portal session, plus what the audit log records about the request.
type Actor struct {
	store.Technician
	ClientIP  string
	RequestID string
	// SessionHash is the hash of the portal session the request came in; empty for tokens.
	SessionHash string
}

// IsAdmin reports whether the actor is one of the MSP's admins.
func (a Actor) IsAdmin() bool { return a.Role == store.RoleAdmin }

// Audit records an event of the actor; when the event names no actor it is a. A failure
// to write the log is logged, not shown to the caller whose change already happened.
func (s *Service) Audit(ctx context.Context, a Actor, e store.AuditEvent) {
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

// RefError turns a store error about missing tenants, technicians or groups into its
// refusal; other errors are returned as they are.
func RefError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return Refuse(NotFound, "not_found", notFoundMessage(err))
	case errors.Is(err, store.ErrBuiltinGroup):
		return Refuse(Conflict, "builtin_group", "The members of All admins are exactly the tenant's members; change the tenant's members instead.")
	default:
		return err
	}
}

// directoryError turns a failure of the customer's directory into a refusal without
// leaking details; the details are logged.
func (s *Service) directoryError(ctx context.Context, a Actor, op string, err error) error {
	var throttled *directory.ThrottledError
	switch {
	case errors.Is(err, directory.ErrAuthorizationLost), errors.Is(err, directory.ErrNotAuthorized):
		return Refuse(Conflict, "authorization_lost", "The consent for this tenant no longer works; authorize the application again.")
	case errors.As(err, &throttled):
		p := Refuse(Unavailable, "directory_throttled", "Microsoft Entra ID is throttling requests for this tenant; try again shortly.")
		p.RetryAfter = max(1, int(throttled.RetryAfter.Seconds()))
		return p
	default:
		s.log.ErrorContext(ctx, "directory call failed",
			slog.String("request_id", a.RequestID), slog.String("op", op), slog.Any("error", err))
		return Refuse(Upstream, "directory_error", "Microsoft Entra ID could not answer; try again (request id "+a.RequestID+").")
	}
}

// workflowError turns a failure of the workflow engine into a refusal: a refusal as such,
// an outage as Unavailable; anything else is returned as it is.
func (s *Service) workflowError(ctx context.Context, a Actor, op string, err error) error {
	if p := AsError(err); p != nil {
		return p
	}
	if errors.Is(err, ErrWorkflowsUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		s.log.WarnContext(ctx, "workflow engine unavailable", "request_id", a.RequestID, "op", op, "error", err)
		p := Refuse(Unavailable, "workflow_engine_unavailable", "The workflow engine is not reachable right now; try again shortly.")
		p.RetryAfter = 5
		return p
	}
	return err
}
