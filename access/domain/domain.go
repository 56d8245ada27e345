// Package access is the domain service of jitaccess: the rules for requesting, revoking and
// extending grants, reading credentials and administering tenants, applications, groups,
// members, entitlements, tokens and staff. Its refusals are *Error values with a code from
// the product's contract (SPEC §4, §10) and a Kind; each front end (server/api, the portal)
// maps a Kind to its own answer in one place. Nothing here knows about HTTP.
package access

import (
	"errors"
	"fmt"
)

// Kind says what sort of refusal an Error is, for the front ends to map.
type Kind int

// Kinds of refusal.
const (
	Invalid     Kind = iota + 1 // the input is wrong (the field is named)
	Forbidden                   // the actor may not do this
	NotFound                    // the object does not exist (or is not the actor's to see)
	Conflict                    // the state does not allow it now
	Unavailable                 // a dependency (workflow engine, directory throttling) is not available now
	Upstream                    // the customer's directory answered with an error
)

// Error is a refusal the caller can act on.
type Error struct {
	Kind    Kind
	Code    string // snake_case, e.g. not_entitled, account_conflict
	Field   string // the input at fault, when there is one
	Message string // a human sentence
	// RetryAfter (seconds) tells the caller when trying again makes sense.
	RetryAfter int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Refuse is an Error of kind with code and message.
func Refuse(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// FieldError is invalid_field naming the field.
func FieldError(field, message string) *Error {
	return &Error{Kind: Invalid, Code: "invalid_field", Field: field, Message: fmt.Sprintf("%s: %s", field, message)}
}

// NotFoundError says that the named kind of object does not exist.
func NotFoundError(what string) *Error {
	return Refuse(NotFound, "not_found", fmt.Sprintf("The %s does not exist.", what))
}

// AsError returns err's *Error, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
