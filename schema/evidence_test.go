package schema_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
)

func evidenceDBs(t *testing.T) map[string]*bun.DB {
	t.Helper()
	ctx := context.Background()
	pg, err := schema.Open(ctx, testenv.Postgres(t), "", 0)
	require.NoError(t, err)
	lite, err := schema.Open(ctx, "", filepath.Join(t.TempDir(), "j.db"), 0)
	require.NoError(t, err)
	out := map[string]*bun.DB{"postgres": pg, "sqlite": lite}
	for _, db := range out {
		t.Cleanup(func() { _ = db.Close() })
		require.NoError(t, schema.Migrate(ctx, db))
	}
	return out
}

// Rows logged before migration 09 have no sequence number; the migration chains them in the
// order they were written and the result verifies.
func TestEvidenceMigrationChainsExistingRows(t *testing.T) {
	for name, db := range evidenceDBs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			_, err := db.NewDelete().Model((*schema.AuditChainHead)(nil)).Where("1 = 1").Exec(ctx)
			require.NoError(t, err)
			base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := 3; i >= 1; i-- { // inserted out of time order on purpose
				m := schema.AuditEvent{ID: fmt.Sprint("aud_", i), CreatedAt: base.Add(time.Duration(i) * time.Minute), ActorID: "system",
					ActorKind: "system", Action: "old.event", Target: "x", Details: `{"i":1}`}
				_, err := db.NewInsert().Model(&m).Exec(ctx)
				require.NoError(t, err)
			}
			require.NoError(t, db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return schema.ChainExistingAudit(ctx, tx) }))

			var rows []schema.AuditEvent
			require.NoError(t, db.NewSelect().Model(&rows).Order("seq").Scan(ctx))
			var head schema.AuditChainHead
			require.NoError(t, db.NewSelect().Model(&head).Scan(ctx))
			keys, err := auditchain.NewKeys(make([]byte, 32))
			require.NoError(t, err)
			v, err := auditchain.NewVerifier(keys, auditchain.Head{Hash: auditchain.GenesisHash}, auditchain.Head{Seq: head.Seq, Hash: head.Hash}, nil)
			require.NoError(t, err)
			for i, m := range rows {
				require.Equal(t, fmt.Sprint("aud_", i+1), m.ID)
				require.Nil(t, v.Add(schema.AuditRecord(m)))
			}
			res, f := v.Finish()
			require.Nil(t, f)
			require.Equal(t, 3, res.Rows)
		})
	}
}

func TestEvidenceMigrationAllowsTheAuditorRole(t *testing.T) {
	for name, db := range evidenceDBs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Now().UTC()
			for role, ok := range map[string]bool{"auditor": true, "admin": true, "technician": true, "owner": false} {
				_, err := db.NewInsert().Model(&schema.Technician{ID: "tec_" + role, Email: role + "@msp.example", DisplayName: role, Role: role, CreatedAt: now}).Exec(ctx)
				if ok {
					require.NoError(t, err, role)
				} else {
					require.Error(t, err, role)
				}
			}
		})
	}
}
