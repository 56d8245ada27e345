package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/workflows"
)

// Application error types the activities return (the wire names are workflows').
const (
	ErrTypeAuthorizationLost = workflows.ErrTypeAuthorizationLost
	ErrTypeNotAuthorized     = workflows.ErrTypeNotAuthorized
	ErrTypeGraphRejected     = workflows.ErrTypeGraphRejected
	ErrTypeThrottled         = workflows.ErrTypeThrottled
	ErrTypeReplicationLag    = workflows.ErrTypeReplicationLag
	ErrTypeGraphUnavailable  = workflows.ErrTypeGraphUnavailable
	ErrTypeInvalidAccount    = workflows.ErrTypeInvalidAccount
)

// Outcome names how an activity attempt ended: "ok", the application error type,
// "canceled", "timeout" or "error" (metrics labels).
func Outcome(err error) string {
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &appErr) && appErr.Type() != "":
		return appErr.Type()
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
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
