// Package grants holds the grants' projection: pending grants and their claims, status transitions, the managed account's sealed credentials and Temporary Access Pass, expiries and the reconciler's queries.
package grants

import (
	"github.com/jitaccess/jitaccess/store/identity"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Store runs the queries of package grants.
type Store struct {
	*sqlstore.Handle
	identity *identity.Store
}

// New returns a Store over h that reads technicians through people.
func New(h *sqlstore.Handle, people *identity.Store) *Store {
	return &Store{Handle: h, identity: people}
}
