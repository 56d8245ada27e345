package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// advisoryLockKey serialises migrations of concurrent processes on PostgreSQL
// (an arbitrary constant: "jitaccess" in ASCII, truncated).
const advisoryLockKey = 0x6a6974616363

// migration is one step of the schema, written in SQL that PostgreSQL and SQLite both accept;
// "{{ts}}" stands for the timestamp type (timestamptz on PostgreSQL, TIMESTAMP on SQLite).
// A step whose SQL cannot be shared (SQLite cannot alter a constraint) sets sqliteUp and
// sqliteDown, used instead of up and down on SQLite. upTx and downTx, when set, run after the
// statements in the same transaction (data steps written in Go).
type migration struct {
	name       string
	up         []string
	down       []string
	sqliteUp   []string
	sqliteDown []string
	upTx       func(ctx context.Context, tx bun.Tx) error
	downTx     func(ctx context.Context, tx bun.Tx) error
}

// steps returns the statements of m for db's dialect.
func (m migration) steps(db *bun.DB, up bool) []string {
	switch {
	case IsPostgres(db) && up, m.sqliteUp == nil && up:
		return m.up
	case IsPostgres(db), m.sqliteDown == nil:
		return m.down
	case up:
		return m.sqliteUp
	}
	return m.sqliteDown
}

// migrations lists every schema step in order. Append; never edit a released step.
func migrations() []migration {
	return []migration{initialMigration(), grantsMigration(), sessionsMigration(), grantClaimsMigration(), staffIdentityMigration(),
		signInMigration(), reconcileMigration(), governanceMigration(), evidenceMigration(), extensionMigration(),
		consentBindingMigration(), adminUnitMigration(), extensionApprovalMigration()}
}

func newMigrator(db *bun.DB) *migrate.Migrator {
	ms := migrate.NewMigrations()
	for _, m := range migrations() {
		m := m
		ms.Add(migrate.Migration{
			Name: m.name,
			Up: func(ctx context.Context, mg *migrate.Migrator, _ *migrate.Migration) error {
				return execAll(ctx, mg.DB(), m.steps(mg.DB(), true), m.upTx)
			},
			Down: func(ctx context.Context, mg *migrate.Migrator, _ *migrate.Migration) error {
				return execAll(ctx, mg.DB(), m.steps(mg.DB(), false), m.downTx)
			},
		})
	}
	return migrate.NewMigrator(db, ms,
		migrate.WithTableName("jit_migrations"),
		migrate.WithLocksTableName("jit_migration_locks"),
		migrate.WithMarkAppliedOnSuccess(true))
}

// execAll runs the statements of one step in one transaction: a failed step leaves nothing.
func execAll(ctx context.Context, db *bun.DB, stmts []string, then func(ctx context.Context, tx bun.Tx) error) error {
	ts := "TIMESTAMP"
	if IsPostgres(db) {
		ts = "TIMESTAMPTZ"
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, strings.ReplaceAll(s, "{{ts}}", ts)); err != nil {
				return fmt.Errorf("%s: %w", firstLine(s), err)
			}
		}
		if then != nil {
			return then(ctx, tx)
		}
		return nil
	})
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Migrate applies every pending step. It is idempotent, and on PostgreSQL concurrent callers
// (API and worker starting together) wait on an advisory lock instead of racing.
func Migrate(ctx context.Context, db *bun.DB) error {
	return withLock(ctx, db, func() error {
		m := newMigrator(db)
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("migrate: init: %w", err)
		}
		if _, err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	})
}

// Rollback undoes every applied step (used by tests and by a deliberate reset).
func Rollback(ctx context.Context, db *bun.DB) error {
	return withLock(ctx, db, func() error {
		m := newMigrator(db)
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("rollback: init: %w", err)
		}
		for {
			group, err := m.Rollback(ctx)
			if err != nil {
				return fmt.Errorf("rollback: %w", err)
			}
			if group.IsZero() {
				return nil
			}
		}
	})
}

// Applied lists the names of the applied steps, oldest first.
func Applied(ctx context.Context, db *bun.DB) ([]string, error) {
	m := newMigrator(db)
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("applied migrations: %w", err)
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("applied migrations: %w", err)
	}
	var names []string
	for _, x := range ms.Applied() {
		names = append(names, x.Name)
	}
	// Applied() is newest first.
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return names, nil
}

// withLock holds a PostgreSQL session advisory lock on a dedicated connection around fn.
// SQLite is single-host and serialises writers itself.
func withLock(ctx context.Context, db *bun.DB, fn func() error) (err error) {
	if !IsPostgres(db) {
		return fn()
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", int64(advisoryLockKey)); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		// Unlock with a fresh context: ctx may be cancelled already.
		if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", int64(advisoryLockKey)); uerr != nil && err == nil {
			err = fmt.Errorf("migration unlock: %w", uerr)
		}
	}()
	return fn()
}
