package tenancy

import (
	"time"

	"github.com/jitaccess/jitaccess/store/identity"
)

// ApplicationConfig is what a grant needs to know of an Entra ID application.
type ApplicationConfig struct {
	ID             string
	TenantID       string
	Name           string
	Status         string // unauthorized | authorized | ready
	Domain         string
	Roles          []string // role template ids
	AccessDuration time.Duration
	SignInMethod   string // password | tap | password_and_tap
}

// Entitlement is the authoritative answer to "may this technician request this application".
type Entitlement struct {
	Allowed     bool
	Member      bool // the technician belongs to the application's tenant
	RuleID      string
	RuleName    string
	Reason      string // a human sentence when not allowed
	Application ApplicationConfig
	Technician  identity.Technician
}
