package temporalclient

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/workflows"
)

// A fresh cluster (as docker-compose starts it) has none of our search attributes: start-up
// registers them, and a second start-up finds them and changes nothing.
func TestEnsureSearchAttributesOnAFreshCluster(t *testing.T) {
	ts := testenv.Temporal(t, temporaldev.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Dial(client.Options{HostPort: ts.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logger := slog.New(slog.DiscardHandler)
	for round := 1; round <= 2; round++ {
		if err := EnsureSearchAttributes(ctx, c, "default", logger); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range workflows.SearchAttributeDefinitions() {
		if got := resp.CustomAttributes[d.Name]; got != d.IndexedValueType() {
			t.Errorf("%s registered as %v, want %s", d.Name, got, d.Type)
		}
	}
}
