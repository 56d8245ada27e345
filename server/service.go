package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// The product's rules live in plain methods on *Server (tenants.go, applications.go,
// access_requests.go, …) that take an Actor and return values or a *Problem. The JSON API and
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

// Problem is a refusal the caller can act on: the API answers it as its JSON error, the
// portal shows Message beside the form field named by Field.
type Problem struct {
	Status     int
	Code       string
	Field      string // the input at fault, when there is one
	Message    string
	RetryAfter int // seconds; sent as Retry-After when positive
}

func (p *Problem) Error() string { return p.Code + ": " + p.Message }

func problem(status int, code, message string) *Problem {
	return &Problem{Status: status, Code: code, Message: message}
}

// fieldProblem is 400 invalid_field naming the field, the answer of badField.
func fieldProblem(field, message string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: "invalid_field", Field: field, Message: fmt.Sprintf("%s: %s", field, message)}
}

func notFoundProblem(what string) *Problem {
	return problem(http.StatusNotFound, "not_found", fmt.Sprintf("The %s does not exist.", what))
}

// asProblem returns err's *Problem (also for the workflow engine's refusals), or nil.
func asProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var r *RefusalError
	if errors.As(err, &r) {
		return &Problem{Status: r.Status, Code: r.Code, Message: r.Message}
	}
	return nil
}

// fail answers an error of a service method: a Problem as itself, anything else as a
// logged 500 without internals.
func (s *Server) fail(c *gin.Context, err error) {
	if p := asProblem(err); p != nil {
		if p.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(p.RetryAfter))
		}
		abort(c, p.Status, p.Code, p.Message)
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
		return problem(http.StatusNotFound, "not_found", notFoundMessage(err))
	case errors.Is(err, store.ErrBuiltinGroup):
		return problem(http.StatusConflict, "builtin_group", "The members of All admins are exactly the tenant's members; change the tenant's members instead.")
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
		return problem(http.StatusConflict, "authorization_lost", "The consent for this tenant no longer works; authorize the application again.")
	case errors.As(err, &throttled):
		p := problem(http.StatusServiceUnavailable, "directory_throttled", "Microsoft Entra ID is throttling requests for this tenant; try again shortly.")
		p.RetryAfter = max(1, int(throttled.RetryAfter.Seconds()))
		return p
	default:
		s.log.ErrorContext(ctx, "directory call failed",
			slog.String("request_id", a.RequestID), slog.String("op", op), slog.Any("error", err))
		return problem(http.StatusBadGateway, "directory_error", "Microsoft Entra ID could not answer; try again (request id "+a.RequestID+").")
	}
}

// workflowProblem turns a failure of the workflow engine into a Problem: a refusal as such,
// an outage as 503; anything else is returned as it is (a 500).
func (s *Server) workflowProblem(ctx context.Context, a Actor, op string, err error) error {
	if p := asProblem(err); p != nil {
		return p
	}
	if errors.Is(err, ErrWorkflowsUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		s.log.WarnContext(ctx, "workflow engine unavailable", "request_id", a.RequestID, "op", op, "error", err)
		p := problem(http.StatusServiceUnavailable, "workflow_engine_unavailable", "The workflow engine is not reachable right now; try again shortly.")
		p.RetryAfter = 5
		return p
	}
	return err
}
