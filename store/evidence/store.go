// Package evidence holds the audit trail and what is built from it: the audit log, the chain's checkpoints and verification, kept reports, retention and the SIEM cursor.
package evidence

import "github.com/jitaccess/jitaccess/store/internal/sqlstore"

// Store runs the queries of package evidence.
type Store struct {
	*sqlstore.Handle
}

// New returns a Store over h.
func New(h *sqlstore.Handle) *Store { return &Store{Handle: h} }
