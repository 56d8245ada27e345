package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/workflows"
)

// binary finds the built jitaccess binary: $JIT_BINARY, else bin/jitaccess at the module root.
func binary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("JIT_BINARY")
	if p == "" {
		root, err := temporaldev.ModuleRoot()
		if err != nil {
			t.Fatalf("chaos: %v", err)
		}
		p = filepath.Join(root, "bin", "jitaccess")
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		t.Fatalf("chaos: the jitaccess binary is missing at %s: run `make build` (or set JIT_BINARY)", p)
	}
	return p
}

// --- PostgreSQL: a private instance, so restarting it disturbs no other test ---

type postgres struct {
	t      *testing.T
	bin    string // directory of initdb, pg_ctl
	dir    string // owned by the server's OS user
	port   int
	asUser []string // runuser prefix when running as root
}

// startPostgres runs initdb into a fresh directory and starts a server on a free port on
// 127.0.0.1. initdb refuses root, so as root it runs as the `postgres` OS user.
func startPostgres(t *testing.T) *postgres {
	t.Helper()
	bin, err := postgresBin()
	if err != nil {
		t.Fatalf("chaos: %v", err)
	}
	dir, err := os.MkdirTemp("", "jit-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &postgres{t: t, bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("chaos: running as root needs the `postgres` OS user for initdb: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() {
		_ = p.run(15*time.Second, "pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop")
		_ = os.RemoveAll(dir)
	})
	if err := p.run(2*time.Minute, "initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("chaos: initdb: %v", err)
	}
	if p.port, err = temporaldev.FreePort(); err != nil {
		t.Fatal(err)
	}
	if err := p.start(); err != nil {
		t.Fatalf("chaos: start PostgreSQL: %v", err)
	}
	return p
}

// postgresBin is the newest /usr/lib/postgresql/<version>/bin, else the directory of initdb on PATH.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) < version(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on PATH")
}

func version(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func (p *postgres) data() string { return filepath.Join(p.dir, "data") }

// URL is the connection string of the instance's postgres database.
func (p *postgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *postgres) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.port, p.dir)
	return p.run(time.Minute, "pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "postgres.log"), "-o", opts, "-w", "-t", "60", "start")
}

// crash stops the server the way a crash would (no shutdown checkpoint: WAL recovery on start).
func (p *postgres) crash() error {
	return p.run(30*time.Second, "pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop")
}

func (p *postgres) run(limit time.Duration, tool string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	argv := append(append([]string{}, p.asUser...), filepath.Join(p.bin, tool))
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// --- Temporal: the pinned dev server on a fixed port with a state file, so it can restart ---

type temporal struct {
	t    *testing.T
	opts temporaldev.Options
	mu   sync.Mutex
	srv  *temporaldev.Server
}

func startTemporal(t *testing.T, dir string) *temporal {
	t.Helper()
	port, err := temporaldev.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "temporal.log"))
	if err != nil {
		t.Fatal(err)
	}
	sas := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sas[d.Name] = d.Type
	}
	tp := &temporal{t: t, opts: temporaldev.Options{SearchAttributes: sas, DBFile: filepath.Join(dir, "temporal.db"), Port: port, Log: log}}
	if err := tp.start(); err != nil {
		t.Fatalf("chaos: %v", err)
	}
	t.Cleanup(func() {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		if tp.srv != nil {
			tp.srv.Stop()
		}
		log.Close()
	})
	return tp
}

func (tp *temporal) address() string { return fmt.Sprintf("127.0.0.1:%d", tp.opts.Port) }

func (tp *temporal) start() error {
	s, err := temporaldev.Start(context.Background(), tp.opts)
	if err != nil {
		return err
	}
	tp.mu.Lock()
	tp.srv = s
	tp.mu.Unlock()
	return nil
}

// crash kills the server (SIGKILL); its state file stays.
func (tp *temporal) crash() {
	tp.mu.Lock()
	s := tp.srv
	tp.srv = nil
	tp.mu.Unlock()
	if s != nil {
		s.Kill()
	}
}

// --- the product: `jitaccess serve` and `jitaccess worker` as real processes (internal/proc) ---

const (
	startLimit = 90 * time.Second // until a started process serves
	stopGrace  = 20 * time.Second // SIGTERM, then SIGKILL
)
