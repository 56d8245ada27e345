// Package entrasim emulates the parts of Microsoft Entra ID (identity platform v2 OAuth/OIDC)
// and Microsoft Graph v1.0 that jitaccess uses. It is deliberately strict: where Microsoft
// documents a rule, the emulator enforces it, so that code which works here works in a real
// tenant. See README.md for the list of endpoints.
package entrasim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options configures a Server.
type Options struct {
	// AutoConsent makes the authorize endpoint redirect straight back as the user named by
	// login_hint (or the tenant's admin) instead of serving the account picker.
	AutoConsent bool
	// StateFile, when set, is loaded at New (if it exists) and rewritten atomically after every
	// mutation: directory, users, role assignments, refresh tokens and the signing key survive.
	StateFile string
	// BaseURL is the public base URL ("http://127.0.0.1:8090"). Empty: derived from each request.
	BaseURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
}

// Server is the emulator; it is an http.Handler.
type Server struct {
	opts Options
	log  *slog.Logger
	key  *rsa.PrivateKey
	kid  string

	mu    sync.Mutex // guards st, codes, seq
	st    *state
	codes map[string]*authCode
	seq   uint64

	saveMu    sync.Mutex // serialises writes of the state file
	savedSeq  uint64
	faultsMu  sync.Mutex // guards faults, fault accumulators and buckets
	faults    Faults
	buckets   map[string]*bucket
	statsMu   sync.Mutex
	statTotal int64
	statReqs  map[string]int64
	writeLog  map[string]*tenantWriteLog // by tenant id, guarded by statsMu
	flows     signInFlows                // interactive sign-ins in progress
	admin     adminSessions              // the stand-in admin center's sessions
}

// state is everything that survives a restart.
type state struct {
	Version       int                      `json:"version"`
	SigningKey    []byte                   `json:"signing_key"` // PKCS#1 DER
	Tenants       []*tenant                `json:"tenants"`
	RefreshTokens map[string]*refreshToken `json:"refresh_tokens"` // keyed by SHA-256 hex of the token
}

type tenant struct {
	ID          string                     `json:"id"`
	Name        string                     `json:"name"`
	DisplayName string                     `json:"display_name"`
	CreatedAt   time.Time                  `json:"created_at"`
	Domains     []*domain                  `json:"domains"`
	Users       map[string]*user           `json:"users"`
	Assignments map[string]*roleAssignment `json:"assignments"`
	// Consented records the tenant-wide admin consent to the jitaccess-dev client.
	Consented bool `json:"consented"`
	// TAPPolicy is the Temporary Access Pass method policy; nil means the default.
	TAPPolicy *tapPolicy `json:"tap_policy,omitempty"`
	// Groups are security groups, only as targets of method policies (keyed by lower-case id).
	Groups map[string]*group `json:"groups,omitempty"`
	// RegistrationRestricted: users may not register security info at sign-in (proof-up blocked).
	RegistrationRestricted bool `json:"registration_restricted,omitempty"`
	// AdminUnits are administrative units (keyed by lower-case id), see admin_units.go.
	AdminUnits map[string]*adminUnit `json:"admin_units,omitempty"`
}

type group struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"display_name"`
	Members     []string `json:"members"`
}

type domain struct {
	ID         string `json:"id"`
	Federated  bool   `json:"federated"`
	IsVerified bool   `json:"is_verified"`
	IsDefault  bool   `json:"is_default"`
	IsInitial  bool   `json:"is_initial"`
}

type user struct {
	ID                      string    `json:"id"`
	UPN                     string    `json:"upn"`
	DisplayName             string    `json:"display_name"`
	MailNickname            string    `json:"mail_nickname"`
	AccountEnabled          bool      `json:"account_enabled"`
	PasswordSalt            string    `json:"password_salt"`
	PasswordHash            string    `json:"password_hash"`
	ForceChangePassword     bool      `json:"force_change_password"`
	CreatedAt               time.Time `json:"created_at"`
	PasswordChangedAt       time.Time `json:"password_changed_at"`
	SignInSessionsValidFrom time.Time `json:"sign_in_sessions_valid_from"`
	// Props holds the remaining simple properties as validated JSON values.
	Props map[string]json.RawMessage `json:"props,omitempty"`
	// AuthMethods are the registered authentication methods other than the password.
	AuthMethods []*authMethod `json:"auth_methods,omitempty"`
}

type roleAssignment struct {
	ID               string `json:"id"`
	RoleDefinitionID string `json:"role_definition_id"`
	PrincipalID      string `json:"principal_id"`
	DirectoryScopeID string `json:"directory_scope_id"`
}

type refreshToken struct {
	TenantID  string    `json:"tenant_id"`
	UserID    string    `json:"user_id"`
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	Nonce     string    `json:"nonce,omitempty"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Revoked is set when the tenant's consent to the client is withdrawn.
	Revoked bool `json:"revoked,omitempty"`
}

type authCode struct {
	ClientID    string
	RedirectURI string
	TenantID    string
	UserID      string
	Scopes      []string
	Challenge   string
	Method      string
	Nonce       string
	IssuedAt    time.Time
	Redeemed    bool
	MFA         bool      // the sign-in satisfied multi-factor authentication
	TAPEnd      time.Time // the first factor was a Temporary Access Pass ending then
}

const stateVersion = 1

// New builds a Server, loading Options.StateFile when it exists and seeding the tenants otherwise.
func New(opts Options) (*Server, error) {
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		codes:    map[string]*authCode{},
		buckets:  map[string]*bucket{},
		statReqs: map[string]int64{},
		writeLog: map[string]*tenantWriteLog{},
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	if opts.StateFile != "" {
		b, err := os.ReadFile(opts.StateFile)
		switch {
		case err == nil:
			var st state
			if err := json.Unmarshal(b, &st); err != nil {
				return nil, fmt.Errorf("entrasim: read state file %s: %w", opts.StateFile, err)
			}
			if st.Version != stateVersion {
				return nil, fmt.Errorf("entrasim: state file %s has version %d, want %d", opts.StateFile, st.Version, stateVersion)
			}
			s.st = &st
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, fmt.Errorf("entrasim: read state file: %w", err)
		}
	}
	if s.st == nil {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("entrasim: generate signing key: %w", err)
		}
		s.st = seedState(s.now(), key)
	}
	if s.st.RefreshTokens == nil {
		s.st.RefreshTokens = map[string]*refreshToken{}
	}
	key, err := x509.ParsePKCS1PrivateKey(s.st.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("entrasim: signing key in state: %w", err)
	}
	s.key = key
	sum := sha256.Sum256(x509.MarshalPKCS1PublicKey(&key.PublicKey))
	s.kid = b64(sum[:12])
	s.mu.Lock()
	snap, seq := s.snapshotLocked()
	s.mu.Unlock()
	if err := s.persist(snap, seq); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// ServeHTTP routes Microsoft's endpoints and the /_sim/ inspection endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	switch {
	case p == "/v1.0" || strings.HasPrefix(p, "/v1.0/"):
		s.serveGraph(w, r)
	case strings.HasPrefix(p, "/_sim/"):
		s.serveSim(w, r)
	default:
		s.serveIdentity(w, r)
	}
}

// mutated persists the state after a change; it must be called without s.mu held.
func (s *Server) mutated() {
	if s.opts.StateFile == "" {
		return
	}
	s.mu.Lock()
	snap, seq := s.snapshotLocked()
	s.mu.Unlock()
	if err := s.persist(snap, seq); err != nil {
		s.log.Error("entrasim: save state", "err", err)
	}
}

func (s *Server) snapshotLocked() ([]byte, uint64) {
	if s.opts.StateFile == "" {
		return nil, 0
	}
	// Drop refresh tokens a month after they expired, so the file stays bounded.
	now := s.now()
	for h, rt := range s.st.RefreshTokens {
		if now.After(rt.ExpiresAt.Add(30 * 24 * time.Hour)) {
			delete(s.st.RefreshTokens, h)
		}
	}
	s.st.Version = stateVersion
	b, err := json.Marshal(s.st)
	if err != nil {
		s.log.Error("entrasim: marshal state", "err", err)
		return nil, 0
	}
	s.seq++
	return b, s.seq
}

// persist writes a snapshot via temp file + rename, skipping snapshots older than one written.
func (s *Server) persist(b []byte, seq uint64) error {
	if s.opts.StateFile == "" || b == nil {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if seq <= s.savedSeq {
		return nil
	}
	dir := filepath.Dir(s.opts.StateFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("entrasim: state dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".entrasim-state-*")
	if err != nil {
		return fmt.Errorf("entrasim: state temp file: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(f.Name())
		return fmt.Errorf("entrasim: write state: %w", errors.Join(werr, cerr))
	}
	if err := os.Rename(f.Name(), s.opts.StateFile); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("entrasim: replace state file: %w", err)
	}
	s.savedSeq = seq
	return nil
}

// baseURL is Options.BaseURL or the scheme and host the request came in on.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// --- tenant and user look-ups (s.mu held) ---

// resolveTenantLocked accepts a tenant name, id or domain (verified or not, case-insensitive).
func (s *Server) resolveTenantLocked(ref string) *tenant {
	ref = strings.ToLower(strings.TrimSpace(ref))
	for _, t := range s.st.Tenants {
		if t.Name == ref || t.ID == ref {
			return t
		}
	}
	for _, t := range s.st.Tenants {
		for _, d := range t.Domains {
			if d.ID == ref && d.IsVerified {
				return t
			}
		}
	}
	return nil
}

func (s *Server) tenantByIDLocked(id string) *tenant {
	for _, t := range s.st.Tenants {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// userRef finds a user by object id or by userPrincipalName (as Graph accepts either in /users/{id|upn}).
func (t *tenant) userRef(ref string) *user {
	if strings.Contains(ref, "@") {
		for _, u := range t.Users {
			if strings.EqualFold(u.UPN, ref) {
				return u
			}
		}
		return nil
	}
	return t.Users[strings.ToLower(ref)]
}

func (t *tenant) userByUPN(upn string) *user {
	for _, u := range t.Users {
		if strings.EqualFold(u.UPN, upn) {
			return u
		}
	}
	return nil
}

func (t *tenant) domain(name string) *domain {
	for _, d := range t.Domains {
		if strings.EqualFold(d.ID, name) {
			return d
		}
	}
	return nil
}

func (t *tenant) hasRole(userID string, roleIDs ...string) bool {
	for _, a := range t.Assignments {
		// Only tenant-wide assignments: a role at an administrative unit's scope is not a tenant role.
		if a.PrincipalID != userID || (a.DirectoryScopeID != "/" && a.DirectoryScopeID != "") {
			continue
		}
		for _, r := range roleIDs {
			if a.RoleDefinitionID == r {
				return true
			}
		}
	}
	return false
}

func (t *tenant) isAdmin(userID string) bool { return t.hasRole(userID, roleGlobalAdmin) }

// --- small helpers ---

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

func newGUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func hashPassword(salt, password string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + password))
	return hex.EncodeToString(sum[:])
}

func (u *user) setPassword(pw string, at time.Time) {
	u.PasswordSalt = hex.EncodeToString(randomBytes(8))
	u.PasswordHash = hashPassword(u.PasswordSalt, pw)
	u.PasswordChangedAt = at
}

func (u *user) passwordMatches(pw string) bool {
	return u.PasswordHash != "" && hashPassword(u.PasswordSalt, pw) == u.PasswordHash
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
