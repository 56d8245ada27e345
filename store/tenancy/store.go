// Package tenancy holds what a customer tenant contains: the tenant, its members and groups, its Entra ID applications (authorization, refresh token, sign-in method, restricted administrative unit) and the entitlement rules that say who may request what.
package tenancy

import (
	"github.com/jitaccess/jitaccess/store/identity"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Store runs the queries of package tenancy.
type Store struct {
	*sqlstore.Handle
	identity *identity.Store
}

// New returns a Store over h that reads technicians through people.
func New(h *sqlstore.Handle, people *identity.Store) *Store {
	return &Store{Handle: h, identity: people}
}
