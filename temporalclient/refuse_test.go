package temporalclient

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
)

// probe records what reaches it: accepted "set" updates, then the first "poke" signal, and
// any wake-up by a signal that then did not decode (the SDK drops those only on receipt, after
// a selector or an Await has already woken on them).
func probe(ctx workflow.Context, in string) (string, error) {
	seen := []string{in}
	if err := workflow.SetUpdateHandler(ctx, "set", func(ctx workflow.Context, v string) error {
		seen = append(seen, "update:"+v)
		return nil
	}); err != nil {
		return "", err
	}
	ch := workflow.GetSignalChannel(ctx, "poke")
	var v string
	for v == "" {
		if err := workflow.Await(ctx, func() bool { return ch.Len() > 0 }); err != nil {
			return "", err
		}
		if !ch.ReceiveAsync(&v) {
			seen = append(seen, "woken-by-undecodable-signal")
		}
	}
	seen = append(seen, "signal:"+v)
	return strings.Join(seen, ","), nil
}

func testConfig(t *testing.T, ts *temporaldev.Server) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"JIT_ENCRYPTION_KEY":     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
			"JIT_TEMPORAL_ADDRESS":   ts.Address,
			"JIT_TEMPORAL_NAMESPACE": ts.Namespace,
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A client without the codec (anyone who can reach the frontend) cannot start, signal or
// update a workflow on a jitaccess worker: the run fails at once, the signal is dropped,
// the update is rejected. The product's own client gets through.
func TestWorkerRefusesPayloadsWithoutTheCodec(t *testing.T) {
	ts := testenv.Temporal(t, temporaldev.Options{})
	cfg := testConfig(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	product, err := Dial(ctx, cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer product.Close()
	const queue = "refuse-test"
	w := sdkworker.New(product, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(probe, workflow.RegisterOptions{Name: "probe"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	plain, err := client.Dial(client.Options{HostPort: ts.Address, Namespace: ts.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	// Started without the codec: the run fails (not a workflow task retried forever).
	run, err := plain.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "forged-start", TaskQueue: queue}, "probe", "forged")
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), ErrNotEncrypted.Error()) {
		t.Fatalf("forged start: err = %v, want the run failed with %q", err, ErrNotEncrypted)
	}

	// Started by the product: forged signal and update are refused, genuine ones accepted.
	run, err = product.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "genuine", TaskQueue: queue}, "probe", "genuine")
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.SignalWorkflow(ctx, run.GetID(), "", "poke", "forged"); err != nil {
		t.Fatal(err)
	}
	upd, err := plain.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: "set",
		Args: []any{"forged"}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = upd.Get(ctx, nil)
	}
	if err == nil || !strings.Contains(err.Error(), ErrNotEncrypted.Error()) {
		t.Fatalf("forged update: err = %v, want rejected with %q", err, ErrNotEncrypted)
	}
	upd, err = product.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: "set",
		Args: []any{"ok"}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		t.Fatal(err)
	}
	if err := upd.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := product.SignalWorkflow(ctx, run.GetID(), "", "poke", "real"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if want := "genuine,update:ok,signal:real"; got != want {
		t.Errorf("workflow saw %q, want %q", got, want)
	}
}
