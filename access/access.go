package access

import (
	"errors"
	"log/slog"
	"time"

	"github.com/jitaccess/jitaccess/access/admin"
	"github.com/jitaccess/jitaccess/store"
)

// Directory is what the admin operations need of a customer's Entra directory (*entra.Client).
type Directory = admin.Directory

// Deps are the service's explicit dependencies.
type Deps struct {
	Store     *store.Store
	Directory Directory
	// Workflows starts and steers grant workflows; without it grants cannot be requested,
	// and changes that must revoke live grants are refused.
	Workflows Workflows
	// Approvals decides pending requests; without it the approval routes answer 503.
	Approvals Approvals
	// Access durations an admin may configure (JIT_MIN/MAX_ACCESS_DURATION).
	MinAccessDuration time.Duration
	MaxAccessDuration time.Duration
	// OAuthStateTTL is how long an authorize URL stays usable (default 10 minutes).
	OAuthStateTTL time.Duration
	Logger        *slog.Logger
}

// Service holds the rules. Every method takes the actor it acts for and returns *Error for
// refusals. The admin operations are promoted from the embedded *admin.Service.
type Service struct {
	*admin.Service
	deps Deps
	log  *slog.Logger
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Directory == nil {
		return nil, errors.New("access: a store and a directory are required")
	}
	if d.MinAccessDuration <= 0 {
		d.MinAccessDuration = 5 * time.Minute
	}
	if d.MaxAccessDuration <= 0 {
		d.MaxAccessDuration = 24 * time.Hour
	}
	if d.MinAccessDuration > d.MaxAccessDuration {
		return nil, errors.New("access: minimum access duration exceeds the maximum")
	}
	if d.OAuthStateTTL <= 0 {
		d.OAuthStateTTL = 10 * time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{deps: d, log: d.Logger}
	s.Service = admin.New(admin.Deps{Store: d.Store, Directory: d.Directory,
		MinAccessDuration: d.MinAccessDuration, MaxAccessDuration: d.MaxAccessDuration,
		OAuthStateTTL: d.OAuthStateTTL, Logger: d.Logger, EndGrants: s.endGrants})
	return s, nil
}

// Limits of what callers may send.
const (
	maxJustificationLength = 1000
	maxReasonLength        = 500

	// Bounds on the Temporal calls of a request; the client going away does not cut them
	// short (a started workflow must get its projection row).
	startTimeout = 15 * time.Second
	steerTimeout = 30 * time.Second

	// Audit actions of the service itself (the workflow records the grant.* transitions).
	actionDenied   = "grant.request_denied"
	actionCredRead = "credentials.read"
)
