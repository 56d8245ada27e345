// Package topology starts the stacks the benchmark runs on, each with the Entra emulator and
// the floor's worker in this process: the dev topology (the pinned Temporal CLI dev server,
// the product's API and worker in this process, as `jitaccess dev`) and the production
// topology (internal/stack: the Temporal server on PostgreSQL, two `jitaccess worker` and two
// `jitaccess serve` processes behind one address). It also reads what processes cost (CPU
// and RSS from /proc) and runs a lone worker process for the RSS scenario.
package topology

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/internal/bench/floor"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/stack"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/store"
)

// Topologies Start accepts.
const (
	Dev        = "dev"
	Production = "production"
)

// Stack is a running topology as the scenarios see it.
type Stack struct {
	Topology string
	API      string // the API's one address (production: the proxy over the API processes)
	Admin    string // the bootstrap admin's token
	HTTP     *http.Client
	Sim      *entrasim.Server
	// Temporal, Converter and Store are this process's clients of the stack's Temporal
	// server and database (dev: the in-process product's own).
	Temporal  client.Client
	Converter converter.DataConverter
	Store     *store.Store
	// Env is the product's configuration, for worker processes started by StartWorkerProcess.
	Env map[string]string

	app          *app.App
	dev          *temporaldev.Server
	prod         *stack.Stack
	cleanup      []func() // run in reverse order by Close
	serverPID    int
	apiCancel    context.CancelFunc
	workerCancel context.CancelFunc
	wg           sync.WaitGroup
	workerWG     sync.WaitGroup
	floor        sdkworker.Worker
	tuning       Tuning
}

// Options configures Start.
type Options struct {
	Topology string // Dev (default) or Production
	// DatabaseURL is the PostgreSQL server for the throwaway databases (JIT_DATABASE_URL).
	DatabaseURL string
	// Log receives the product's logs (warnings and errors); nil discards them.
	Log io.Writer
	// Progress receives the production stack's start-up steps; nil discards them.
	Progress io.Writer
	// Bin holds jitaccess, temporal-server and temporal-sql-tool (production; default
	// <module root>/bin).
	Bin string
	// Tuning, when set, changes the product's Temporal client or worker for an experiment;
	// the floor gets the same change so the comparison stays like with like. Only Gzip
	// applies to the production topology (its processes read JIT_* variables only).
	Tuning Tuning
}

// Tuning is an experiment with settings the product does not (yet) use.
type Tuning struct {
	// Gzip sets JIT_TEMPORAL_COMPRESSION=gzip, the SDK's default that jitaccess turned off.
	Gzip bool
	// Pollers sets MaxConcurrentWorkflowTaskPollers and MaxConcurrentActivityTaskPollers
	// (SDK default 2 each).
	Pollers int
	// DBIdle, when positive, caps the product's idle PostgreSQL connections (database/sql's
	// default is 2; jitaccess keeps its whole pool warm).
	DBIdle int
}

func (t Tuning) String() string {
	var parts []string
	if t.Gzip {
		parts = append(parts, "gzip")
	}
	if t.Pollers > 0 {
		parts = append(parts, fmt.Sprintf("pollers=%d", t.Pollers))
	}
	if t.DBIdle > 0 {
		parts = append(parts, fmt.Sprintf("db-idle=%d", t.DBIdle))
	}
	return strings.Join(parts, ",")
}

// Start starts the topology and waits until the API is ready. Close stops everything and
// drops the databases.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	s := &Stack{Topology: o.Topology, tuning: o.Tuning,
		HTTP: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}}
	if s.Topology == "" {
		s.Topology = Dev
	}
	defer func() {
		// Never leave a server or a database behind, even on a panic.
		if p := recover(); p != nil {
			s.Close()
			panic(p)
		}
		if err != nil {
			s.Close()
		}
	}()
	switch s.Topology {
	case Dev:
		err = s.startDev(ctx, o)
	case Production:
		if o.Tuning.Pollers > 0 || o.Tuning.DBIdle > 0 {
			return nil, errors.New("the production topology takes no --tune-pollers or --tune-db-idle: its processes read JIT_* variables only")
		}
		err = s.startProduction(ctx, o)
	default:
		return nil, fmt.Errorf("unknown topology %q (want %s or %s)", s.Topology, Dev, Production)
	}
	if err != nil {
		return nil, err
	}
	// The floor's worker runs in this process on the same Temporal server.
	s.floor = floor.NewWorker(s.Temporal, floor.TaskQueue, o.Tuning.Pollers)
	if err := s.floor.Start(); err != nil {
		return nil, fmt.Errorf("start floor worker: %w", err)
	}
	return s, nil
}

// TaskQueue is the product's task queue.
func (s *Stack) TaskQueue() string { return s.Env["JIT_TASK_QUEUE"] }

// ServerPID is the Temporal server's process (dev server or temporal-server), 0 if unknown.
func (s *Stack) ServerPID() int {
	if s.prod != nil {
		return s.prod.Temporal.Pid()
	}
	return s.serverPID
}

// ProductPIDs are the product's processes other than this one: production's APIs and
// workers; none in the dev topology, where the product runs in this process.
func (s *Stack) ProductPIDs() []int {
	if s.prod == nil {
		return nil
	}
	return append(pids(s.prod.APIs), pids(s.prod.Workers)...)
}

// WorkerPIDs are production's `jitaccess worker` processes (none in the dev topology).
func (s *Stack) WorkerPIDs() []int {
	if s.prod == nil {
		return nil
	}
	return pids(s.prod.Workers)
}

// Close stops everything this stack started, in reverse order, and drops the databases.
func (s *Stack) Close() {
	if s.floor != nil {
		s.floor.Stop()
	}
	s.StopWorker()
	if s.apiCancel != nil {
		s.apiCancel()
	}
	s.wg.Wait()
	if s.app != nil {
		s.app.Close()
	}
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
}

func waitReady(ctx context.Context, hc *http.Client, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v", url, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed")) // never happens on Linux
	}
	return b
}
