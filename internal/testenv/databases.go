package testenv

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
)

// Dialects returns the names of the supported databases, in the order tests visit them.
func Dialects() []string { return []string{"postgres", "sqlite"} }

// OpenDB opens a fresh, empty (not migrated) database of the named dialect for one test and
// closes it at the end: a throwaway PostgreSQL database or a SQLite file in t.TempDir().
func OpenDB(t testing.TB, dialect string) *bun.DB {
	t.Helper()
	var (
		db  *bun.DB
		err error
	)
	switch dialect {
	case "postgres":
		db, err = schema.Open(context.Background(), Postgres(t), "", 0)
	case "sqlite":
		db, err = schema.Open(context.Background(), "", filepath.Join(t.TempDir(), "jitaccess.db"), 0)
	default:
		t.Fatalf("testenv: unknown dialect %q", dialect)
	}
	if err != nil {
		t.Fatalf("testenv: open %s database: %v", dialect, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// MigratedDB is OpenDB with every migration applied.
func MigratedDB(t testing.TB, dialect string) *bun.DB {
	t.Helper()
	db := OpenDB(t, dialect)
	if err := schema.Migrate(context.Background(), db); err != nil {
		t.Fatalf("testenv: migrate %s database: %v", dialect, err)
	}
	return db
}

// Databases returns one migrated database per supported dialect, keyed by dialect name.
func Databases(t testing.TB) map[string]*bun.DB {
	t.Helper()
	out := make(map[string]*bun.DB, 2)
	for _, d := range Dialects() {
		out[d] = MigratedDB(t, d)
	}
	return out
}

// EachDatabase runs fn as a subtest against a migrated database of every supported dialect.
func EachDatabase(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) {
			fn(t, MigratedDB(t, d))
		})
	}
}
