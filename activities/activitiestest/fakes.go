// Package activitiestest provides in-memory fakes of activities.Store and
// activities.Directory for tests of the activities, the workflow and the worker.
// They are safe for concurrent use.
package activitiestest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
)

// Store is a fake activities.Store. Grant rows are added with AddGrant (the API's part).
type Store struct {
	mu sync.Mutex
	// Entitlement answers every CheckEntitlement; EntitlementErr fails it.
	Entitlement    store.Entitlement
	EntitlementErr error
	// RecordGrantErrs are returned by successive RecordTransition calls, then nil.
	RecordGrantErrs []error
	// Admins are the technician ids GrantActor knows as admins.
	Admins []string
	// Policy answers ApplicationPolicy; nil: policy.Default of the entitlement's roles.
	Policy *policy.Policy

	Grants      []store.GrantUpdate
	Audits      []store.AuditEvent
	rows        map[string]*store.Grant
	locks       map[string]string // account -> grant id
	credentials map[string]Credential
	Deleted     []string // grant ids whose credential was deleted
	taps        map[string]directory.TAP
	lastTAPs    map[string]directory.TAP
}

// AddGrant adds a pending grant row, as the API does before starting a run.
func (s *Store) AddGrant(g store.Grant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rows == nil {
		s.rows = map[string]*store.Grant{}
	}
	if g.Status == "" {
		g.Status = "pending"
	}
	s.rows[g.ID] = &g
}

// Row returns the grant row of id.
func (s *Store) Row(id string) (store.Grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.rows[id]
	if !ok {
		return store.Grant{}, false
	}
	return *g, true
}

// BeginGrant implements activities.Store with store.BeginGrant's rules (a row added without a
// workflow id takes the claimant's); it consumes RecordGrantErrs as a RecordTransition does.
func (s *Store) BeginGrant(_ context.Context, b store.Begin) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.nextRecordErr(); err != nil {
		return err
	}
	g, ok := s.rows[b.GrantID]
	if !ok {
		return fmt.Errorf("%w: no grant %s", store.ErrClaimRefused, b.GrantID)
	}
	row := *g
	if row.WorkflowID == "" {
		row.WorkflowID = b.WorkflowID
	}
	if err := store.CheckClaim(row, b.Claim); err != nil {
		return err
	}
	if b.LockUPN != "" {
		if s.locks == nil {
			s.locks = map[string]string{}
		}
		key := strings.ToLower(b.LockUPN)
		if holder, ok := s.locks[key]; ok && holder != b.GrantID {
			return fmt.Errorf("%w: %s is held by grant %s", store.ErrAccountInUse, b.LockUPN, holder)
		}
		s.locks[key] = b.GrantID
	}
	g.FirstRunID, g.RunID, g.WorkflowID, g.Status = b.FirstRunID, b.RunID, b.WorkflowID, b.Status
	s.Grants = append(s.Grants, store.GrantUpdate{GrantID: b.GrantID, RunID: b.RunID, Status: b.Status})
	if b.Event != nil && !slices.ContainsFunc(s.Audits, func(e store.AuditEvent) bool { return e.ID != "" && e.ID == b.Event.ID }) {
		s.Audits = append(s.Audits, *b.Event)
	}
	return nil
}

// nextRecordErr takes the next of RecordGrantErrs (nil when none is left); s.mu is held.
func (s *Store) nextRecordErr() error {
	if len(s.RecordGrantErrs) == 0 {
		return nil
	}
	err := s.RecordGrantErrs[0]
	s.RecordGrantErrs = s.RecordGrantErrs[1:]
	return err
}

// Grant implements activities.Store.
func (s *Store) Grant(_ context.Context, id string) (store.Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.rows[id]; ok {
		return *g, nil
	}
	return store.Grant{}, store.ErrNotFound
}

// GrantActor implements activities.Store.
func (s *Store) GrantActor(_ context.Context, grantID, actorID string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.rows[grantID]
	switch {
	case !ok:
		return "", false, store.ErrNotFound
	case slices.Contains(s.Admins, actorID):
		return store.ActorAdmin, true, nil
	case actorID != "" && actorID == g.TechnicianID:
		return store.ActorTechnician, true, nil
	}
	return "", false, nil
}

// Credential is a stored (here: unsealed) credential.
type Credential struct{ UPN, Password string }

// CheckEntitlement implements activities.Store.
func (s *Store) CheckEntitlement(_ context.Context, tenantID, applicationID, technicianID string) (store.Entitlement, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Entitlement, s.EntitlementErr
}

// ApplicationPolicy implements activities.Store.
func (s *Store) ApplicationPolicy(_ context.Context, _ string) (policy.Policy, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Policy != nil {
		return *s.Policy, true, nil
	}
	return policy.Default(s.Entitlement.Application.Roles), false, nil
}

// RecordTransition implements activities.Store: the update and the event are kept together,
// or neither when an error is injected.
func (s *Store) RecordTransition(_ context.Context, u store.GrantUpdate, event *store.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.nextRecordErr(); err != nil {
		return err
	}
	if event != nil && u.Status == "" {
		s.Audits = append(s.Audits, *event)
		return nil
	}
	g, ok := s.rows[u.GrantID]
	if !ok {
		return store.ErrNotFound
	}
	if store.IsTerminal(g.Status) && g.Status != u.Status {
		// As the store: the audit event is kept, the final row is not changed.
		if event != nil && !slices.ContainsFunc(s.Audits, func(e store.AuditEvent) bool { return e.ID != "" && e.ID == event.ID }) {
			s.Audits = append(s.Audits, *event)
		}
		return nil
	}
	g.Status = u.Status
	if u.ExpiresAt != (time.Time{}) {
		g.ExpiresAt = u.ExpiresAt
	}
	if u.Failure != "" {
		g.Failure = u.Failure
	}
	if store.IsTerminal(u.Status) || u.ReleaseAccount {
		for k, v := range s.locks {
			if v == u.GrantID {
				delete(s.locks, k)
			}
		}
	}
	u.Roles = slices.Clone(u.Roles)
	s.Grants = append(s.Grants, u)
	if event != nil && !slices.ContainsFunc(s.Audits, func(e store.AuditEvent) bool { return e.ID != "" && e.ID == event.ID }) {
		s.Audits = append(s.Audits, *event)
	}
	return nil
}

// SaveCredential implements activities.Store.
func (s *Store) SaveCredential(_ context.Context, grantID, upn, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.credentials == nil {
		s.credentials = map[string]Credential{}
	}
	s.credentials[grantID] = Credential{UPN: upn, Password: password}
	return nil
}

// DeleteCredential implements activities.Store.
func (s *Store) DeleteCredential(_ context.Context, grantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.credentials, grantID)
	if t, ok := s.taps[grantID]; ok { // the id stays for DeleteTAP, as in the store
		s.taps[grantID] = directory.TAP{ID: t.ID}
	}
	s.Deleted = append(s.Deleted, grantID)
	return nil
}

// KnownAccountID implements activities.Store: the account id of the latest recorded grant
// (other than grantID) with that account name.
func (s *Store) KnownAccountID(_ context.Context, grantID, upn string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.Grants) - 1; i >= 0; i-- {
		if g := s.Grants[i]; g.GrantID != grantID && strings.EqualFold(g.AccountUPN, upn) && g.AccountID != "" {
			return g.AccountID, nil
		}
	}
	return "", nil
}

// Credential returns the stored credential of a grant.
func (s *Store) Credential(grantID string) (Credential, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.credentials[grantID]
	return c, ok
}

// Statuses lists the statuses written to the projection, in order.
func (s *Store) Statuses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, g := range s.Grants {
		out = append(out, g.Status)
	}
	return out
}

// Actions lists the audit actions recorded, in order.
func (s *Store) Actions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.Audits {
		out = append(out, a.Action)
	}
	return out
}

// LastGrant is the last projection write.
func (s *Store) LastGrant() store.GrantUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.Grants) == 0 {
		return store.GrantUpdate{}
	}
	return s.Grants[len(s.Grants)-1]
}

// Account is an account of the fake directory.
type Account struct {
	ObjectID    string
	UPN         string
	DisplayName string
	Enabled     bool
	Password    string
	Assignments []string // assignment ids
	Methods     []directory.AuthMethod
	Foreign     bool // not created by jitaccess (no marker)
}

// Call is one call the fake directory received (never with the password).
type Call struct {
	Op            string // EnsureAccount | AssignRoles | DisableAccount
	ApplicationID string
	Ref           string // UPN (EnsureAccount) or object id / UPN (others)
	IDs           []string
	Known         string // EnsureAccount: the object id remembered from an earlier grant
}

// Directory is a fake activities.Directory: accounts keyed by UPN, scripted errors.
type Directory struct {
	mu sync.Mutex
	// Errors returned by successive calls of each operation before it succeeds (nil entries
	// succeed).
	EnsureErrs  []error
	AssignErrs  []error
	DisableErrs []error
	// AssignPartially: a failing AssignRoles assigns the first role before it fails.
	AssignPartially bool
	// TAPPolicyOff makes IssueTAP fail as a tenant whose Temporary Access Pass policy is off.
	TAPPolicyOff bool
	// TAPMaxLifetime caps a pass's lifetime as the tenant's policy does (0: no cap); Now is
	// the clock of issued passes (default time.Now; workflow tests pass the test clock).
	TAPMaxLifetime time.Duration
	Now            func() time.Time
	// disableErr fails every DisableAccount while set (SetDisableErr).
	disableErr error

	accounts  map[string]*Account // by UPN
	nextID    int
	calls     []Call
	passwords []string // every password and scramble received
	signIn    []string // sign-in operations received
}

func (d *Directory) pop(errs *[]error) error {
	if len(*errs) == 0 {
		return nil
	}
	err := (*errs)[0]
	*errs = (*errs)[1:]
	return err
}

func (d *Directory) find(ref string) *Account {
	if a, ok := d.accounts[strings.ToLower(ref)]; ok {
		return a
	}
	for _, a := range d.accounts {
		if a.ObjectID == ref {
			return a
		}
	}
	return nil
}

// EnsureAccount implements activities.Directory.
func (d *Directory) EnsureAccount(_ context.Context, applicationID string, spec directory.AccountSpec, password string) (directory.Account, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, Call{Op: "EnsureAccount", ApplicationID: applicationID, Ref: spec.UPN, Known: spec.ObjectID})
	d.passwords = append(d.passwords, password)
	if err := d.pop(&d.EnsureErrs); err != nil {
		return directory.Account{}, err
	}
	if d.accounts == nil {
		d.accounts = map[string]*Account{}
	}
	created := false
	a := d.find(spec.UPN)
	if a == nil {
		d.nextID++
		a = &Account{ObjectID: fmt.Sprintf("00000000-0000-0000-0000-%012d", d.nextID), UPN: spec.UPN}
		d.accounts[strings.ToLower(spec.UPN)] = a
		created = true
	}
	a.DisplayName, a.Enabled, a.Password = spec.DisplayName, true, password
	return directory.Account{ObjectID: a.ObjectID, UPN: a.UPN, Created: created}, nil
}

// AssignRoles implements activities.Directory.
func (d *Directory) AssignRoles(_ context.Context, applicationID, objectID string, roleIDs []string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, Call{Op: "AssignRoles", ApplicationID: applicationID, Ref: objectID, IDs: slices.Clone(roleIDs)})
	if err := d.pop(&d.AssignErrs); err != nil {
		if a := d.find(objectID); a != nil && d.AssignPartially && len(roleIDs) > 0 {
			a.Assignments = append(a.Assignments, "ra-"+a.ObjectID+"-"+roleIDs[0])
		}
		return nil, err
	}
	a := d.find(objectID)
	if a == nil {
		return nil, &directory.ReplicationLagError{Op: "assign roles", ObjectID: objectID}
	}
	ids := make([]string, len(roleIDs))
	for i, r := range roleIDs {
		ids[i] = "ra-" + a.ObjectID + "-" + r
	}
	for _, id := range ids {
		if !slices.Contains(a.Assignments, id) {
			a.Assignments = append(a.Assignments, id)
		}
	}
	return slices.Clone(ids), nil
}

// DisableAccount implements activities.Directory.
func (d *Directory) DisableAccount(_ context.Context, applicationID, objectID string, assignmentIDs []string, scramble string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, Call{Op: "DisableAccount", ApplicationID: applicationID, Ref: objectID, IDs: slices.Clone(assignmentIDs)})
	d.passwords = append(d.passwords, scramble)
	if err := d.pop(&d.DisableErrs); err != nil {
		return err
	}
	if d.disableErr != nil {
		return d.disableErr
	}
	a := d.find(objectID)
	if a == nil {
		return directory.ErrNotFound
	}
	a.Enabled, a.Password = false, scramble
	a.Assignments = slices.DeleteFunc(a.Assignments, func(id string) bool { return slices.Contains(assignmentIDs, id) })
	return nil
}

// SetDisableErr makes every DisableAccount fail with err until it is set to nil.
func (d *Directory) SetDisableErr(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.disableErr = err
}

// ListAssignments implements activities.Directory.
func (d *Directory) ListAssignments(_ context.Context, applicationID, objectID string) ([]directory.RoleAssignment, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, Call{Op: "ListAssignments", ApplicationID: applicationID, Ref: objectID})
	if d.disableErr != nil {
		return nil, d.disableErr
	}
	a := d.find(objectID)
	if a == nil {
		return nil, directory.ErrNotFound
	}
	out := make([]directory.RoleAssignment, len(a.Assignments))
	for i, id := range a.Assignments {
		out[i] = directory.RoleAssignment{ID: id, PrincipalID: a.ObjectID}
	}
	return out, nil
}

// AddAssignment gives the account a role assignment out of band (as a tenant admin could).
func (d *Directory) AddAssignment(ref, assignmentID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.find(ref); a != nil {
		a.Assignments = append(a.Assignments, assignmentID)
	}
}

// Account returns a copy of the account with this UPN or object id.
func (d *Directory) Account(ref string) (Account, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.find(ref)
	if a == nil {
		return Account{}, false
	}
	c := *a
	c.Assignments = slices.Clone(a.Assignments)
	return c, true
}

// Calls returns the calls received, in order.
func (d *Directory) Calls() []Call {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}

// Ops returns the operation names of the calls received, in order.
func (d *Directory) Ops() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, c := range d.calls {
		out = append(out, c.Op)
	}
	return out
}

// Passwords returns every password and scramble the directory received.
func (d *Directory) Passwords() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.passwords)
}
