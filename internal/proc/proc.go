// Package proc runs child processes of the tools and harness (the Temporal server, the product's
// API and worker) in their own process groups: start and wait until ready, kill as a crash
// would, stop gracefully, start again.
package proc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrExited: the process exited before it was ready (often a port taken between pick and bind).
var ErrExited = errors.New("exited during start-up")

// Process is one child process (the Temporal server, a worker, an API), in its
// own process group so that stopping it never leaves grandchildren behind. It can be killed
// and started again, which the failover tests do.
type Process struct {
	Name string
	Bin  string
	Args []string
	Env  []string
	Log  string // file the process's output is appended to
	// Ready answers nil once the process serves.
	Ready func(context.Context) error

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts the process and waits up to limit until Ready answers nil.
func (p *Process) Start(ctx context.Context, limit time.Duration) error {
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Env = p.Env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	if p.Ready == nil {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		err := p.Ready(rctx)
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s %w (its log: %s)", p.Name, ErrExited, p.Log)
		case <-rctx.Done():
			p.Kill()
			return fmt.Errorf("%s not ready after %s: %v (its log: %s)", p.Name, limit, err, p.Log)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Running reports whether the process is alive.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Pid is the process id, 0 when not running.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Kill ends the process with SIGKILL, as a crash would: nothing is drained.
func (p *Process) Kill() { p.signal(syscall.SIGKILL, 0) }

// Stop ends the process with SIGTERM, then SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) { p.signal(syscall.SIGTERM, grace) }

func (p *Process) signal(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	if grace > 0 {
		select {
		case <-done:
			return
		case <-time.After(grace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	<-done
}

// Env is the machine's environment without any JIT_* variable, plus vars.
func Env(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JIT_") {
			env = append(env, kv)
		}
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// HTTPReady answers nil when url answers 200.
func HTTPReady(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %d", url, resp.StatusCode)
		}
		return nil
	}
}
