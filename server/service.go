package server

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// The product's rules live in plain methods on *Server (tenants.go, applications.go,
// access_requests.go, …) that take an Actor and return values or a *access.Error. The JSON API and
// the portal are two thin front ends over the same methods, so a rule exists exactly once.

// Actor is the member of staff a request acts for, whether it came with an API token or a
// portal session, plus what the audit log records about the request.
type Actor struct {
	store.Technician
	ClientIP  string
	RequestID string
}

// IsAdmin reports whether the actor is one of the MSP's admins.
func (a Actor) IsAdmin() bool { return a.Role == store.RoleAdmin }

// actor is the authenticated caller of the request.
func (s *Server) actor(c *gin.Context) Actor {
	return Actor{Technician: currentUser(c), ClientIP: c.ClientIP(), RequestID: c.GetString(requestIDKey)}
}

// fail answers an error of a service method: a refusal with its status, anything else as a
// logged 500 without internals.
func (s *Server) fail(c *gin.Context, err error) {
	if p := access.AsError(err); p != nil {
		if p.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(p.RetryAfter))
		}
		abort(c, statusOf(p), p.Code, p.Message)
		return
	}
	s.internal(c, err)
}

// auditAs records an event of the actor; when the event names no actor it is a. A failure
// to write the log is logged, not shown to the caller whose change already happened.
func (s *Server) auditAs(ctx context.Context, a Actor, e store.AuditEvent) {
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

// refProblem turns a store error about missing tenants, technicians or groups into its
// Problem; other errors are returned as they are.
func refProblem(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return access.Refuse(access.NotFound, "not_found", notFoundMessage(err))
	case errors.Is(err, store.ErrBuiltinGroup):
		return access.Refuse(access.Conflict, "builtin_group", "The members of All admins are exactly the tenant's members; change the tenant's members instead.")
	default:
		return err
	}
}

// directoryProblem turns a failure of the customer's directory into a Problem without
// leaking details; the details are logged.
func (s *Server) directoryProblem(ctx context.Context, a Actor, op string, err error) error {
	var throttled *directory.ThrottledError
	switch {
	case errors.Is(err, directory.ErrAuthorizationLost), errors.Is(err, directory.ErrNotAuthorized):
		return access.Refuse(access.Conflict, "authorization_lost", "The consent for this tenant no longer works; authorize the application again.")
	case errors.As(err, &throttled):
		p := access.Refuse(access.Unavailable, "directory_throttled", "Microsoft Entra ID is throttling requests for this tenant; try again shortly.")
		p.RetryAfter = max(1, int(throttled.RetryAfter.Seconds()))
		return p
	default:
		s.log.ErrorContext(ctx, "directory call failed",
			slog.String("request_id", a.RequestID), slog.String("op", op), slog.Any("error", err))
		return access.Refuse(access.Upstream, "directory_error", "Microsoft Entra ID could not answer; try again (request id "+a.RequestID+").")
	}
}

// workflowProblem turns a failure of the workflow engine into a Problem: a refusal as such,
// an outage as 503; anything else is returned as it is (a 500).
func (s *Server) workflowProblem(ctx context.Context, a Actor, op string, err error) error {
	if p := access.AsError(err); p != nil {
		return p
	}
	if errors.Is(err, access.ErrWorkflowsUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		s.log.WarnContext(ctx, "workflow engine unavailable", "request_id", a.RequestID, "op", op, "error", err)
		p := access.Refuse(access.Unavailable, "workflow_engine_unavailable", "The workflow engine is not reachable right now; try again shortly.")
		p.RetryAfter = 5
		return p
	}
	return err
}
