package portal

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// Another process (the codec server) finds the technician of a live portal session, and no
// one for an unknown, expired or idle one.
func TestSessionsSessionTechnician(t *testing.T) {
	ctx := context.Background()
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db := testenv.MigratedDB(t, "sqlite")
	st := store.New(db, sealer)
	admin, err := st.EnsureAdmin(ctx, "admin@msp.example", "Admin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for cookie, row := range map[string]schema.PortalSession{
		"live":    {CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
		"expired": {CreatedAt: now.Add(-9 * time.Hour), LastSeenAt: now, ExpiresAt: now.Add(-time.Minute)},
		"idle":    {CreatedAt: now.Add(-2 * time.Hour), LastSeenAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(time.Hour)},
	} {
		row.IDHash, row.TechnicianID, row.CSRFToken = seal.HashToken(cookie), admin.ID, "csrf"
		if _, err := db.NewInsert().Model(&row).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s := Sessions{Store: st}
	for _, tt := range []struct {
		cookie string
		ok     bool
	}{{"live", true}, {"expired", false}, {"idle", false}, {"unknown", false}} {
		u, err := s.SessionTechnician(ctx, tt.cookie)
		switch {
		case tt.ok && (err != nil || u.ID != admin.ID):
			t.Errorf("%s: %v, %v", tt.cookie, u, err)
		case !tt.ok && !errors.Is(err, store.ErrUnauthenticated):
			t.Errorf("%s: err = %v, want ErrUnauthenticated", tt.cookie, err)
		}
	}
	if SessionCookieName("https://jit.msp.example") != "__Host-jit_session" || SessionCookieName("http://127.0.0.1:8080") != "jit_session" {
		t.Error("cookie names differ from the portal's")
	}
}
