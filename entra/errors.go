package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/jitaccess/jitaccess/directory"
)

// Graph error codes and messages the connector recognises (see graph-facts.md).
const (
	codeBadRequest       = "Request_BadRequest"
	codeResourceNotFound = "Request_ResourceNotFound"
	codeObjectConflict   = "ObjectConflict"
	msgDuplicateUPN      = "another object with the same value for property userprincipalname"
	msgConflictingObject = "a conflicting object with one or more of the specified property values is present"

	// defaultRetryAfter is assumed when a 429/503 carries no Retry-After header.
	defaultRetryAfter = 5 * time.Second
)

// graphFailure is one error answered by Graph, from a plain response or a $batch item.
type graphFailure struct {
	status    int
	code      string
	message   string
	requestID string
	details   []graphDetail
	header    func(string) string
}

type graphDetail struct{ code, target string }

// isDuplicateUPN: POST /users answers 400 Request_BadRequest "Another object with the same
// value for property userPrincipalName already exists." with details code ObjectConflict.
func (f *graphFailure) isDuplicateUPN() bool {
	if f.status != http.StatusBadRequest {
		return false
	}
	for _, d := range f.details {
		if d.code == codeObjectConflict && strings.EqualFold(d.target, "userPrincipalName") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(f.message), msgDuplicateUPN)
}

// isConflictingObject: POST roleAssignments for a pair that is already assigned answers 400
// "A conflicting object with one or more of the specified property values is present in the
// directory." (observed on beta; also accepted with code ObjectConflict or HTTP 409).
func (f *graphFailure) isConflictingObject() bool {
	if f.status == http.StatusConflict {
		return true
	}
	if f.status != http.StatusBadRequest {
		return false
	}
	if strings.Contains(strings.ToLower(f.message), msgConflictingObject) || f.code == codeObjectConflict {
		return true
	}
	for _, d := range f.details {
		if d.code == codeObjectConflict {
			return true
		}
	}
	return false
}

func (f *graphFailure) retryable() bool {
	return f.status == http.StatusTooManyRequests || f.status == http.StatusServiceUnavailable || f.status == http.StatusGatewayTimeout
}

func (f *graphFailure) retryAfter() time.Duration { return f.retryAfterOr(defaultRetryAfter) }

// retryAfterOr is the failure's Retry-After, or def when Graph sent none.
func (f *graphFailure) retryAfterOr(def time.Duration) time.Duration {
	if f.header == nil {
		return def
	}
	return retryAfter(f.header("Retry-After"), def)
}

// toError maps a failure to the directory package's errors: 429/503/504 →
// *directory.ThrottledError (retryable after Retry-After), 404 → directory.ErrNotFound
// (with the *directory.GraphError), anything else → *directory.GraphError.
func (f *graphFailure) toError(op string) error {
	if f.retryable() {
		return &directory.ThrottledError{Op: op, RetryAfter: f.retryAfter()}
	}
	ge := &directory.GraphError{Op: op, Status: f.status, Code: f.code, Message: f.message, RequestID: f.requestID}
	if f.status == http.StatusNotFound {
		return fmt.Errorf("%w: %w", directory.ErrNotFound, ge)
	}
	return ge
}

// failureOf extracts Graph's answer from an error of the SDK; nil when err is not one.
func failureOf(err error) *graphFailure {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		f := &graphFailure{status: oe.ResponseStatusCode, header: headerFunc(oe.ResponseHeaders)}
		if me := oe.GetErrorEscaped(); me != nil {
			f.code, f.message = deref(me.GetCode()), deref(me.GetMessage())
			for _, d := range me.GetDetails() {
				f.details = append(f.details, graphDetail{code: deref(d.GetCode()), target: deref(d.GetTarget())})
			}
			if ie := me.GetInnerError(); ie != nil {
				f.requestID = deref(ie.GetRequestId())
			}
		}
		if f.requestID == "" && f.header != nil {
			f.requestID = f.header("request-id")
		}
		return f
	}
	var ae *abs.ApiError
	if errors.As(err, &ae) && ae.ResponseStatusCode != 0 {
		f := &graphFailure{status: ae.ResponseStatusCode, header: headerFunc(ae.ResponseHeaders), message: "no error body"}
		if f.header != nil {
			f.requestID = f.header("request-id")
		}
		return f
	}
	return nil
}

func headerFunc(h *abs.ResponseHeaders) func(string) string {
	if h == nil {
		return nil
	}
	return func(key string) string {
		if v := h.Get(key); len(v) > 0 {
			return v[0]
		}
		return ""
	}
}

// mapGraphError maps any error of a Graph call. Errors already in directory's terms and
// context errors pass through; transport errors are wrapped with the operation.
func mapGraphError(op string, err error) error {
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
	if f := failureOf(err); f != nil {
		return f.toError(op)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// statusOf returns the HTTP status Graph answered, or 0.
func statusOf(err error) int {
	if f := failureOf(err); f != nil {
		return f.status
	}
	return 0
}

// retryAfter parses a Retry-After header (seconds, or an HTTP date); def when absent or bad.
func retryAfter(v string, def time.Duration) time.Duration {
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
