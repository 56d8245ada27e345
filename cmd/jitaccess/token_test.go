package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jitaccess/jitaccess/seal"
)

// TestTokenCreateListRevoke runs the token command against an embedded (SQLite) database.
func TestTokenCreateListRevoke(t *testing.T) {
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"JIT_DATA_DIR": t.TempDir(), "JIT_ENCRYPTION_KEY": key}
	ctx := context.Background()

	env, out, _ := testEnv(vars)
	if err := run(ctx, env, []string{"token", "create", "--role", "admin", "--email", "root@msp.example", "--token-name", "laptop", "--expires-in", "1h"}); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`token (tok_[a-z2-7]+) expires (\S+)\ntoken: (jit_\S+)`).FindStringSubmatch(out.String())
	if m == nil || m[2] == "-" {
		t.Fatalf("create printed %q", out.String())
	}
	id := m[1]

	env, out, _ = testEnv(vars)
	if err := run(ctx, env, []string{"token", "list", "--email", "root@msp.example"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), id) || !strings.Contains(out.String(), "laptop") || strings.Contains(out.String(), m[3]) {
		t.Fatalf("list printed %q", out.String())
	}

	env, out, _ = testEnv(vars)
	if err := run(ctx, env, []string{"token", "revoke", id}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "revoked "+id) {
		t.Fatalf("revoke printed %q", out.String())
	}
	env, _, _ = testEnv(vars)
	if err := run(ctx, env, []string{"token", "revoke", "tok_missing"}); err == nil {
		t.Fatal("revoking an unknown token succeeded")
	}
}

// TestDevUsesTheConfiguredAdminToken: with JIT_BOOTSTRAP_ADMIN_TOKEN set, `make dev` seeds
// the demo with that token (the one the API knows), not the generated one.
func TestDevUsesTheConfiguredAdminToken(t *testing.T) {
	dir := t.TempDir()
	mine := "jit_" + strings.Repeat("m", 40)
	cfg, err := devConfig(func(k string) string {
		if k == "JIT_BOOTSTRAP_ADMIN_TOKEN" {
			return mine
		}
		return ""
	}, dir, "127.0.0.1:1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BootstrapToken != mine {
		t.Fatalf("bootstrap token %q, want the configured one", cfg.BootstrapToken)
	}
	generated, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err = devConfig(func(string) string { return "" }, dir, "127.0.0.1:1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BootstrapToken != strings.TrimSpace(string(generated)) {
		t.Fatalf("without a configured token the generated one is used, got %q", cfg.BootstrapToken)
	}
}
