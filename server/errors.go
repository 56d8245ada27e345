package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
)

// apiError is the body of every error answer: {"error":{"code","message"}}.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// abort answers an error and stops the handler chain.
func abort(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, apiError{Error: errorBody{Code: code, Message: message}})
}

// internal logs err with the request id and answers 500 without internals.
func (s *Server) internal(c *gin.Context, err error) {
	s.log.ErrorContext(c.Request.Context(), "request failed",
		slog.String("request_id", c.GetString(requestIDKey)),
		slog.String("method", c.Request.Method),
		slog.String("route", c.FullPath()),
		slog.Any("error", err))
	abort(c, http.StatusInternalServerError, "internal_error",
		"Something went wrong on our side; it has been logged (request id "+c.GetString(requestIDKey)+").")
}

// errIs is errors.Is, shorter at call sites.
func errIs(err, target error) bool { return errors.Is(err, target) }

// statusOf is the HTTP status of a domain refusal: the one place the API and the portal map
// refusal kinds to statuses.
func statusOf(e *access.Error) int {
	switch e.Kind {
	case access.Invalid:
		return http.StatusBadRequest
	case access.Forbidden:
		return http.StatusForbidden
	case access.NotFound:
		return http.StatusNotFound
	case access.Conflict:
		return http.StatusConflict
	case access.Unavailable:
		return http.StatusServiceUnavailable
	case access.Upstream:
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}
