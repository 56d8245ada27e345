package worker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jitaccess/jitaccess/activities"
	"github.com/jitaccess/jitaccess/activities/activitiestest"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/worker"
	"github.com/jitaccess/jitaccess/workflows"
)

// perTechnician gives every technician its own account, as the database does (the fake's
// single entitlement would make every grant compete for one account).
type perTechnician struct{ *activitiestest.Store }

func (s perTechnician) CheckEntitlement(ctx context.Context, tenantID, applicationID, technicianID string) (store.Entitlement, error) {
	e, err := s.Store.CheckEntitlement(ctx, tenantID, applicationID, technicianID)
	e.Technician.ID, e.Technician.Email = technicianID, technicianID+"@msp.example"
	return e, err
}

// BenchmarkSleepingGrantMemory measures what a sleeping grant costs the worker's memory:
// the real workflow and worker (fake store and directory, no network besides Temporal) on
// the pinned dev server, heap and goroutine stacks after a GC at each number of sleeping
// grants in JIT_BENCH_GRANTS (default 100,1000), with the sticky cache of
// JIT_WORKER_CACHE_SIZE (the configuration's default unless set). With JIT_PROFILE_DIR set
// it writes a heap profile at each point. Counts, not times: the machine's load does not
// change them.
//
//	go test -run '^$' -bench SleepingGrantMemory -benchtime 1x ./worker/
func BenchmarkSleepingGrantMemory(b *testing.B) {
	cfg, err := config.Load(func(k string) string {
		if k == "JIT_ENCRYPTION_KEY" {
			return "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		}
		return os.Getenv(k)
	})
	if err != nil {
		b.Fatal(err)
	}
	points := []int{100, 1000}
	if v := os.Getenv("JIT_BENCH_GRANTS"); v != "" {
		points = points[:0]
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatalf("JIT_BENCH_GRANTS: %v", err)
			}
			points = append(points, n)
		}
	}
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkerCacheSize)
	if os.Getenv("JIT_PROFILE_DIR") != "" {
		runtime.MemProfileRate = 4096 // fine enough to attribute a grant's ~45 KB
	}

	sa := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sa[d.Name] = d.Type
	}
	srv, err := temporaldev.Start(context.Background(), temporaldev.Options{SearchAttributes: sa})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := client.Dial(client.Options{HostPort: srv.Address, Namespace: srv.Namespace, Logger: tlog.NewStructuredLogger(quiet)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	fake := &activitiestest.Store{Entitlement: store.Entitlement{Allowed: true, RuleID: "ent_1", RuleName: "All",
		Application: store.ApplicationConfig{ID: "app_1", TenantID: "tnt_1", Name: "Contoso", Status: "ready",
			Domain: "contoso.com", Roles: []string{"role-a", "role-b", "role-c"}, AccessDuration: 4 * time.Hour}}}
	const queue = "jit-memory"
	w := worker.New(c, &activities.Activities{Store: perTechnician{fake}, Directory: &activitiestest.Directory{},
		MaxAccessDuration: 8 * time.Hour, Logger: quiet}, worker.Options{TaskQueue: queue, StopTimeout: time.Second})
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()

	for b.Loop() {
		started := 0
		var base [3]uint64
		for i, upto := range points {
			for ; started < upto; started++ {
				in := workflows.AccessRequestInput{GrantID: fmt.Sprintf("grt_%d", started), TenantID: "tnt_1", ApplicationID: "app_1",
					TechnicianID: fmt.Sprintf("tec_%d", started)}
				fake.AddGrant(store.Grant{ID: in.GrantID, WorkflowID: workflows.WorkflowID(in.TenantID, in.ApplicationID, in.TechnicianID),
					TenantID: in.TenantID, ApplicationID: in.ApplicationID, TechnicianID: in.TechnicianID,
					RequestedAt: time.Now().UTC(), RequestedDuration: 2 * time.Hour})
				if _, err := c.ExecuteWorkflow(context.Background(), workflows.StartOptions(in, queue), workflows.WorkflowType, in); err != nil {
					b.Fatal(err)
				}
			}
			deadline := time.Now().Add(10 * time.Minute)
			for active(fake, upto) < upto {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d grants active after 10 minutes", active(fake, upto), upto)
				}
				time.Sleep(200 * time.Millisecond)
			}
			time.Sleep(2 * time.Second) // the last workflow tasks complete
			m := memory()
			b.Logf("cache %d, %5d sleeping grants: heap %6.1f MiB, stacks %5.1f MiB, %5d goroutines",
				cfg.WorkerCacheSize, upto, mib(m[0]), mib(m[1]), m[2])
			if dir := os.Getenv("JIT_PROFILE_DIR"); dir != "" {
				writeHeap(b, filepath.Join(dir, fmt.Sprintf("sleeping-%d-cache-%d.pb.gz", upto, cfg.WorkerCacheSize)))
			}
			if i == 0 {
				base = m
				continue
			}
			n := float64(upto - points[0])
			b.ReportMetric(float64(m[0]+m[1]-base[0]-base[1])/n, fmt.Sprintf("B/grant_%d-%d", points[0], upto))
			b.ReportMetric(float64(m[2]-base[2])/n, fmt.Sprintf("goroutines/grant_%d-%d", points[0], upto))
		}
	}
}

func active(s *activitiestest.Store, n int) int {
	k := 0
	for i := range n {
		if g, ok := s.Row(fmt.Sprintf("grt_%d", i)); ok && g.Status == string(workflows.StatusActive) {
			k++
		}
	}
	return k
}

// memory: live heap objects, goroutine stacks (bytes) and goroutines, after a full GC.
func memory() [3]uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/sched/goroutines:goroutines"}}
	metrics.Read(s)
	return [3]uint64{s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()}
}

func mib(v uint64) float64 { return float64(v) / (1 << 20) }

func writeHeap(b *testing.B, path string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
