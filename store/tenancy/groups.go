package tenancy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// The built-in group of every tenant: its members are exactly the tenant's members.
const (
	AllAdminsGroupID   = "all-admins"
	AllAdminsGroupName = "All admins"
)

// ErrBuiltinGroup refuses changes to the built-in group.
var ErrBuiltinGroup = errors.New("the built-in group All admins is derived from the tenant's members and cannot be changed directly")

// Group is a group of a tenant's technicians.
type Group struct {
	ID        string
	TenantID  string
	Name      string
	Builtin   bool
	Members   []string // technician ids
	CreatedAt time.Time
}

// CreateGroup adds a custom group. A name taken in the tenant (including "All admins") is
// ErrConflict.
func (s *Store) CreateGroup(ctx context.Context, tenantID, name string) (Group, error) {
	name = strings.TrimSpace(name)
	if strings.EqualFold(name, AllAdminsGroupName) {
		return Group{}, fmt.Errorf("group %q: %w", name, sqlstore.ErrConflict)
	}
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return Group{}, err
	}
	m := schema.Group{ID: sqlstore.NewID("grp"), TenantID: tenantID, Name: name, CreatedAt: s.Clock()}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		if sqlstore.IsUniqueViolation(err) {
			return Group{}, fmt.Errorf("group %q: %w", name, sqlstore.ErrConflict)
		}
		return Group{}, fmt.Errorf("create group: %w", err)
	}
	return Group{ID: m.ID, TenantID: tenantID, Name: name, Members: []string{}, CreatedAt: sqlstore.UTC(m.CreatedAt)}, nil
}

// Group reads one group of a tenant with its members; "all-admins" is the built-in group.
func (s *Store) Group(ctx context.Context, tenantID, groupID string) (Group, error) {
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return Group{}, err
	}
	if groupID == AllAdminsGroupID {
		return s.allAdmins(ctx, t)
	}
	var m schema.Group
	if err := s.DB.NewSelect().Model(&m).Where("id = ? AND tenant_id = ?", groupID, tenantID).Scan(ctx); err != nil {
		return Group{}, sqlstore.NoRows(err, "group", groupID)
	}
	members, err := s.groupMembers(ctx, []string{m.ID})
	if err != nil {
		return Group{}, err
	}
	return Group{ID: m.ID, TenantID: m.TenantID, Name: m.Name, Members: sqlstore.OrEmpty(members[m.ID]), CreatedAt: sqlstore.UTC(m.CreatedAt)}, nil
}

// Groups lists a tenant's groups: the built-in group first, then custom groups by name.
func (s *Store) Groups(ctx context.Context, tenantID string) ([]Group, error) {
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	all, err := s.allAdmins(ctx, t)
	if err != nil {
		return nil, err
	}
	var rows []schema.Group
	if err := s.DB.NewSelect().Model(&rows).Where("tenant_id = ?", tenantID).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	members, err := s.groupMembers(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := []Group{all}
	for _, r := range rows {
		out = append(out, Group{ID: r.ID, TenantID: r.TenantID, Name: r.Name, Members: sqlstore.OrEmpty(members[r.ID]), CreatedAt: sqlstore.UTC(r.CreatedAt)})
	}
	return out, nil
}

// DeleteGroup removes a custom group (and the rules naming it).
func (s *Store) DeleteGroup(ctx context.Context, tenantID, groupID string) error {
	if groupID == AllAdminsGroupID {
		return ErrBuiltinGroup
	}
	res, err := s.DB.NewDelete().Model((*schema.Group)(nil)).Where("id = ? AND tenant_id = ?", groupID, tenantID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlstore.NotFound("group", groupID)
	}
	return nil
}

// AddGroupMember puts a technician in a custom group (idempotent).
func (s *Store) AddGroupMember(ctx context.Context, tenantID, groupID, technicianID string) error {
	if err := s.checkGroupChange(ctx, tenantID, groupID, technicianID); err != nil {
		return err
	}
	m := schema.GroupMember{GroupID: groupID, TechnicianID: technicianID, CreatedAt: s.Clock()}
	if _, err := s.DB.NewInsert().Model(&m).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("add group member: %w", err)
	}
	return nil
}

// RemoveGroupMember takes a technician out of a custom group (idempotent).
func (s *Store) RemoveGroupMember(ctx context.Context, tenantID, groupID, technicianID string) error {
	if err := s.checkGroupChange(ctx, tenantID, groupID, technicianID); err != nil {
		return err
	}
	if _, err := s.DB.NewDelete().Model((*schema.GroupMember)(nil)).
		Where("group_id = ? AND technician_id = ?", groupID, technicianID).Exec(ctx); err != nil {
		return fmt.Errorf("remove group member: %w", err)
	}
	return nil
}

func (s *Store) checkGroupChange(ctx context.Context, tenantID, groupID, technicianID string) error {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return err
	}
	if groupID == AllAdminsGroupID {
		return ErrBuiltinGroup
	}
	ok, err := s.DB.NewSelect().Model((*schema.Group)(nil)).Where("id = ? AND tenant_id = ?", groupID, tenantID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("read group: %w", err)
	}
	if !ok {
		return sqlstore.NotFound("group", groupID)
	}
	if _, err := s.identity.Technician(ctx, technicianID); err != nil {
		return err
	}
	return nil
}

func (s *Store) allAdmins(ctx context.Context, t Tenant) (Group, error) {
	members, err := s.Members(ctx, t.ID)
	if err != nil {
		return Group{}, err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	return Group{ID: AllAdminsGroupID, TenantID: t.ID, Name: AllAdminsGroupName, Builtin: true, Members: ids, CreatedAt: t.CreatedAt}, nil
}

func (s *Store) groupMembers(ctx context.Context, groupIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(groupIDs) == 0 {
		return out, nil
	}
	var rows []schema.GroupMember
	if err := s.DB.NewSelect().Model(&rows).Where("group_id IN (?)", sqlstore.In(groupIDs)).Order("technician_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list group members: %w", err)
	}
	for _, r := range rows {
		out[r.GroupID] = append(out[r.GroupID], r.TechnicianID)
	}
	return out, nil
}
