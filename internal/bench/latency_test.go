package bench

import (
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/bench/load"
)

func TestPhasesAndThroughput(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tl := load.Timeline{Start: t0, Active: t0.Add(100 * time.Millisecond), Timer: 200 * time.Millisecond,
		Fired: t0.Add(350 * time.Millisecond), Disabled: t0.Add(400 * time.Millisecond), Closed: t0.Add(500 * time.Millisecond)}
	p := phases([]load.Timeline{tl})
	if p["start_to_active_p50"] != 100 || p["timer_late_p50"] != 50 || p["fired_to_disabled_p50"] != 50 || p["lifecycle_p50"] != 500 {
		t.Fatalf("phases %v", p)
	}
	tl2 := tl
	tl2.Start, tl2.Closed = t0.Add(500*time.Millisecond), t0.Add(time.Second)
	if got := throughput([]load.Timeline{tl, tl2}); got != 2 {
		t.Fatalf("throughput = %g, want 2/s", got)
	}
	if throughput(nil) != 0 {
		t.Fatal("no runs, no throughput")
	}
}
