package main

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/demo"
)

// dev.env, sourced by a shell, gives a command exactly the configuration the dev stack runs
// with (encryption key, data directory, emulator as Entra and Graph, OAuth client, Temporal
// address…), so `. .jitaccess/dev.env && jitaccess reconcile --dry-run` works as it is; a
// rewrite without the demo (--no-seed) keeps the demo's ids.
func TestDevEnvCarriesTheStacksConfiguration(t *testing.T) {
	dir := t.TempDir()
	developer := map[string]string{"JIT_TEMPORAL_ADDRESS": "127.0.0.1:17233", "JIT_HTTP_ADDR": "127.0.0.1:18080",
		"JIT_PUBLIC_URL": "http://127.0.0.1:18080", "JIT_TASK_QUEUE": "it's-mine"}
	get, err := devGetenv(func(k string) string { return developer[k] }, dir, "127.0.0.1:18090", 18233)
	if err != nil {
		t.Fatal(err)
	}
	stack, err := config.Load(get)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dev.env")
	d := demo.Demo{API: stack.PublicURL, AdminToken: stack.BootstrapToken, TechnicianToken: "jit_tech", TenantID: "tnt_1", ApplicationID: "app_1"}
	if err := writeDevEnv(path, d, get); err != nil {
		t.Fatal(err)
	}

	// What a shell that sourced the file exports, and nothing else.
	out, err := exec.Command("/bin/sh", "-c", `. "$1" && env`, "sh", path).Output()
	if err != nil {
		t.Fatalf("source dev.env: %v", err)
	}
	exported := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "JIT_") {
			exported[k] = v
		}
	}
	cmd, err := config.Load(func(k string) string { return exported[k] })
	if err != nil {
		t.Fatalf("configuration from dev.env alone: %v", err)
	}
	if !reflect.DeepEqual(cmd, stack) {
		t.Errorf("configuration from dev.env differs from the stack's:\n got  %+v\n want %+v", cmd, stack)
	}
	// What `jitaccess reconcile` needs, named: the file must not lean on defaults for these.
	for _, k := range []string{"JIT_DATA_DIR", "JIT_ENCRYPTION_KEY", "JIT_ENTRA_AUTHORITY", "JIT_GRAPH_URL", "JIT_OAUTH_CLIENT_ID",
		"JIT_OAUTH_CLIENT_SECRET", "JIT_TEMPORAL_ADDRESS", "JIT_TASK_QUEUE"} {
		if exported[k] == "" || exported[k] != get(k) {
			t.Errorf("dev.env exports %s=%q, the stack runs with %q", k, exported[k], get(k))
		}
	}
	for k, want := range map[string]string{"JIT_API": d.API, "JIT_ADMIN_TOKEN": d.AdminToken, "JIT_TECHNICIAN_TOKEN": "jit_tech",
		"JIT_TENANT_ID": "tnt_1", "JIT_APPLICATION_ID": "app_1"} {
		if exported[k] != want {
			t.Errorf("dev.env exports %s=%q, want %q", k, exported[k], want)
		}
	}

	// `jitaccess dev --no-seed` knows no demo ids: the saved ones stay.
	if err := writeDevEnv(path, demo.Demo{API: d.API, AdminToken: d.AdminToken}, get); err != nil {
		t.Fatal(err)
	}
	saved := demo.ReadEnvFile(path)
	if saved["JIT_TECHNICIAN_TOKEN"] != "jit_tech" || saved["JIT_APPLICATION_ID"] != "app_1" || saved["JIT_TASK_QUEUE"] != "it's-mine" {
		t.Errorf("after a rewrite without the demo: %v", saved)
	}
}
