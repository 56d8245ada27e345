package access

import (
	"context"
	"time"

	"github.com/jitaccess/jitaccess/policy"
)

// maxTicketReferenceLength bounds a request's ticket reference (the policy checks its shape).
const maxTicketReferenceLength = 200

// checkRequestPolicy applies the application's policy to a new request (refusals
// justification_required, ticket_reference_invalid, duration_exceeds_policy). A request
// without a duration gets the policy's maximum when that is shorter than the default.
func (s *Service) checkRequestPolicy(ctx context.Context, applicationID, justification, ticket string, duration time.Duration, defaulted bool) (time.Duration, error) {
	pol, _, err := s.deps.Store.ApplicationPolicy(ctx, applicationID)
	if err != nil {
		return 0, err
	}
	if defaulted && pol.MaxDuration != 0 {
		duration = min(duration, time.Duration(pol.MaxDuration))
	}
	if err := pol.CheckRequest(policy.Request{Justification: justification, TicketReference: ticket, Duration: duration}); err != nil {
		if e := PolicyError(err); e != nil {
			return 0, e
		}
		return 0, err
	}
	return duration, nil
}
