package admin

import (
	"context"

	"github.com/jitaccess/jitaccess/access/domain"
	"github.com/jitaccess/jitaccess/directory"
)

// ApplicationDomains lists the customer tenant's domains, live from the directory.
func (s *Service) ApplicationDomains(ctx context.Context, actor domain.Actor, tenantID, applicationID string) ([]directory.Domain, error) {
	id, err := s.authorizedApplicationID(ctx, tenantID, applicationID)
	if err != nil {
		return nil, err
	}
	ds, err := s.deps.Directory.Domains(ctx, id)
	if err != nil {
		return nil, s.directoryError(ctx, actor, "domains", err)
	}
	return ds, nil
}

// ApplicationRoles lists the customer tenant's built-in directory roles, live.
func (s *Service) ApplicationRoles(ctx context.Context, actor domain.Actor, tenantID, applicationID string) ([]directory.Role, error) {
	id, err := s.authorizedApplicationID(ctx, tenantID, applicationID)
	if err != nil {
		return nil, err
	}
	rs, err := s.deps.Directory.Roles(ctx, id)
	if err != nil {
		return nil, s.directoryError(ctx, actor, "roles", err)
	}
	return rs, nil
}
