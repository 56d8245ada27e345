// Package domain holds what the grant rules (package access) and the admin operations
// (access/admin) share: the Actor a request acts for and the domain error type. Refusals are
// *Error values with a code from the product's contract (SPEC §4, §10) and a Kind; each front
// end (server/api, the portal) maps a Kind to its own answer in one place.
package domain

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
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

// PolicyError turns a *policy.Error in err's chain into its refusal (nil when there is none).
func PolicyError(err error) *Error {
	pe, ok := policy.AsError(err)
	if !ok {
		return nil
	}
	kind := Invalid
	switch pe.HTTPStatus() {
	case http.StatusForbidden:
		kind = Forbidden
	case http.StatusConflict:
		kind = Conflict
	}
	return &Error{Kind: kind, Code: pe.Code, Field: pe.Field, Message: pe.Message}
}

// RefError turns a store error about missing tenants, technicians or groups into its
// refusal; other errors are returned as they are.
func RefError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return Refuse(NotFound, "not_found", notFoundMessage(err))
	case errors.Is(err, store.ErrBuiltinGroup):
		return Refuse(Conflict, "builtin_group", "The members of All admins are exactly the tenant's members; change the tenant's members instead.")
	default:
		return err
	}
}

// notFoundMessage says what was not found without echoing internals: the store's errors
// start with the kind of object.
func notFoundMessage(err error) string {
	msg := err.Error()
	for _, what := range []string{"tenant", "technician", "group", "application", "entitlement", "grant"} {
		if len(msg) >= len(what) && msg[:len(what)] == what {
			return "The " + what + " does not exist."
		}
	}
	return "Not found."
}

// Actor is the member of staff a request acts for, whether it came with an API token or a
// portal session, plus what the audit log records about the request.
type Actor struct {
	store.Technician
	ClientIP  string
	RequestID string
	// SessionHash is the hash of the portal session the request came in; empty for tokens.
	SessionHash string
}

// IsAdmin reports whether the actor is one of the MSP's admins.
func (a Actor) IsAdmin() bool { return a.Role == store.RoleAdmin }

// maxNameLength bounds display names.
const maxNameLength = 200

// CheckName checks a required display name; the refusal names the field.
func CheckName(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", FieldError(field, "is required.")
	case utf8.RuneCountInString(v) > maxNameLength:
		return "", FieldError(field, "is longer than 200 characters.")
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", FieldError(field, "must not contain control characters.")
	}
	return v, nil
}
