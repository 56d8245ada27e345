// Package temporaldev runs the pinned Temporal CLI dev server (`temporal server start-dev`) as a
// child process, for `jitaccess dev`, the tests and the benchmark. The server is not a Go
// dependency of this module: scripts/temporal-cli.sh builds the CLI into ./bin.
package temporaldev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Options configures a Temporal dev server started by Start.
type Options struct {
	// SearchAttributes to register, name → type (Keyword, Datetime, …).
	SearchAttributes map[string]string
	// DBFile keeps state across restarts when set; otherwise the server is in-memory.
	DBFile string
	// Port of the gRPC frontend; 0 picks a free one.
	Port int
	// UIPort serves the Web UI when non-zero; otherwise the server runs headless.
	UIPort int
	// UICodecEndpoint is the remote codec the Web UI calls to show decoded payloads
	// (`jitaccess codec-server`); empty shows them as stored.
	UICodecEndpoint string
	// UIPublicPath serves the Web UI under this path (e.g. /temporal) for a reverse proxy
	// that puts it on another origin (`jitaccess dev`: the portal's).
	UIPublicPath string
	// Retention of closed workflow histories in the namespace; zero keeps the dev server's
	// default (1 day). `make dev` sets DefaultRetention.
	Retention time.Duration
	// Log receives the server's output (nil discards it).
	Log io.Writer
}

// DefaultRetention is how long `make dev` keeps closed grants' histories (replayable by
// `jitaccess replay` and `jitaccess audit`); docs/auditing.md explains the choice.
const DefaultRetention = 90 * 24 * time.Hour

// Server is a running `temporal server start-dev` process.
type Server struct {
	Address   string
	Namespace string
	cmd       *exec.Cmd
	done      chan struct{}
	stopOnce  sync.Once
}

// TemporalCLI finds the pinned CLI: $JIT_TEMPORAL_CLI, else bin/temporal at the module root.
func CLI() (string, error) {
	if p := os.Getenv("JIT_TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "bin", "temporal")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the Temporal CLI is not built: run `make temporal` (scripts/temporal-cli.sh) or set JIT_TEMPORAL_CLI")
	}
	return p, nil
}

// ModuleRoot is the directory holding go.mod, found upwards from the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the pinned dev server and waits until it answers health checks and
// the namespace accepts requests.
//
// Ports are picked free but may be taken by another process before the server binds them
// (parallel test packages start servers too), so a server that exits during start-up is
// started again on new ports, up to three times.
func Start(ctx context.Context, opts Options) (*Server, error) {
	cli, err := CLI()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, cli, opts)
		if err == nil || !errors.Is(err, errExited) || opts.Port != 0 || attempt == 3 {
			return s, err
		}
	}
}

var errExited = errors.New("temporal dev server exited during start-up")

func start(ctx context.Context, cli string, opts Options) (*Server, error) {
	var err error
	port := opts.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	httpPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	metricsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--http-port", strconv.Itoa(httpPort),
		"--metrics-port", strconv.Itoa(metricsPort),
		"--namespace", "default",
		"--log-level", "warn",
	}
	args = append(args, DevServerDynamicConfig()...)
	if opts.UIPort != 0 {
		args = append(args, "--ui-port", strconv.Itoa(opts.UIPort))
		if opts.UICodecEndpoint != "" {
			args = append(args, "--ui-codec-endpoint", opts.UICodecEndpoint)
		}
		if opts.UIPublicPath != "" {
			args = append(args, "--ui-public-path", opts.UIPublicPath)
		}
	} else {
		args = append(args, "--headless")
	}
	if opts.DBFile != "" {
		args = append(args, "--db-filename", opts.DBFile)
	}
	names := make([]string, 0, len(opts.SearchAttributes))
	for name := range opts.SearchAttributes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "--search-attribute", name+"="+opts.SearchAttributes[name])
	}
	cmd := exec.Command(cli, args...)
	tail := &tailBuffer{max: 2048}
	var out io.Writer = tail
	if opts.Log != nil {
		out = io.MultiWriter(opts.Log, tail)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Own process group, so stopping it never leaves children behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start temporal dev server: %w", err)
	}
	s := &Server{Address: fmt.Sprintf("127.0.0.1:%d", port), Namespace: "default", cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.Stop()
		if errors.Is(err, errExited) {
			return nil, fmt.Errorf("%w: %s", err, tail.String())
		}
		return nil, err
	}
	if opts.Retention > 0 {
		if err := s.SetRetention(ctx, opts.Retention); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// DevServerDynamicConfig is the dynamic configuration the product runs the dev server with, in
// `make dev`, the tests and the benchmark alike, so that figures compare like with like.
func DevServerDynamicConfig() []string {
	return []string{
		// Eager activity execution hands the first activity to the worker in the workflow
		// task's response, saving a matching round trip per step.
		"--dynamic-config-value", "system.enableActivityEagerExecution=true",
	}
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errExited
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		c, err := client.Dial(client.Options{HostPort: s.Address, Namespace: s.Namespace, Logger: nopLogger{}})
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err = c.CheckHealth(cctx, &client.CheckHealthRequest{})
			if err == nil {
				_, err = c.WorkflowService().DescribeNamespace(cctx, describeNamespace(s.Namespace))
			}
			cancel()
			c.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("temporal dev server not ready after %s: %v", limit, last)
}

// Stop ends the server (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// Kill ends the server abruptly, as a crash would.
func (s *Server) Kill() {
	s.stopOnce.Do(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	})
}

// SetRetention sets how long the namespace keeps closed workflows' histories.
func (s *Server) SetRetention(ctx context.Context, d time.Duration) error {
	c, err := client.Dial(client.Options{HostPort: s.Address, Namespace: s.Namespace, Logger: nopLogger{}})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: s.Namespace,
		Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(d)},
	})
	if err != nil {
		return fmt.Errorf("set namespace retention to %s: %w", d, err)
	}
	return nil
}

// Retention is the namespace's retention of closed workflows' histories.
func (s *Server) Retention(ctx context.Context) (time.Duration, error) {
	c, err := client.Dial(client.Options{HostPort: s.Address, Namespace: s.Namespace, Logger: nopLogger{}})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	resp, err := c.WorkflowService().DescribeNamespace(ctx, describeNamespace(s.Namespace))
	if err != nil {
		return 0, err
	}
	return resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(), nil
}

// tailBuffer keeps the last max bytes written, to say why a server exited.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
