// Package governance holds what decides and announces a grant: approvals, application policies, ticket references, notification destinations and the notification outbox.
package governance

import "github.com/jitaccess/jitaccess/store/internal/sqlstore"

// Store runs the queries of package governance.
type Store struct {
	*sqlstore.Handle
}

// New returns a Store over h.
func New(h *sqlstore.Handle) *Store { return &Store{Handle: h} }
