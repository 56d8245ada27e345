package topology

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver

	"github.com/jitaccess/jitaccess/internal/testenv"
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

// PostgreSQL's CPU is counted, a backend that has exited included.
func TestPostgresCPUCountsExitedBackends(t *testing.T) {
	db, err := sql.Open("pgx", testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	before := postgresCPU()
	if before <= 0 {
		t.Fatal("no PostgreSQL CPU seen on a machine running the test database")
	}
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM generate_series(1, 20000000)").Scan(&n); err != nil || n != 20000000 {
		t.Fatalf("query: %d, %v", n, err)
	}
	if err := db.Close(); err != nil { // the backend exits
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the postmaster reaps it
	if spent := postgresCPU() - before; spent < 500*time.Millisecond {
		t.Fatalf("PostgreSQL CPU after a query of seconds on a closed connection: %v", spent)
	}
}
