// Package store runs every query of the product on a *bun.DB (PostgreSQL or SQLite) and seals
// and unseals secrets on the way, so that no caller handles ciphertext: refresh tokens,
// managed passwords and OAuth code verifiers are sealed with additional data naming their row.
// Store is the facade over the domain packages below it (identity, tenancy, grants,
// governance, evidence, leader): their methods are Store's, their types are named here.
package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store/evidence"
	"github.com/jitaccess/jitaccess/store/governance"
	"github.com/jitaccess/jitaccess/store/grants"
	"github.com/jitaccess/jitaccess/store/identity"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
	"github.com/jitaccess/jitaccess/store/leader"
	"github.com/jitaccess/jitaccess/store/tenancy"
)

// The domain stores under names of their own, so that Store can embed them all.
type (
	identityStore   = identity.Store
	tenancyStore    = tenancy.Store
	grantsStore     = grants.Store
	governanceStore = governance.Store
	evidenceStore   = evidence.Store
	leaderStore     = leader.Store
)

// Store is the product's data access layer.
type Store struct {
	*identityStore
	*tenancyStore
	*grantsStore
	*governanceStore
	*evidenceStore
	*leaderStore
	h *sqlstore.Handle
}

// New returns a Store over a migrated database.
func New(db *bun.DB, sealer *seal.Sealer) *Store {
	return over(sqlstore.New(db, sealer))
}

func over(h *sqlstore.Handle) *Store {
	people := identity.New(h)
	return &Store{
		identityStore:   people,
		tenancyStore:    tenancy.New(h, people),
		grantsStore:     grants.New(h, people),
		governanceStore: governance.New(h),
		evidenceStore:   evidence.New(h),
		leaderStore:     leader.New(h),
		h:               h,
	}
}

// WithClock returns a copy of s that reads the time from now (tests).
func (s *Store) WithClock(now func() time.Time) *Store { return over(s.h.WithClock(now)) }

// DB exposes the database handle (readiness checks, tests).
func (s *Store) DB() *bun.DB { return s.h.DB }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.h.Ping(ctx) }
