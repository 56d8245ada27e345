package web

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
)

// ErrorResponse is the body of every JSON error answer: {"error":{"code","message"}}.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the code and message of an error answer.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Abort answers a JSON error and stops the handler chain.
func Abort(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, ErrorResponse{Error: ErrorBody{Code: code, Message: message}})
}

// Internal logs err with the request id and answers 500 without internals.
func (b *Base) Internal(c *gin.Context, err error) {
	b.Log.ErrorContext(c.Request.Context(), "request failed",
		slog.String("request_id", RequestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("route", c.FullPath()),
		slog.Any("error", err))
	Abort(c, http.StatusInternalServerError, "internal_error",
		"Something went wrong on our side; it has been logged (request id "+RequestID(c)+").")
}

// StatusOf is the HTTP status of a domain refusal: the one place the API and the portal map
// refusal kinds to statuses.
func StatusOf(e *access.Error) int {
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

// MaxBodyBytes is the largest request body accepted (64 KiB).
const MaxBodyBytes = 64 << 10

// LimitBody refuses bodies over MaxBodyBytes: at once when the length is declared, else
// when the decoder reads past the limit.
func LimitBody(c *gin.Context) {
	if c.Request.ContentLength > MaxBodyBytes {
		Abort(c, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("The request body exceeds %d bytes.", MaxBodyBytes))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	c.Next()
}
