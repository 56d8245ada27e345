package topology

import (
	"context"
	"os"
	"strings"
	"testing"
)

// A topology that does not exist, or an experiment the production processes cannot take, is
// refused before anything starts.
func TestStartRefusesWhatItCannotRun(t *testing.T) {
	for _, o := range []Options{
		{Topology: "cluster"},
		{Topology: Production, Tuning: Tuning{Pollers: 4}},
		{Topology: Production, Tuning: Tuning{DBIdle: 2}},
	} {
		s, err := Start(context.Background(), o)
		if err == nil || s != nil {
			t.Fatalf("%+v: started (%v)", o, err)
		}
	}
}

func TestTuningString(t *testing.T) {
	if got := (Tuning{Gzip: true, Pollers: 4, DBIdle: 2}).String(); got != "gzip,pollers=4,db-idle=2" {
		t.Fatalf("%q", got)
	}
	if (Tuning{}).String() != "" {
		t.Fatal("no tuning, no text")
	}
}

// The /proc readers see this very process.
func TestProcReaders(t *testing.T) {
	rss, err := RSSMiB(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("RSS %v %v", rss, err)
	}
	if _, err := RSSMiB(-1); err == nil {
		t.Fatal("RSS of no process")
	}
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if MemTotalMiB() <= 0 || len(strings.Fields(LoadAvg())) != 3 {
		t.Fatalf("meminfo %d, loadavg %q", MemTotalMiB(), LoadAvg())
	}
	s := &Stack{}
	c := s.CPU()
	per := s.CPUPerRun(c, 0)
	if _, ok := per["product_processes_cpu_ms_per_lifecycle"]; ok {
		t.Fatal("the dev topology has no product processes")
	}
}
