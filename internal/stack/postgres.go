package stack

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jitaccess/jitaccess/internal/proc"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
)

// Postgres is a PostgreSQL server of the stack's own, on its own port and data directory, so
// that the failover test can crash and restart the database under the topology without
// touching the machine's server that other tests use.
type Postgres struct {
	*proc.Process
	// URL is the admin URL (user postgres, trust on 127.0.0.1), for Options.PostgresURL.
	URL string
}

// StartPostgres initialises a cluster in dir (created; owned by the postgres user when run as
// root, since PostgreSQL refuses to run as root) and starts it on a free port. settings are
// further `name=value` server settings, given after the defaults (the last one wins).
func StartPostgres(ctx context.Context, dir string, settings ...string) (*Postgres, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	port, err := temporaldev.FreePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	wrap, err := asPostgresUser(dir)
	if err != nil {
		return nil, err
	}
	initdb := exec.CommandContext(ctx, wrap[0], append(wrap[1:], filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")...)
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	args := append(wrap[1:], filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "max_connections=200", "-c", "fsync=off")
	for _, kv := range settings {
		args = append(args, "-c", kv)
	}
	p := &Postgres{URL: url, Process: &proc.Process{
		Name: "postgres",
		Bin:  wrap[0],
		Args: args,
		Env:  os.Environ(),
		Log:  filepath.Join(dir, "postgres.log"),
		Ready: func(ctx context.Context) error {
			db, err := sql.Open("pgx", url)
			if err != nil {
				return err
			}
			defer db.Close()
			return db.PingContext(ctx)
		},
	}}
	if err := p.Start(ctx, time.Minute); err != nil {
		return nil, err
	}
	return p, nil
}

// Crash kills the server with SIGKILL (no shutdown checkpoint; the next start runs crash
// recovery) and starts it again on the same port and data.
func (p *Postgres) Crash(ctx context.Context, down time.Duration) error {
	p.Kill()
	// The postmaster's children exit once it is gone; the port is free when they have.
	time.Sleep(down)
	return p.Start(ctx, 2*time.Minute)
}

func postgresBin() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(matches) == 0 {
		if p, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errors.New("PostgreSQL's server binaries are not installed (apt-get install postgresql)")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// asPostgresUser is the command prefix that runs the server's programs as the postgres user
// when this process is root, and gives dir to that user.
func asPostgresUser(dir string) ([]string, error) {
	if os.Geteuid() != 0 {
		return []string{"env"}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// Every directory above dir must be enterable by the postgres user.
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			if d == dir {
				continue
			}
			if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
				return nil, err
			}
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups", "--"}, nil
}
