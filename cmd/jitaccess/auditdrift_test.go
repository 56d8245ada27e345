package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// `jitaccess audit` shows, after the history's timeline, the reconciler's drift.* findings
// about the grant and about its account, labelled as such; nothing about other grants or
// accounts, and no other kind of audit event.
func TestAuditShowsReconcilerFindings(t *testing.T) {
	ctx := context.Background()
	history := filepath.Join("..", "..", "workflows", "testdata", "expired.json")
	const grantID = "grt_tec_expiry" // the golden history's grant

	// The account's object id, as the history names it.
	env, out, _ := testEnv(nil)
	if err := run(ctx, env, []string{"audit", "--history-file", history, "--json", "--findings=false"}); err != nil {
		t.Fatal(err)
	}
	objectID := ""
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e struct {
			Kind string         `json:"kind"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if id, _ := e.Data["object_id"].(string); id != "" && objectID == "" {
			objectID = id
		}
		if e.Kind == "drift" {
			t.Errorf("--findings=false printed a finding: %s", line)
		}
	}
	if objectID == "" {
		t.Fatal("the golden history names no account")
	}

	url := testenv.Postgres(t)
	key := []byte(strings.Repeat("k", 32))
	db, err := schema.Open(ctx, url, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := schema.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	sealer, _ := seal.New(key)
	st := store.New(db, sealer)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, e := range []store.AuditEvent{
		{Action: "drift.run_closed", Target: grantID, Details: map[string]any{"seen": "grant active but its run closed terminated", "done": "grant terminated; account disabled"}},
		{Action: "drift.account_enabled", Target: objectID, Details: map[string]any{"seen": "enabled=true with 1 role assignments and no live grant", "done": "account disabled, signed out", "upn": "jit-x@contoso.com"}},
		{Action: "drift.account_enabled", Target: "another-account", Details: map[string]any{"seen": "someone else's account", "done": "x"}},
		{Action: "drift.run_closed", Target: "grt_other", Details: map[string]any{"seen": "another grant", "done": "x"}},
		{Action: "grant.terminated", Target: grantID, Details: map[string]any{"reason": "not a finding"}},
	} {
		e.CreatedAt, e.ActorID, e.ActorKind = at.Add(time.Duration(i)*time.Minute), "reconciler", store.ActorSystem
		if err := st.RecordAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	env, out, _ = testEnv(map[string]string{"JIT_DATABASE_URL": url, "JIT_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key)})
	if err := run(ctx, env, []string{"audit", "--history-file", history}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	head := "Reconciler findings about this grant and its account (audit log, not the history):"
	_, found, ok := strings.Cut(text, head)
	if !ok {
		t.Fatalf("no findings section:\n%s", text)
	}
	for _, want := range []string{
		"reconciler finding drift.run_closed on this grant: seen: grant active but its run closed terminated; done: grant terminated; account disabled",
		"reconciler finding drift.account_enabled on account jit-x@contoso.com (" + objectID + "): seen: enabled=true",
	} {
		if !strings.Contains(found, want) {
			t.Errorf("findings lack %q:\n%s", want, found)
		}
	}
	for _, not := range []string{"another-account", "grt_other", "not a finding"} {
		if strings.Contains(text, not) {
			t.Errorf("output shows %q:\n%s", not, text)
		}
	}
	if n := strings.Count(found, "reconciler finding"); n != 2 {
		t.Errorf("%d findings, want 2:\n%s", n, found)
	}

	// --json: the same two, as entries of kind drift from the audit log.
	env, out, _ = testEnv(map[string]string{"JIT_DATABASE_URL": url, "JIT_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key)})
	if err := run(ctx, env, []string{"audit", "--history-file", history, "--json"}); err != nil {
		t.Fatal(err)
	}
	drift := 0
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e struct {
			Kind  string         `json:"kind"`
			Actor string         `json:"actor"`
			Data  map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Kind == "drift" {
			drift++
			if e.Actor != "reconciler" || e.Data["source"] != "audit_log" {
				t.Errorf("finding entry %s", line)
			}
		}
	}
	if drift != 2 {
		t.Errorf("%d drift entries in --json, want 2", drift)
	}
}
