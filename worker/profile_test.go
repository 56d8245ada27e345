package worker

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDumpProfilesWritesHeapAndMemory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profiles")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- DumpProfiles(ctx, dir, 10*time.Millisecond, slog.Default()) }()

	deadline := time.Now().Add(10 * time.Second)
	var heap, mem []string
	for time.Now().Before(deadline) && (len(heap) == 0 || len(mem) == 0) {
		time.Sleep(20 * time.Millisecond)
		heap, _ = filepath.Glob(filepath.Join(dir, "heap-*.pb.gz"))
		mem, _ = filepath.Glob(filepath.Join(dir, "memory-*.txt"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(heap) == 0 || len(mem) == 0 {
		t.Fatalf("no profile written: heap %v, memory %v", heap, mem)
	}
	b, err := os.ReadFile(heap[0])
	if err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("heap profile is not gzip (pprof's format): %v", err)
	}
	m, err := os.ReadFile(mem[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range memoryMetrics {
		if !strings.Contains(string(m), name+" ") {
			t.Errorf("memory figures lack %s:\n%s", name, m)
		}
	}
	if strings.Contains(string(m), "/sched/goroutines:goroutines 0\n") {
		t.Errorf("no goroutines counted:\n%s", m)
	}
}

func TestDumpProfilesRefusesAFileAsDirectory(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := DumpProfiles(context.Background(), f, time.Millisecond, slog.Default()); err == nil {
		t.Fatal("a file accepted as the profile directory")
	}
}
