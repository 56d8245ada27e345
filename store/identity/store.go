// Package identity holds the product's people and how they prove who they are: technicians (MSP staff), auditors' tenants, API tokens, portal sessions and sign-ins, OAuth consent states and the browser extension's pairing codes.
package identity

import "github.com/jitaccess/jitaccess/store/internal/sqlstore"

// Store runs the queries of package identity.
type Store struct {
	*sqlstore.Handle
}

// New returns a Store over h.
func New(h *sqlstore.Handle) *Store { return &Store{Handle: h} }
