package identity

import "time"

// Technician is a member of the MSP's staff.
type Technician struct {
	ID          string
	Email       string
	DisplayName string
	Role        string // technician | admin
	CreatedAt   time.Time
	// Active is false once the person is deactivated: no sign-in, no token, no grant.
	Active        bool
	DeactivatedAt time.Time
	// EntraTenantID and EntraObjectID identify the person once linked at first sign-in.
	EntraTenantID string
	EntraObjectID string
}

// Token is an API token's record (never the token itself, which is shown once).
type Token struct {
	ID           string
	TechnicianID string
	Name         string
	Role         string // empty: the holder's role; "technician" narrows an admin's token
	Kind         string // empty: an API token; TokenKindExtension: a browser extension session
	CreatedAt    time.Time
	LastUsedAt   time.Time
	ExpiresAt    time.Time // zero: no expiry
	RevokedAt    time.Time
}
