package policy

import (
	"errors"
	"net/http"
)

// Error codes of policy refusals, as the API reports them (SPEC §10).
const (
	CodeInvalidPolicy          = "invalid_policy"
	CodeJustificationRequired  = "justification_required"
	CodeTicketReferenceInvalid = "ticket_reference_invalid"
	CodeDurationExceedsPolicy  = "duration_exceeds_policy"
	CodeApprovalRequired       = "approval_required"
	CodeSelfApproval           = "self_approval"
	CodeNotApprover            = "not_approver"
	CodeNotPendingApproval     = "not_pending_approval"
)

// Error is a refusal by the policy: a code, the field it is about and a sentence.
type Error struct {
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// HTTPStatus is the status the API answers the refusal with.
func (e *Error) HTTPStatus() int {
	switch e.Code {
	case CodeSelfApproval, CodeNotApprover:
		return http.StatusForbidden
	case CodeApprovalRequired, CodeNotPendingApproval:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

func invalid(field, msg string) *Error {
	return &Error{Code: CodeInvalidPolicy, Field: field, Message: field + " " + msg}
}

// AsError finds a *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func asType[T any](err error, target *T) bool { return errors.As(err, target) }
