package grapherr_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra/grapherr"
)

func TestParseClassifiesGraphAnswers(t *testing.T) {
	dup := grapherr.Parse(http.StatusBadRequest, []byte(`{"error":{"code":"Request_BadRequest","message":"x",
		"details":[{"code":"ObjectConflict","target":"userPrincipalName"}],"innerError":{"request-id":"r-1"}}}`), nil)
	if !dup.IsDuplicateUPN() || !dup.IsConflictingObject() || dup.RequestID != "r-1" {
		t.Errorf("duplicate UPN answer: %+v", dup)
	}
	conflict := grapherr.Parse(http.StatusBadRequest, []byte(`{"error":{"code":"Request_BadRequest",
		"message":"A conflicting object with one or more of the specified property values is present in the directory."}}`), nil)
	if conflict.IsDuplicateUPN() || !conflict.IsConflictingObject() {
		t.Errorf("conflicting object answer: %+v", conflict)
	}
	plain := grapherr.Parse(http.StatusForbidden, []byte("not json"), func(k string) string {
		return map[string]string{"request-id": "r-2"}[k]
	})
	if plain.Code != "" || plain.Message != "Forbidden" || plain.RequestID != "r-2" || plain.Retryable() {
		t.Errorf("answer without a Graph body: %+v", plain)
	}
}

func TestErrMapsToDirectoryErrors(t *testing.T) {
	throttled := grapherr.Parse(http.StatusTooManyRequests, nil, func(k string) string {
		return map[string]string{"Retry-After": "3"}[k]
	}).Err("assign roles")
	var te *directory.ThrottledError
	if !errors.As(throttled, &te) || te.RetryAfter != 3*time.Second {
		t.Errorf("429: %v", throttled)
	}
	gone := grapherr.Parse(http.StatusNotFound, []byte(`{"error":{"code":"Request_ResourceNotFound","message":"gone"}}`), nil).Err("read user")
	var ge *directory.GraphError
	if !errors.Is(gone, directory.ErrNotFound) || !errors.As(gone, &ge) || ge.Code != grapherr.CodeResourceNotFound {
		t.Errorf("404: %v", gone)
	}
	if err := grapherr.Map("op", fmt.Errorf("wrapped: %w", directory.ErrAuthorizationLost), func(error) *grapherr.Failure { return nil }); !errors.Is(err, directory.ErrAuthorizationLost) {
		t.Errorf("a directory error passes through: %v", err)
	}
	if err := grapherr.Map("op", errors.New("dial tcp: refused"), func(error) *grapherr.Failure { return nil }); err.Error() != "op: dial tcp: refused" {
		t.Errorf("a transport error is wrapped with the operation: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 7 * time.Second, "2": 2 * time.Second, "0.5": 500 * time.Millisecond,
		"soon": 7 * time.Second, "Mon, 01 Jan 2001 00:00:00 GMT": 0} {
		if got := grapherr.RetryAfter(v, 7*time.Second); got != want {
			t.Errorf("Retry-After %q: %s, want %s", v, got, want)
		}
	}
	if got := grapherr.RetryAfter(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 0); got < 59*time.Minute {
		t.Errorf("an HTTP date an hour ahead: %s", got)
	}
}
