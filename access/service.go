package access

import (
	"context"
	"errors"
)

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
