package grants

import (
	"context"
	"fmt"
	"time"

	"github.com/jitaccess/jitaccess/schema"
)

// Expiring is an active grant and the end it is due at.
type Expiring struct {
	GrantID   string
	ExpiresAt time.Time
}

// GrantsExpiringBy lists the active grants whose expires_at is after from and no later than
// by, soonest first, at most limit of them.
func (s *Store) GrantsExpiringBy(ctx context.Context, from, by time.Time, limit int) ([]Expiring, error) {
	var rows []schema.Grant
	err := s.DB.NewSelect().Model(&rows).Column("id", "expires_at").
		Where("status = ?", "active").Where("expires_at > ?", from.UTC()).Where("expires_at <= ?", by.UTC()).
		Order("expires_at").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("grants expiring by %s: %w", by.Format(time.RFC3339), err)
	}
	out := make([]Expiring, len(rows))
	for i, r := range rows {
		out[i] = Expiring{GrantID: r.ID, ExpiresAt: r.ExpiresAt}
	}
	return out, nil
}
