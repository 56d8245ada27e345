// Command jitaccess-stack runs jitaccess in its production topology on this machine (`make
// stack`): the Temporal server built from source on PostgreSQL, two workers, two APIs behind
// one address, and the Entra emulator (package internal/stack). It is a tool, not part of the
// product binary.
//
//	jitaccess-stack [flags]        start, seed the demo MSP, run until Ctrl-C or `down`
//	jitaccess-stack down [--dir]   stop the stack running from that directory
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jitaccess/jitaccess/internal/cli"
	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/stack"
)

func main() {
	cli.Main("jitaccess-stack", func(ctx context.Context, args []string) error {
		return run(ctx, args, os.Stdout, os.Stderr)
	})
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	down := len(args) > 0 && args[0] == "down"
	if down {
		args = args[1:]
	}
	fs := flag.NewFlagSet("jitaccess-stack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".jitaccess/stack", "directory for the stack's state and logs")
	addr := fs.String("addr", "127.0.0.1:8180", "the APIs' one address (the round-robin proxy)")
	simAddr := fs.String("entra-sim-addr", "127.0.0.1:8190", "listen address of the Entra emulator")
	temporalPort := fs.Int("temporal-port", 7333, "Temporal frontend gRPC port; the server's other ports follow it (0: free ports)")
	postgres := fs.String("postgres", stack.DefaultPostgresURL, "PostgreSQL server URL; its user must be allowed to create databases")
	prefix := fs.String("db-prefix", "jit_stack", "database names: <prefix>_temporal, <prefix>_temporal_visibility, <prefix>_app")
	workers := fs.Int("workers", 2, "jitaccess worker processes")
	apis := fs.Int("apis", 2, "jitaccess serve processes")
	noSeed := fs.Bool("no-seed", false, "do not seed the demo MSP")
	reset := fs.Bool("reset", false, "drop the stack's databases and state before starting")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pidFile := filepath.Join(*dir, "stack.pid")
	if down {
		return stopRunning(pidFile, stdout)
	}
	o := stack.Options{Dir: *dir, PostgresURL: *postgres, DatabasePrefix: *prefix, Addr: *addr, SimAddr: *simAddr,
		TemporalPort: *temporalPort, Workers: *workers, APIs: *apis, Progress: stdout}
	if *reset {
		if err := stack.Reset(ctx, o); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	if pid, ok := runningPid(pidFile); ok {
		return fmt.Errorf("a stack is already running from %s (pid %d): `make stack-down` stops it", *dir, pid)
	}
	began := time.Now()
	s, err := stack.Start(ctx, o)
	if err != nil {
		return err
	}
	defer s.Stop()
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pidFile)

	d := demo.Demo{API: s.URL, AdminToken: s.AdminToken}
	envFile := filepath.Join(s.Dir, "stack.env")
	if !*noSeed {
		if d, err = demo.Seed(ctx, demo.Options{API: s.URL, AdminToken: s.AdminToken, AccessDuration: "2m", EnvFile: envFile}); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
	} else if err := demo.WriteEnvFile(envFile, d, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
The production-shaped stack is up (%s).

  API and portal    %s   (round-robin over %d jitaccess serve processes)
  workers           %d jitaccess worker processes
  Temporal server   %s   (v%s on PostgreSQL, SQL visibility; namespace %s)
  Entra emulator    %s
  databases         %s
  state and logs    %s

  admin token       %s
  technician token  %s

  set -a; . %s; set +a     # then follow the README's "Using it" walkthrough
  temporal workflow list --address %s --query 'JitStatus="active"'

Ctrl-C (or make stack-down) stops everything; the databases keep the data (--reset forgets it).
`, time.Since(began).Round(time.Second), s.URL, len(s.APIs), len(s.Workers), s.TemporalAddress, stack.TemporalServerVersion,
		s.Namespace, s.SimURL, strings.Join(s.Databases, ", "), s.Dir, s.AdminToken, d.TechnicianToken, envFile, s.TemporalAddress)

	<-ctx.Done()
	fmt.Fprintln(stdout, "\nstopping the stack…")
	return nil
}

// runningPid reads the pid file of a stack and reports whether that process is alive.
func runningPid(pidFile string) (int, bool) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil
}

// stopRunning asks the stack process named by the pid file to stop and waits until it is gone.
func stopRunning(pidFile string, stdout io.Writer) error {
	pid, ok := runningPid(pidFile)
	if !ok {
		fmt.Fprintln(stdout, "no stack is running")
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop pid %d: %w", pid, err)
	}
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
		if syscall.Kill(pid, 0) != nil {
			fmt.Fprintln(stdout, "stack stopped")
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("the stack did not stop within 90 s")
}
