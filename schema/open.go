// Package schema holds the database models (plain bun structs), the migrations as code and
// Open, which connects to PostgreSQL (production, tests) or to an embedded SQLite file
// (a newcomer's `make dev` without any server).
package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Open connects to databaseURL (postgres:// or postgresql://) or, when it is empty, to the
// SQLite file at sqlitePath (created with its directory when missing). It pings before
// returning, so a wrong address fails here with a clear error. maxConns bounds a PostgreSQL
// pool (0: DefaultMaxConns).
func Open(ctx context.Context, databaseURL, sqlitePath string, maxConns int) (*bun.DB, error) {
	switch {
	case databaseURL == "":
		return openSQLite(ctx, sqlitePath)
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return openPostgres(ctx, databaseURL, maxConns)
	default:
		return nil, errors.New("database URL must start with postgres:// or postgresql:// (leave it empty for the embedded SQLite file)")
	}
}

// DefaultMaxConns bounds each process's pool unless configured (JIT_DB_MAX_CONNS): enough for
// 50 concurrent requests, whose queries are short, without letting a burst exhaust the
// server's connections.
const DefaultMaxConns = 32

func openPostgres(ctx context.Context, databaseURL string, maxConns int) (*bun.DB, error) {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx redacts the password from its message only on a best-effort basis.
		return nil, fmt.Errorf("open postgres at %s: not a valid PostgreSQL connection URL", redact(databaseURL))
	}
	// bun writes every value into the SQL text, so no two queries share a statement: pgx's
	// default (prepare and cache each statement) cost an extra round trip per query and
	// churned its cache. The simple protocol sends the text once (docs/performance.md).
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	sqldb := stdlib.OpenDB(*cfg)
	// database/sql keeps only 2 idle connections by default: under concurrent grants every
	// other query then opened a new connection, i.e. forked a PostgreSQL backend (several ms
	// each), which capped throughput at ~5 grants/s (docs/performance.md). Keep a bounded
	// pool warm instead; two processes (API and worker) stay well inside max_connections=100.
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to postgres at %s: %w", redact(databaseURL), err)
	}
	return db, nil
}

func openSQLite(ctx context.Context, path string) (*bun.DB, error) {
	if path == "" {
		return nil, errors.New("no database URL and no SQLite path given")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create directory for SQLite database: %w", err)
		}
	}
	// Foreign keys are off by default in SQLite; WAL lets readers run beside the writer;
	// the busy timeout waits for the writer instead of failing; immediate transactions take
	// the write lock up front so two writers never deadlock upgrading a read lock.
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db := bun.NewDB(sqldb, sqlitedialect.New())
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	return db, nil
}

// IsPostgres reports whether db talks to PostgreSQL.
func IsPostgres(db bun.IDB) bool { return db.Dialect().Name() == dialect.PG }

// redact hides the password of a database URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
