package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
)

// Worker kinds of RunWorkerProcess.
const (
	WorkerProduct = "product"
	WorkerFloor   = "floor"
)

// RunWorkerProcess is `jitaccess-bench --worker-process KIND`: a worker alone in its process,
// so that its memory can be measured. product runs exactly what `jitaccess worker` runs
// (app.Open + App.RunWorker); floor runs the floor's worker on JIT_TASK_QUEUE. stickyCache,
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
		c, err := client.DialContext(ctx, client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
			Logger: tlog.NewStructuredLogger(logger)})
		if err != nil {
			return err
		}
		defer c.Close()
		w := NewFloorWorker(c, cfg.TaskQueue)
		if err := w.Start(); err != nil {
			return err
		}
		<-ctx.Done()
		w.Stop()
		return nil
	}
	return fmt.Errorf("unknown worker kind %q (want product or floor)", kind)
}

// workerProcess is a worker started as a child process.
type workerProcess struct {
	cmd  *exec.Cmd
	done chan error
}

func (s *Stack) startWorkerProcess(exe, kind, queue string, stickyCache int, logw io.Writer) (*workerProcess, error) {
	if exe == "" {
		return nil, errors.New("no jitaccess executable to start a worker process with")
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
	wp := &workerProcess{cmd: cmd, done: make(chan error, 1)}
	go func() { wp.done <- cmd.Wait() }()
	return wp, nil
}

// stop ends the worker process (SIGTERM, SIGKILL after 30 s).
func (wp *workerProcess) stop() {
	_ = wp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-wp.done:
	case <-time.After(30 * time.Second):
		_ = wp.cmd.Process.Kill()
		<-wp.done
	}
}

// rssMiB reads VmRSS of pid from /proc.
func rssMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				return 0, err
			}
			return float64(kb) / 1024, nil
		}
	}
	return 0, errors.New("no VmRSS")
}

// rss: the product's worker alone in a process (the in-process one is stopped), RSS with
// rss[0] and then rss[1] live sleeping grants; the same for the floor's worker.
func (r *runner) rss(ctx context.Context) error {
	few, many := r.p.rss[0], r.p.rss[1]
	// Enough technicians: every live grant needs its own pair.
	all := interleave(r.tenants[1:])
	if need := many - len(all); need > 0 {
		per := (need + r.p.tenants - 1) / r.p.tenants
		r.logf("  adding %d technicians for %d live grants…", per*r.p.tenants, many)
		for i := 1; i < len(r.tenants); i++ {
			if err := r.s.AddTechnicians(ctx, &r.tenants[i], per, "rss"); err != nil {
				return err
			}
		}
		all = interleave(r.tenants[1:])
	}
	pairs := all[:many]
	const hold = 2 * time.Hour // sleeping through the whole measurement

	measure := func(kind string, t Target) (float64, float64, error) {
		queue := "jit-rss-" + kind
		if kind == WorkerProduct {
			// The API starts grants on the product's queue: its worker moves out of this process.
			queue = r.s.Env["JIT_TASK_QUEUE"]
			r.s.StopWorker()
			defer r.s.StartWorker(ctx)
		}
		if ft, ok := t.(*floorTarget); ok {
			ft.queue = queue
		}
		wp, err := r.s.startWorkerProcess(r.o.Executable, kind, queue, r.o.StickyCache, r.o.ProductLog)
		if err != nil {
			return 0, 0, err
		}
		defer wp.stop()
		var rs [2]float64
		done := 0
		for i, upto := range []int{few, many} {
			slots := make([]int, 0, upto-done)
			for k := done; k < upto; k++ {
				slots = append(slots, k)
			}
			runs, err := burst(ctx, t, slots, 50, hold)
			if err != nil {
				return 0, 0, err
			}
			limit := 2*time.Minute + time.Duration(len(slots))*200*time.Millisecond
			if _, err := waitActive(ctx, t, runs, limit); err != nil {
				return 0, 0, err
			}
			done = upto
			time.Sleep(2 * time.Second) // let the worker settle (GC, idle pollers)
			if rs[i], err = rssMiB(wp.cmd.Process.Pid); err != nil {
				return 0, 0, err
			}
			r.logf("  %s worker: %d sleeping grants, RSS %.1f MiB", kind, upto, rs[i])
		}
		return rs[0], rs[1], nil
	}
	f1, f2, err := measure(WorkerFloor, r.floor(many))
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	p1, p2, err := measure(WorkerProduct, r.product(pairs))
	if err != nil {
		return fmt.Errorf("product: %w", err)
	}
	scen := fmt.Sprintf("worker RSS, %d vs %d sleeping grants", few, many)
	if r.o.StickyCache > 0 {
		scen += fmt.Sprintf(" (sticky cache %d)", r.o.StickyCache)
	}
	r.add(NewFigure(scen, fmt.Sprintf("RSS at %d", few), "MiB", p1, f1, Budget{}))
	r.add(NewFigure(scen, fmt.Sprintf("RSS at %d", many), "MiB", p2, f2, Budget{}))
	ratio := NewFigure(scen, fmt.Sprintf("RSS(%d) ÷ RSS(%d)", many, few), "", p2/p1, f2/f1, Budget{Kind: "max", Limit: 1.5})
	if math.IsInf(ratio.Product, 0) {
		ratio.Verdict = "n/a"
	}
	r.add(ratio)
	r.rep.Raw[scen] = map[string]any{"product_mib": []float64{p1, p2}, "floor_mib": []float64{f1, f2}}
	// The sleeping grants stay in the throwaway dev server, which Close stops.
	return nil
}
