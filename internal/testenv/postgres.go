package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver
)

// DefaultPostgresURL is where tests look for PostgreSQL when no variable names one.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresAdminURL is the server tests create their databases on: JIT_TEST_DATABASE_URL,
// else JIT_DATABASE_URL, else the local default.
func PostgresAdminURL() string {
	for _, v := range []string{"JIT_TEST_DATABASE_URL", "JIT_DATABASE_URL"} {
		if s := os.Getenv(v); s != "" {
			return s
		}
	}
	return DefaultPostgresURL
}

// Postgres creates an empty throwaway database on the test server and returns its URL.
// The database is dropped when the test ends. When PostgreSQL cannot be reached the test
// fails with one line saying how to provide one.
func Postgres(t testing.TB) string {
	t.Helper()
	adminURL := PostgresAdminURL()
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("testenv: the PostgreSQL URL %q is not a URL: %v", "JIT_DATABASE_URL", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	admin, err := sql.Open("pgx", adminURL)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		t.Fatalf("testenv: PostgreSQL is not reachable at %s (%v): start the local server on 127.0.0.1:5432 or set JIT_DATABASE_URL (or JIT_TEST_DATABASE_URL) to a server where the user may CREATE DATABASE",
			u.Redacted(), err)
	}
	defer admin.Close()

	name := "jit_test_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		t.Fatalf("testenv: cannot create a throwaway database on %s: %v (the user needs CREATEDB)", u.Redacted(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", adminURL)
		if err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
			return
		}
		defer db.Close()
		// FORCE ends connections a test left open (PostgreSQL 13+).
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})

	dbURL := *u
	dbURL.Path = "/" + name
	return dbURL.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
