package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// ProfileEvery is how often DumpProfiles writes.
const ProfileEvery = 10 * time.Second

// memoryMetrics are the runtime figures written beside each heap profile: what the heap
// holds, what goroutine stacks hold and how many goroutines there are (a cached workflow
// keeps one per coroutine).
var memoryMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/total:bytes",
	"/sched/goroutines:goroutines",
}

// DumpProfiles writes the process's heap profile (go tool pprof) and its memory figures to
// dir every `every` until ctx ends, as heap-<pid>-<unix seconds>.pb.gz and
// memory-<pid>-<unix seconds>.txt, so that a worker's memory can be compared at two loads
// without a debug listener. It creates dir; a failed write is logged and retried next time.
func DumpProfiles(ctx context.Context, dir string, every time.Duration, logger *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("profile directory: %w", err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if err := dumpOnce(dir, now); err != nil {
				logger.Warn("profile not written", "dir", dir, "error", err)
			}
		}
	}
}

func dumpOnce(dir string, now time.Time) error {
	stem := fmt.Sprintf("%d-%d", os.Getpid(), now.Unix())
	f, err := os.Create(filepath.Join(dir, "heap-"+stem+".pb.gz"))
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	samples := make([]metrics.Sample, len(memoryMetrics))
	for i, name := range memoryMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	var text []byte
	for _, s := range samples {
		text = fmt.Appendf(text, "%s %d\n", s.Name, s.Value.Uint64())
	}
	return os.WriteFile(filepath.Join(dir, "memory-"+stem+".txt"), text, 0o600)
}
