// Package leader runs a job on one worker of the deployment (WhileLeader): a PostgreSQL advisory lock, a process lock on SQLite.
package leader

import "github.com/jitaccess/jitaccess/store/internal/sqlstore"

// Store runs the queries of package leader.
type Store struct {
	*sqlstore.Handle
}

// New returns a Store over h.
func New(h *sqlstore.Handle) *Store { return &Store{Handle: h} }
