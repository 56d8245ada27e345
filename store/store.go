// Package store runs every query of the product on a *bun.DB (PostgreSQL or SQLite) and seals
// and unseals secrets on the way, so that no caller handles ciphertext: refresh tokens,
// managed passwords and OAuth code verifiers are sealed with additional data naming their row.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/seal"
)

// Errors callers test with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("already exists")
	ErrInUse     = errors.New("in use")
	ErrBadCursor = errors.New("invalid pagination cursor")
)

// Store is the product's data access layer.
type Store struct {
	db     *bun.DB
	sealer *seal.Sealer
	now    func() time.Time
}

// New returns a Store over a migrated database.
func New(db *bun.DB, sealer *seal.Sealer) *Store {
	return &Store{db: db, sealer: sealer, now: time.Now}
}

// WithClock returns a copy of s that reads the time from now (tests).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// DB exposes the database handle (readiness checks, tests).
func (s *Store) DB() *bun.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// clock is the current time as stored: UTC, microsecond precision (what PostgreSQL keeps),
// so that values read back compare equal to what was written.
func (s *Store) clock() time.Time { return dbTime(s.now()) }

func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// utc presents a time read from the database in UTC (drivers differ in the location they use).
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// idAlphabet is lowercase base32.
const idAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// NewID makes an entity id "<prefix>_<16 lowercase base32 chars>" carrying 80 random bits.
func NewID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return prefix + "_" + base32.NewEncoding(idAlphabet).WithPadding(base32.NoPadding).EncodeToString(b)
}

// DerivedID is an id in NewID's shape (prefix, "_", 16 lowercase base32 characters) that is
// the same every time for the same key: the SHA-256 of key, so that two writers, or two
// attempts of one, agree on it without talking to each other.
func DerivedID(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:10]))
}

// notFound wraps ErrNotFound with what was missing.
func notFound(what, id string) error {
	return fmt.Errorf("%s %q: %w", what, id, ErrNotFound)
}

// noRows maps sql.ErrNoRows to ErrNotFound for what.
func noRows(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what, id)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

// Constraint violation codes of PostgreSQL and SQLite (extended result codes).
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	sqliteConstraintFK    = 787
	sqliteConstraintPK    = 1555
	sqliteConstraintUniq  = 2067
)

func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgUniqueViolation
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return coded.Code() == sqliteConstraintUniq || coded.Code() == sqliteConstraintPK
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func isForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgForeignKeyViolation
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return coded.Code() == sqliteConstraintFK
	}
	return strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// inTx runs fn in a transaction.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, fn)
}

// bunIn expands a list for "IN (?)".
func bunIn(values []string) any { return bun.List(values) }
