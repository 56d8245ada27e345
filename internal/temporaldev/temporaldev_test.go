package temporaldev

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

// The dev server must come up with our search attributes, and come back on the same state
// file with them (and its data) intact — `make dev` and the chaos suite rely on both.
func TestStartRegistersSearchAttributesAndSurvivesRestart(t *testing.T) {
	if _, err := CLI(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := Options{
		SearchAttributes: map[string]string{"JitStatus": "Keyword", "JitExpiresAt": "Datetime"},
		DBFile:           filepath.Join(t.TempDir(), "temporal.db"),
	}
	for round := 1; round <= 2; round++ {
		s, err := Start(ctx, opts)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		c, err := client.Dial(client.Options{HostPort: s.Address, Logger: nopLogger{}})
		if err != nil {
			s.Stop()
			t.Fatal(err)
		}
		resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
		c.Close()
		s.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.CustomAttributes["JitStatus"]; got != enums.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("round %d: JitStatus is %v", round, got)
		}
		if got := resp.CustomAttributes["JitExpiresAt"]; got != enums.INDEXED_VALUE_TYPE_DATETIME {
			t.Errorf("round %d: JitExpiresAt is %v", round, got)
		}
	}
}

// `make dev` keeps closed histories for Options.Retention (docs/auditing.md), not the dev
// server's one day.
func TestRetention(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	got, err := s.Retention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != DefaultRetention || DefaultRetention < 90*24*time.Hour {
		t.Errorf("retention %s, want %s (at least 90 days)", got, DefaultRetention)
	}
}
