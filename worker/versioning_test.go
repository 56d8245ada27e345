package worker

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
)

// sleeper stands for a grant: it starts, sleeps until told to wake (its "expiry"), then says
// which build ran its last step.
func sleeperOn(build string) func(workflow.Context) (string, error) {
	return func(ctx workflow.Context) (string, error) {
		workflow.GetSignalChannel(ctx, "wake").Receive(ctx, nil)
		return build, nil
	}
}

// A rollout on the dev server with the options DeploymentOptions gives: a run started on build A
// and left sleeping ends on A after build B became current; a run started afterwards runs on B.
func TestPinnedRollout(t *testing.T) {
	srv := testenv.Temporal(t, temporaldev.Options{})
	c, err := client.Dial(client.Options{HostPort: srv.Address, Namespace: srv.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const deployment, queue = "jitaccess-test", "versioning-test"

	start := func(build string) sdkworker.Worker {
		w := sdkworker.New(c, queue, sdkworker.Options{DeploymentOptions: DeploymentOptions(deployment, build)})
		w.RegisterWorkflowWithOptions(sleeperOn(build), workflow.RegisterOptions{Name: "Sleeper"})
		if err := w.Start(); err != nil {
			t.Fatalf("start worker %s: %v", build, err)
		}
		t.Cleanup(w.Stop)
		return w
	}
	setCurrent := func(build string) {
		h := c.WorkerDeploymentClient().GetHandle(deployment)
		// The version exists once its worker has polled; retry until then.
		deadline := time.Now().Add(time.Minute)
		for {
			_, err := h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: build, IgnoreMissingTaskQueues: true})
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("set current version %s: %v", build, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	run := func(id string) client.WorkflowRun {
		r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, "Sleeper")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// waitStarted waits until the run's first workflow task completed on a worker, so it is pinned.
	waitStarted := func(r client.WorkflowRun) string {
		for {
			d, err := c.DescribeWorkflowExecution(ctx, r.GetID(), r.GetRunID())
			if err != nil {
				t.Fatal(err)
			}
			if vi := d.GetWorkflowExecutionInfo().GetVersioningInfo(); vi != nil && vi.GetDeploymentVersion().GetBuildId() != "" {
				return vi.GetDeploymentVersion().GetBuildId()
			}
			if ctx.Err() != nil {
				t.Fatalf("run %s never ran a workflow task on a versioned worker", r.GetID())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	start("A")
	setCurrent("A")
	old := run("grant-on-a")
	if got := waitStarted(old); got != "A" {
		t.Fatalf("first run pinned to %q, want A", got)
	}

	start("B")
	setCurrent("B")
	young := run("grant-on-b")
	if got := waitStarted(young); got != "B" {
		t.Fatalf("run started after the rollout pinned to %q, want B", got)
	}

	for _, r := range []client.WorkflowRun{old, young} {
		if err := c.SignalWorkflow(ctx, r.GetID(), r.GetRunID(), "wake", nil); err != nil {
			t.Fatal(err)
		}
	}
	for r, want := range map[client.WorkflowRun]string{old: "A", young: "B"} {
		var got string
		if err := r.Get(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s woke on build %s, want %s (pinned to the build that started it)", r.GetID(), got, want)
		}
	}
}
