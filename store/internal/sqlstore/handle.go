// Package sqlstore is what the store's domain packages build on: the database handle with
// its sealer and clock, transactions, paging, entity ids, the common errors and the append to
// the audit chain.
package sqlstore

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

// Handle is the database, the sealer of secrets and the clock that every domain store shares.
type Handle struct {
	DB     *bun.DB
	Sealer *seal.Sealer
	Now    func() time.Time
}

// New returns a Handle over a migrated database, reading the time from time.Now.
func New(db *bun.DB, sealer *seal.Sealer) *Handle {
	return &Handle{DB: db, Sealer: sealer, Now: time.Now}
}

// WithClock returns a copy of h that reads the time from now (tests).
func (h *Handle) WithClock(now func() time.Time) *Handle {
	c := *h
	c.Now = now
	return &c
}

// Ping checks that the database answers.
func (h *Handle) Ping(ctx context.Context) error {
	if err := h.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// Clock is the current time as stored: UTC, microsecond precision (what PostgreSQL keeps),
// so that values read back compare equal to what was written.
func (h *Handle) Clock() time.Time { return DBTime(h.Now()) }

// DBTime is t as stored: UTC, microsecond precision.
func DBTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// UTC presents a time read from the database in UTC (drivers differ in the location they use).
func UTC(t time.Time) time.Time {
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

// NotFound wraps ErrNotFound with what was missing.
func NotFound(what, id string) error {
	return fmt.Errorf("%s %q: %w", what, id, ErrNotFound)
}

// NoRows maps sql.ErrNoRows to ErrNotFound for what.
func NoRows(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return NotFound(what, id)
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

// IsUniqueViolation reports whether err is a unique or primary key violation.
func IsUniqueViolation(err error) bool {
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

// IsForeignKeyViolation reports whether err is a foreign key violation.
func IsForeignKeyViolation(err error) bool {
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

// InTx runs fn in a transaction.
func (h *Handle) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return h.DB.RunInTx(ctx, nil, fn)
}

// In expands a list for "IN (?)".
func In(values []string) any { return bun.List(values) }

// Dedupe returns in without repeats, in order, never nil.
func Dedupe(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// OrEmpty returns s, or an empty slice for nil (a JSON [] rather than null).
func OrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
