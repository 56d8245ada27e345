package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/store"
)

// A connect code is single use, bound to its PKCE challenge, and lives only its ttl; only
// its hash is stored. Runs on PostgreSQL and SQLite.
func TestExtensionCodeSingleUsePKCEAndExpiry(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, db *bun.DB) {
		ctx := context.Background()
		tech, _, err := st.CreateTechnician(ctx, "tech@msp.example", "Tech", "")
		require.NoError(t, err)
		now := time.Now()
		st = st.WithClock(func() time.Time { return now })
		verifier := "a-verifier-of-enough-length-for-the-test-0123"
		sum := sha256.Sum256([]byte(verifier))
		challenge := base64.RawURLEncoding.EncodeToString(sum[:])
		ext := "pgaljmpcpofkcdgcdcggecdnpapldpga"

		for name, tc := range map[string]struct {
			verifier string
			after    time.Duration
			ok       bool
		}{
			"right verifier":      {verifier, time.Minute, true},
			"wrong verifier":      {verifier + "x", 0, false},
			"empty verifier":      {"", 0, false},
			"expired":             {verifier, 2*time.Minute + time.Second, false},
			"challenge as verify": {challenge, 0, false},
		} {
			t.Run(name, func(t *testing.T) {
				start := now
				code, err := st.CreateExtensionCode(ctx, tech.ID, ext, challenge, 2*time.Minute)
				require.NoError(t, err)
				stored, err := db.NewSelect().Table("extension_codes").Where("code_hash = ?", code).Count(ctx)
				require.NoError(t, err)
				require.Zero(t, stored, "the plain code is not stored")
				now = start.Add(tc.after)
				defer func() { now = start }()
				got, err := st.ConsumeExtensionCode(ctx, code, tc.verifier)
				if !tc.ok {
					require.ErrorIs(t, err, store.ErrExtensionCode)
				} else {
					require.NoError(t, err)
					require.Equal(t, store.ExtensionCode{TechnicianID: tech.ID, ExtensionID: ext}, got)
				}
				_, err = st.ConsumeExtensionCode(ctx, code, verifier)
				require.ErrorIs(t, err, store.ErrExtensionCode, "spent after one try")
			})
		}
		_, err = st.ConsumeExtensionCode(ctx, "never-issued", verifier)
		require.ErrorIs(t, err, store.ErrExtensionCode)
	})
}
