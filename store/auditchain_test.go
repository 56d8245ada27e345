package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/auditchain"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store"
)

func chainKeys(t *testing.T, current string, previous ...string) *auditchain.Keys {
	t.Helper()
	var prev [][]byte
	for _, p := range previous {
		prev = append(prev, []byte(strings.Repeat(p, 32)))
	}
	k, err := auditchain.NewKeys([]byte(strings.Repeat(current, 32)), prev...)
	require.NoError(t, err)
	return k
}

// seedChain logs five events and seals a checkpoint after the third; it returns their ids by seq.
func seedChain(t *testing.T, st *store.Store, keys *auditchain.Keys) map[int64]string {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{TenantID: "ten_1", Action: "test.event", Target: fmt.Sprint("t", i),
			Details: map[string]any{"n": i}, WorkflowID: "access/ten_1/app/tec", RunID: fmt.Sprint("run-", i)}))
		if i == 3 {
			_, ok, err := st.SealAuditChain(ctx, keys)
			require.NoError(t, err)
			require.True(t, ok)
		}
	}
	evs, err := st.AuditEventsAfter(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, evs, 5)
	ids := map[int64]string{}
	for i, e := range evs {
		require.Equal(t, int64(i+1), e.Seq)
		require.Equal(t, fmt.Sprint("run-", i+1), e.RunID)
		ids[e.Seq] = e.ID
	}
	return ids
}

func exec(t *testing.T, db *bun.DB, q string, args ...any) {
	t.Helper()
	_, err := db.ExecContext(context.Background(), q, args...)
	require.NoError(t, err, q)
}

// rehash recomputes a row's hash as an attacker who knows the algorithm would.
func rehash(t *testing.T, db *bun.DB, id string) {
	t.Helper()
	var m schema.AuditEvent
	require.NoError(t, db.NewSelect().Model(&m).Where("id = ?", id).Scan(context.Background()))
	exec(t, db, "UPDATE audit_events SET hash = ? WHERE id = ?", auditchain.Hash(schema.AuditRecord(m)), id)
}

func TestAuditChainVerifies(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, db *bun.DB) {
		keys := chainKeys(t, "a")
		seedChain(t, st, keys)
		res, err := st.VerifyAuditChain(context.Background(), keys, time.Time{})
		require.NoError(t, err)
		require.Equal(t, 5, res.Rows)
		require.Equal(t, int64(5), res.LastSeq)
		require.Equal(t, 1, res.Checkpoints)
	})
}

func TestAuditChainDetectsTamperingInPostgres(t *testing.T) {
	type tamper func(t *testing.T, db *bun.DB, ids map[int64]string) (kind string, seq int64, id string)
	cases := map[string]tamper{
		"edited details": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			exec(t, db, `UPDATE audit_events SET details = '{"n":99}' WHERE seq = 4`)
			return auditchain.Edited, 4, ids[4]
		},
		"edited and rehashed": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			exec(t, db, `UPDATE audit_events SET actor_id = 'tec_someone_else' WHERE seq = 2`)
			rehash(t, db, ids[2])
			return auditchain.Edited, 2, ids[2]
		},
		"edited a sealed row and rehashed the rest": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			exec(t, db, `UPDATE audit_events SET action = 'test.other' WHERE seq = 3`)
			rehash(t, db, ids[3])
			return auditchain.Edited, 3, ids[3]
		},
		"deleted in the middle": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			exec(t, db, `DELETE FROM audit_events WHERE seq = 2`)
			return auditchain.Deleted, 2, ""
		},
		"deleted the last": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			exec(t, db, `DELETE FROM audit_events WHERE seq = 5`)
			return auditchain.Deleted, 5, ""
		},
		"deleted the first": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			exec(t, db, `DELETE FROM audit_events WHERE seq = 1`)
			return auditchain.Deleted, 1, ""
		},
		"deleted and renumbered": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			exec(t, db, `DELETE FROM audit_events WHERE seq = 4`)
			exec(t, db, `UPDATE audit_events SET seq = 4 WHERE seq = 5`)
			exec(t, db, `UPDATE audit_chain_heads SET seq = 4`)
			return auditchain.Deleted, 4, ""
		},
		"inserted at the end": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			forge(t, db, "aud_forged", 6, 5)
			return auditchain.Inserted, 6, "aud_forged"
		},
		"inserted in the middle": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			exec(t, db, `UPDATE audit_events SET seq = -seq WHERE seq >= 4`)
			exec(t, db, `UPDATE audit_events SET seq = 1 - seq WHERE seq < 0`)
			forge(t, db, "aud_forged", 4, 3)
			return auditchain.Inserted, 4, "aud_forged"
		},
		"inserted without a sequence number": func(t *testing.T, db *bun.DB, ids map[int64]string) (string, int64, string) {
			exec(t, db, `INSERT INTO audit_events (id, created_at, actor_id, actor_kind, action, target, details)
				VALUES ('aud_stray', now(), 'system', 'system', 'grant.revoked', 'grt_x', '{}')`)
			return auditchain.Inserted, 0, "aud_stray"
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			db := testenv.MigratedDB(t, "postgres")
			st := store.New(db, newSealer(t))
			keys := chainKeys(t, "a")
			ids := seedChain(t, st, keys)
			kind, seq, id := tamper(t, db, ids)
			_, err := st.VerifyAuditChain(context.Background(), keys, time.Time{})
			var f *auditchain.Finding
			require.True(t, errors.As(err, &f), "want a finding, got %v", err)
			require.Equal(t, kind, f.Kind, f.Error())
			require.Equal(t, seq, f.Seq, f.Error())
			require.Equal(t, id, f.ID, f.Error())
		})
	}
}

// forge inserts a row at seq linked to the row at prevSeq with a correct hash of its own.
func forge(t *testing.T, db *bun.DB, id string, seq, prevSeq int64) {
	t.Helper()
	ctx := context.Background()
	var prev schema.AuditEvent
	require.NoError(t, db.NewSelect().Model(&prev).Where("seq = ?", prevSeq).Scan(ctx))
	m := schema.AuditEvent{ID: id, CreatedAt: prev.CreatedAt.Add(time.Second), ActorID: "system", ActorKind: "system",
		Action: "grant.revoked", Target: "grt_x", Details: "{}"}
	r := auditchain.Link(schema.AuditRecord(m), prevSeq, prev.Hash)
	require.Equal(t, seq, r.Seq)
	m.Seq, m.PrevHash, m.Hash = r.Seq, r.PrevHash, r.Hash
	_, err := db.NewInsert().Model(&m).Exec(ctx)
	require.NoError(t, err)
}

func TestAuditChainVerifiesAcrossKeyRotation(t *testing.T) {
	db := testenv.MigratedDB(t, "postgres")
	st := store.New(db, newSealer(t))
	ctx := context.Background()
	old := chainKeys(t, "a")
	seedChain(t, st, old)
	rotated := chainKeys(t, "b", "a")
	require.NotEqual(t, old.CurrentKeyID(), rotated.CurrentKeyID())
	require.NoError(t, st.RecordAudit(ctx, store.AuditEvent{Action: "test.after_rotation", Target: "x"}))
	c, ok, err := st.SealAuditChain(ctx, rotated)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, rotated.CurrentKeyID(), c.KeyID)

	res, err := st.VerifyAuditChain(ctx, rotated, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 6, res.Rows)
	require.ElementsMatch(t, []string{old.CurrentKeyID(), rotated.CurrentKeyID()}, res.KeyIDs)

	// Without the old key its checkpoint cannot be trusted.
	_, err = st.VerifyAuditChain(ctx, chainKeys(t, "b"), time.Time{})
	var f *auditchain.Finding
	require.True(t, errors.As(err, &f), "got %v", err)
	require.Equal(t, auditchain.BadCheckpoint, f.Kind)

	// A forged signature is caught.
	exec(t, db, `UPDATE audit_checkpoints SET hash = 'f00' WHERE seq = 3`)
	_, err = st.VerifyAuditChain(ctx, rotated, time.Time{})
	require.True(t, errors.As(err, &f), "got %v", err)
	require.Equal(t, auditchain.BadCheckpoint, f.Kind)
}
