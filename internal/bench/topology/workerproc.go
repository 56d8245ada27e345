package topology

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/bench/floor"
	"github.com/jitaccess/jitaccess/temporalclient"
)

// Worker kinds of RunWorkerProcess.
const (
	WorkerProduct = "product"
	WorkerFloor   = "floor"
)

// RunWorkerProcess is `jitaccess-bench --worker-process KIND`: a worker alone in its process,
// so that its memory can be measured. product runs exactly what `jitaccess worker` runs
// (app.Open + App.RunWorker); floor runs the floor's worker on JIT_TASK_QUEUE with the
// product's Temporal client (temporalclient.Dial). stickyCache,
// when positive, overrides the sticky workflow cache size the configuration sets.
func RunWorkerProcess(ctx context.Context, kind string, getenv func(string) string, stickyCache int, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	// The product's own setting (JIT_WORKER_CACHE_SIZE), unless the experiment overrides it.
	app.ConfigureProcess(cfg)
	if stickyCache > 0 {
		sdkworker.SetStickyWorkflowCacheSize(stickyCache)
	}
	logger := app.NewLogger(cfg, stderr)
	switch kind {
	case WorkerProduct:
		a, err := app.Open(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer a.Close()
		return a.RunWorker(ctx)
	case WorkerFloor:
		// The product's client options: its payload codec reads what the benchmark's starter wrote.
		c, err := temporalclient.Dial(ctx, cfg, temporalclient.Deps{Logger: logger})
		if err != nil {
			return err
		}
		defer c.Close()
		w := floor.NewWorker(c, cfg.TaskQueue, 0)
		if err := w.Start(); err != nil {
			return err
		}
		<-ctx.Done()
		w.Stop()
		return nil
	}
	return fmt.Errorf("unknown worker kind %q (want product or floor)", kind)
}

// WorkerProcess is a worker started as a child process.
type WorkerProcess struct {
	cmd  *exec.Cmd
	done chan error
}

// StartWorkerProcess runs `exe --worker-process kind` with the product's configuration on queue.
func (s *Stack) StartWorkerProcess(exe, kind, queue string, stickyCache int, logw io.Writer) (*WorkerProcess, error) {
	if exe == "" {
		return nil, errors.New("no jitaccess-bench executable to start a worker process with")
	}
	args := []string{"--worker-process", kind}
	if stickyCache > 0 {
		args = append(args, "--sticky-cache", strconv.Itoa(stickyCache))
	}
	cmd := exec.Command(exe, args...)
	env := os.Environ()
	for k, v := range s.Env {
		if k == "JIT_TASK_QUEUE" {
			v = queue
		}
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	if logw == nil {
		logw = io.Discard
	}
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	wp := &WorkerProcess{cmd: cmd, done: make(chan error, 1)}
	go func() { wp.done <- cmd.Wait() }()
	return wp, nil
}

// Pid is the worker process's id.
func (wp *WorkerProcess) Pid() int { return wp.cmd.Process.Pid }

// Stop ends the worker process (SIGTERM, SIGKILL after 30 s).
func (wp *WorkerProcess) Stop() {
	_ = wp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-wp.done:
	case <-time.After(30 * time.Second):
		_ = wp.cmd.Process.Kill()
		<-wp.done
	}
}
