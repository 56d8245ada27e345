package access

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/api/serviceerror"
)

// Errors that say "not now" become ErrWorkflowsUnavailable (503 with Retry-After); the rest stay
// what they are (500, logged).
func TestEngineError(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"unreachable", serviceerror.NewUnavailable("connection refused"), true},
		{"overloaded", serviceerror.NewResourceExhausted(0, "busy"), true},
		{"deadline", context.DeadlineExceeded, true},
		{"namespace not loaded yet", serviceerror.NewNamespaceNotFound("jitaccess"), true},
		{"namespace unavailable", serviceerror.NewNamespaceUnavailable("jitaccess"), true},
		{"namespace failing over", serviceerror.NewNamespaceNotActive("jitaccess", "a", "b"), true},
		{"invalid argument", serviceerror.NewInvalidArgument("bad"), false},
		{"internal", serviceerror.NewInternal("boom"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := engineError("start access/x", tc.err)
			if got := errors.Is(err, ErrWorkflowsUnavailable); got != tc.unavailable {
				t.Fatalf("engineError(%v) unavailable = %v, want %v", tc.err, got, tc.unavailable)
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("engineError(%v) lost the cause: %v", tc.err, err)
			}
		})
	}
}
