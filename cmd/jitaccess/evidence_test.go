package main

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// audit verify passes on an intact chain (also after a key rotation) and fails naming the row
// someone edited in the database; report writes the tenant's CSV.
func TestAuditVerifyAndReportCommands(t *testing.T) {
	ctx := context.Background()
	url := testenv.Postgres(t)
	oldKey, newKey := []byte(strings.Repeat("o", 32)), []byte(strings.Repeat("n", 32))
	vars := map[string]string{"JIT_DATABASE_URL": url, "JIT_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(oldKey)}

	db, err := schema.Open(ctx, url, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := schema.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	sealer, _ := seal.New(oldKey)
	st := store.New(db, sealer)
	tn, err := st.CreateTenant(ctx, "Contoso")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := st.RecordAudit(ctx, store.AuditEvent{TenantID: tn.ID, Action: "grant.request_denied", Target: "app_x",
			CreatedAt: time.Now().Add(time.Duration(i) * time.Second), Details: map[string]any{"reason": "not_entitled"}}); err != nil {
			t.Fatal(err)
		}
	}
	env, out, _ := testEnv(vars)
	if err := run(ctx, env, []string{"audit", "seal"}); err != nil {
		t.Fatal(err)
	}
	// Rotate: the old key becomes a previous key; seal again with the new one.
	vars["JIT_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(newKey)
	vars["JIT_PREVIOUS_ENCRYPTION_KEYS"] = base64.StdEncoding.EncodeToString(oldKey)
	if err := st.RecordAudit(ctx, store.AuditEvent{TenantID: tn.ID, Action: "test.after_rotation", Target: "x"}); err != nil {
		t.Fatal(err)
	}
	env, out, _ = testEnv(vars)
	if err := run(ctx, env, []string{"audit", "seal"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, env, []string{"audit", "verify"}); err != nil {
		t.Fatalf("intact chain: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "audit chain verified: 5 rows (seq 1 to 5), 2 signed checkpoints") {
		t.Errorf("verify output: %q", out)
	}

	csvPath := filepath.Join(t.TempDir(), "r.csv")
	from := time.Now().UTC().Format("2006-01-02")
	to := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	if err := run(ctx, env, []string{"report", "--tenant", tn.ID, "--from", from, "--to", to, "--format", "csv", "--out", csvPath}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil || strings.Count(string(b), "\ndenied,") != 4 {
		t.Errorf("report csv (%v):\n%s", err, b)
	}

	if err := run(ctx, env, []string{"token", "create", "--role", "auditor", "--email", "auditor@msp.example", "--tenants", tn.ID}); err != nil {
		t.Fatal(err)
	}
	aud, err := st.TechnicianByEmail(ctx, "auditor@msp.example")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := st.Principal(ctx, aud); err != nil || p.Role != store.RoleAuditor || len(p.Scope.Tenants) != 1 || p.Scope.Tenants[0] != tn.ID {
		t.Errorf("auditor principal: %+v %v", p, err)
	}

	var m schema.AuditEvent
	if err := db.NewSelect().Model(&m).Where("seq = 2").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE audit_events SET actor_id = 'tec_innocent' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, env, []string{"audit", "verify"})
	var ue *usageError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "edited row "+m.ID+" at seq 2") {
		t.Fatalf("tampered chain: got %v", err)
	}
	if !strings.Contains(out.String(), m.ID) {
		t.Errorf("verify output should name the row: %q", out)
	}
}

func TestReportAndVerifyFlags(t *testing.T) {
	env, _, _ := testEnv(nil)
	var ue *usageError
	for _, args := range [][]string{
		{"report"},
		{"report", "--tenant", "t", "--format", "docx"},
		{"report", "--tenant", "t", "--from", "2026-02-01", "--to", "2026-01-01"},
		{"report", "--tenant", "t", "--from", "yesterday"},
		{"audit", "verify", "--since", "last week"},
		{"audit", "verify", "extra"},
		{"token", "create", "--role", "technician", "--email", "a@b.example", "--tenants", "ten_1"},
	} {
		if err := run(context.Background(), env, args); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
