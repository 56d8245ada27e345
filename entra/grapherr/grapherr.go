// Package grapherr classifies the error answers of Microsoft Graph and of the identity platform
// (HTTP status, error code, details, Retry-After) and maps them to package directory's errors.
// It works on what came over the wire, so it needs no Graph SDK.
package grapherr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/directory"
)

// Graph error codes and messages the connector recognises (see graph-facts.md).
const (
	CodeBadRequest       = "Request_BadRequest"
	CodeResourceNotFound = "Request_ResourceNotFound"
	CodeObjectConflict   = "ObjectConflict"
	msgDuplicateUPN      = "another object with the same value for property userprincipalname"
	msgConflictingObject = "a conflicting object with one or more of the specified property values is present"

	// DefaultRetryAfter is assumed when a 429/503 carries no Retry-After header.
	DefaultRetryAfter = 5 * time.Second
)

// Failure is one error answered by Graph, from a plain response or a $batch item.
type Failure struct {
	Status    int
	Code      string
	Message   string
	RequestID string
	Details   []Detail
	Header    func(string) string // the answer's headers; nil when unknown
}

// Detail is one entry of an error's details.
type Detail struct{ Code, Target string }

// Parse reads Graph's JSON error body ({"error":{code,message,details,innerError}}) of an answer
// with this status and headers; a body that is not one leaves the code empty and the message
// the status text.
func Parse(status int, body []byte, header func(string) string) *Failure {
	f := &Failure{Status: status, Header: header}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details []struct {
				Code   string `json:"code"`
				Target string `json:"target"`
			} `json:"details"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	if len(body) > 0 && json.Unmarshal(body, &env) == nil {
		f.Code, f.Message, f.RequestID = env.Error.Code, env.Error.Message, env.Error.InnerError.RequestID
		for _, d := range env.Error.Details {
			f.Details = append(f.Details, Detail{Code: d.Code, Target: d.Target})
		}
	}
	if f.RequestID == "" && f.Header != nil {
		f.RequestID = f.Header("request-id")
	}
	if f.Message == "" {
		f.Message = http.StatusText(status)
	}
	return f
}

// IsDuplicateUPN: POST /users answers 400 Request_BadRequest "Another object with the same
// value for property userPrincipalName already exists." with details code ObjectConflict.
func (f *Failure) IsDuplicateUPN() bool {
	if f.Status != http.StatusBadRequest {
		return false
	}
	for _, d := range f.Details {
		if d.Code == CodeObjectConflict && strings.EqualFold(d.Target, "userPrincipalName") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(f.Message), msgDuplicateUPN)
}

// IsConflictingObject: POST roleAssignments for a pair that is already assigned answers 400
// "A conflicting object with one or more of the specified property values is present in the
// directory." (observed on beta; also accepted with code ObjectConflict or HTTP 409).
func (f *Failure) IsConflictingObject() bool {
	if f.Status == http.StatusConflict {
		return true
	}
	if f.Status != http.StatusBadRequest {
		return false
	}
	if strings.Contains(strings.ToLower(f.Message), msgConflictingObject) || f.Code == CodeObjectConflict {
		return true
	}
	for _, d := range f.Details {
		if d.Code == CodeObjectConflict {
			return true
		}
	}
	return false
}

// Retryable reports a 429, 503 or 504.
func (f *Failure) Retryable() bool {
	return f.Status == http.StatusTooManyRequests || f.Status == http.StatusServiceUnavailable || f.Status == http.StatusGatewayTimeout
}

// RetryAfterOr is the failure's Retry-After, or def when Graph sent none.
func (f *Failure) RetryAfterOr(def time.Duration) time.Duration {
	if f.Header == nil {
		return def
	}
	return RetryAfter(f.Header("Retry-After"), def)
}

// Err maps a failure to the directory package's errors: 429/503/504 →
// *directory.ThrottledError (retryable after Retry-After), 404 → directory.ErrNotFound
// (with the *directory.GraphError), anything else → *directory.GraphError.
func (f *Failure) Err(op string) error {
	if f.Retryable() {
		return &directory.ThrottledError{Op: op, RetryAfter: f.RetryAfterOr(DefaultRetryAfter)}
	}
	ge := &directory.GraphError{Op: op, Status: f.Status, Code: f.Code, Message: f.Message, RequestID: f.RequestID}
	if f.Status == http.StatusNotFound {
		return fmt.Errorf("%w: %w", directory.ErrNotFound, ge)
	}
	return ge
}

// Map maps any error of a Graph call, given of, which extracts Graph's answer from an error of
// the client library (nil when it is none). Errors already in directory's terms pass through;
// context and transport errors are wrapped with the operation.
func Map(op string, err error, of func(error) *Failure) error {
	if err == nil {
		return nil
	}
	var te *directory.ThrottledError
	var le *directory.ReplicationLagError
	var ge *directory.GraphError
	var tm *directory.TenantMismatchError
	switch {
	case errors.Is(err, directory.ErrAccountConflict), errors.Is(err, directory.ErrTAPPolicyDisabled), errors.As(err, &tm):
		return err
	}
	switch {
	case errors.Is(err, directory.ErrAuthorizationLost), errors.Is(err, directory.ErrNotAuthorized),
		errors.Is(err, directory.ErrNotFound), errors.As(err, &te), errors.As(err, &le), errors.As(err, &ge):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	}
	if f := of(err); f != nil {
		return f.Err(op)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// RetryAfter parses a Retry-After header (seconds, or an HTTP date); def when absent or bad.
func RetryAfter(v string, def time.Duration) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return def
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
		return 0
	}
	return def
}
