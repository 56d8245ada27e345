package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/directory"
)

// Application error types the activities return. Workflows list the non-retryable ones in
// their retry policies and match on them to explain a failure.
const (
	// ErrTypeAuthorizationLost: the tenant's consent no longer works; an admin must authorize again.
	ErrTypeAuthorizationLost = "AuthorizationLost"
	// ErrTypeNotAuthorized: the application was never authorized.
	ErrTypeNotAuthorized = "NotAuthorized"
	// ErrTypeGraphRejected: Graph refused the request with a 4xx other than 429; retrying the
	// same request cannot succeed.
	ErrTypeGraphRejected = "GraphRejected"
	// ErrTypeThrottled: Graph answered 429/503; retried after its Retry-After.
	ErrTypeThrottled = "Throttled"
	// ErrTypeReplicationLag: a user created moments ago is not yet visible; retried.
	ErrTypeReplicationLag = "ReplicationLag"
	// ErrTypeGraphUnavailable: Graph answered 5xx; retried.
	ErrTypeGraphUnavailable = "GraphUnavailable"
	// ErrTypeInvalidAccount: the technician's e-mail or the domain cannot make a valid UPN.
	ErrTypeInvalidAccount = "InvalidAccount"
)

// NonRetryableErrorTypes are the error types a provisioning step must not retry.
func NonRetryableErrorTypes() []string {
	return []string{ErrTypeAuthorizationLost, ErrTypeNotAuthorized, ErrTypeGraphRejected, ErrTypeInvalidAccount}
}

// authorizationLostRetryDelay spaces the attempts of a disable that cannot succeed until an
// admin authorizes the application again.
const authorizationLostRetryDelay = time.Minute

// directoryError maps a connector error to the error returned at the Temporal boundary.
//
// Provisioning (mustFinish false) gives up on errors waiting cannot fix. Disabling
// (mustFinish true) never gives up: the account must end up disabled, so every error stays
// retryable and the retry policy decides the pace.
func directoryError(op string, err error, mustFinish bool) error {
	if err == nil {
		return nil
	}
	// Cancellation and deadlines belong to Temporal, which knows what to do with them.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := fmt.Sprintf("%s: %v", op, err)

	var (
		throttled *directory.ThrottledError
		lag       *directory.ReplicationLagError
		graphErr  *directory.GraphError
	)
	switch {
	case errors.Is(err, directory.ErrAuthorizationLost):
		if mustFinish {
			return temporal.NewApplicationErrorWithOptions(msg, ErrTypeAuthorizationLost,
				temporal.ApplicationErrorOptions{NextRetryDelay: authorizationLostRetryDelay})
		}
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeAuthorizationLost, nil)
	case errors.Is(err, directory.ErrNotAuthorized):
		if mustFinish {
			return temporal.NewApplicationErrorWithOptions(msg, ErrTypeNotAuthorized,
				temporal.ApplicationErrorOptions{NextRetryDelay: authorizationLostRetryDelay})
		}
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeNotAuthorized, nil)
	case errors.As(err, &throttled):
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeThrottled,
			temporal.ApplicationErrorOptions{NextRetryDelay: throttled.RetryAfter})
	case errors.As(err, &lag):
		return temporal.NewApplicationError(msg, ErrTypeReplicationLag)
	case errors.As(err, &graphErr):
		switch {
		case graphErr.Status == http.StatusTooManyRequests:
			return temporal.NewApplicationError(msg, ErrTypeThrottled)
		case graphErr.Status >= 400 && graphErr.Status < 500 && !mustFinish:
			return temporal.NewNonRetryableApplicationError(msg, ErrTypeGraphRejected, nil)
		case graphErr.Status >= 400 && graphErr.Status < 500:
			return temporal.NewApplicationError(msg, ErrTypeGraphRejected)
		default:
			return temporal.NewApplicationError(msg, ErrTypeGraphUnavailable)
		}
	default:
		// Unknown (network, database…): retryable, with the operation named.
		return fmt.Errorf("%s: %w", op, err)
	}
}
