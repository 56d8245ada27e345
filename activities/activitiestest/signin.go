package activitiestest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/directory"
)

// PinGrantTenant implements activities.SignInStore: the fake pins no Entra tenant.
func (s *Store) PinGrantTenant(context.Context, string) (string, error) { return "", nil }

// SignInMethod implements activities.SignInStore: the entitlement's application's method
// (password when empty).
func (s *Store) SignInMethod(context.Context, string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.Entitlement.Application.SignInMethod; m != "" {
		return m, nil
	}
	return "password", nil
}

// SaveTAP implements activities.SignInStore.
func (s *Store) SaveTAP(_ context.Context, grantID string, tap directory.TAP) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taps == nil {
		s.taps = map[string]directory.TAP{}
	}
	s.taps[grantID] = tap
	if s.lastTAPs == nil {
		s.lastTAPs = map[string]directory.TAP{}
	}
	s.lastTAPs[grantID] = tap
	return nil
}

// TAPID implements activities.SignInStore.
func (s *Store) TAPID(_ context.Context, grantID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.taps[grantID].ID, nil
}

// ForgetTAP implements activities.SignInStore.
func (s *Store) ForgetTAP(_ context.Context, grantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.taps, grantID)
	return nil
}

// TAPExpiry implements activities.SignInStore.
func (s *Store) TAPExpiry(_ context.Context, grantID string) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.taps[grantID]
	return t.ExpiresAt, ok && t.Pass != "", nil
}

// LastTAP returns the last pass saved for a grant, also once the grant has ended and the
// store forgot it (for tests that look for it where it must not be).
func (s *Store) LastTAP(grantID string) (directory.TAP, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.lastTAPs[grantID]
	return t, ok
}

// TAP returns the pass saved for a grant while the store holds it.
func (s *Store) TAP(grantID string) (directory.TAP, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.taps[grantID]
	return t, ok
}

// AddForeignAccount puts an account jitaccess did not create under upn (as a tenant admin could).
func (d *Directory) AddForeignAccount(upn string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.accounts == nil {
		d.accounts = map[string]*Account{}
	}
	d.nextID++
	d.accounts[strings.ToLower(upn)] = &Account{ObjectID: fmt.Sprintf("00000000-0000-0000-0000-%012d", d.nextID), UPN: upn,
		Enabled: true, Foreign: true}
}

// AddMethod gives the account an authentication method out of band.
func (d *Directory) AddMethod(ref string, m directory.AuthMethod) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.find(ref); a != nil {
		a.Methods = append(a.Methods, m)
	}
}

// CheckAdoption implements activities.SignInDirectory.
func (d *Directory) CheckAdoption(_ context.Context, applicationID, upn, recordedObjectID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.find(upn)
	if a == nil {
		return nil
	}
	info := directory.AccountInfo{ObjectID: a.ObjectID, UPN: a.UPN}
	if !a.Foreign {
		info.EmployeeType = directory.AccountMarker
	}
	return directory.CheckAdoption(info, recordedObjectID)
}

// CleanAccount implements activities.SignInDirectory: every method but the password and
// every assignment outside keepRoleIDs go.
func (d *Directory) CleanAccount(_ context.Context, applicationID, objectID string, keepRoleIDs []string) (directory.Cleanup, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.signIn = append(d.signIn, "CleanAccount")
	a := d.find(objectID)
	if a == nil {
		return directory.Cleanup{}, directory.ErrNotFound
	}
	if a.Foreign {
		return directory.Cleanup{}, fmt.Errorf("%s: %w", a.UPN, directory.ErrAccountConflict)
	}
	var c directory.Cleanup
	a.Methods = slices.DeleteFunc(a.Methods, func(m directory.AuthMethod) bool {
		if m.Type == "password" {
			return false
		}
		c.RemovedMethods = append(c.RemovedMethods, m)
		return true
	})
	a.Assignments = slices.DeleteFunc(a.Assignments, func(id string) bool {
		for _, r := range keepRoleIDs {
			if id == "ra-"+a.ObjectID+"-"+r {
				return false
			}
		}
		c.RemovedAssignments = append(c.RemovedAssignments, directory.RoleAssignment{ID: id, PrincipalID: a.ObjectID})
		return true
	})
	c.SessionsRevoked = true
	return c, nil
}

// IssueTAP implements activities.SignInDirectory; TAPPolicyOff refuses it.
func (d *Directory) IssueTAP(_ context.Context, applicationID, objectID string, lifetime time.Duration) (directory.TAP, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.signIn = append(d.signIn, "IssueTAP")
	if d.TAPPolicyOff {
		return directory.TAP{}, directory.ErrTAPPolicyDisabled
	}
	a := d.find(objectID)
	if a == nil {
		return directory.TAP{}, directory.ErrNotFound
	}
	d.nextID++
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	if d.TAPMaxLifetime > 0 {
		lifetime = min(lifetime, d.TAPMaxLifetime)
	}
	t := directory.TAP{ID: fmt.Sprintf("tap-%d", d.nextID), Pass: fmt.Sprintf("pass-%d", d.nextID),
		StartsAt: now().UTC(), ExpiresAt: now().UTC().Add(lifetime)}
	// One pass per user: Graph deletes the old one when it creates a new one.
	a.Methods = slices.DeleteFunc(a.Methods, func(m directory.AuthMethod) bool { return m.Type == "temporaryAccessPass" })
	a.Methods = append(a.Methods, directory.AuthMethod{ID: t.ID, Type: "temporaryAccessPass"})
	return t, nil
}

// DeleteTAP implements activities.SignInDirectory (every pass of the account when tapID is "").
func (d *Directory) DeleteTAP(_ context.Context, applicationID, objectID, tapID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.signIn = append(d.signIn, "DeleteTAP")
	a := d.find(objectID)
	if a == nil {
		return directory.ErrNotFound
	}
	a.Methods = slices.DeleteFunc(a.Methods, func(m directory.AuthMethod) bool {
		return m.Type == "temporaryAccessPass" && (tapID == "" || m.ID == tapID)
	})
	return nil
}

// SignInOps returns the sign-in calls received (CleanAccount, IssueTAP, DeleteTAP), in order.
func (d *Directory) SignInOps() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.signIn)
}
