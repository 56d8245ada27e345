package testenv

import (
	"context"
	"testing"

	"github.com/jitaccess/jitaccess/internal/temporaldev"
)

// Temporal starts the pinned Temporal dev server for one test (or TestMain) and stops it at
// cleanup. It fails the test with one line saying how to build the CLI when it is missing.
func Temporal(t testing.TB, opts temporaldev.Options) *temporaldev.Server {
	t.Helper()
	s, err := temporaldev.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("temporal: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}
