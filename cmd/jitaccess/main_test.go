package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jitaccess/jitaccess/config"
)

func testEnv(vars map[string]string) (environment, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return environment{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &errOut}, &out, &errOut
}

func TestUsage(t *testing.T) {
	env, out, _ := testEnv(nil)
	if err := run(context.Background(), env, []string{"help"}); err != nil {
		t.Fatal(err)
	}
	for name := range commands() {
		if !strings.Contains(out.String(), name) {
			t.Errorf("usage does not list %q", name)
		}
	}
	var ue *usageError
	if err := run(context.Background(), env, nil); !errors.As(err, &ue) {
		t.Errorf("no subcommand: %v, want a usage error", err)
	}
	if err := run(context.Background(), env, []string{"frobnicate"}); !errors.As(err, &ue) || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown subcommand: %v", err)
	}
}

// Every subcommand that reads the configuration stops before doing anything when it is bad,
// with one line naming the variable.
func TestBadConfigurationStopsStartUp(t *testing.T) {
	for _, cmd := range []string{"serve", "worker", "migrate", "codec-server"} {
		t.Run(cmd, func(t *testing.T) {
			env, _, _ := testEnv(map[string]string{"JIT_HTTP_ADDR": "nonsense"})
			err := run(context.Background(), env, []string{cmd})
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a configuration error", err)
			}
			// JIT_HTTP_ADDR is checked before the missing key.
			if ce.Var != "JIT_HTTP_ADDR" || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q should be one line naming JIT_HTTP_ADDR", err)
			}
		})
	}
	env, _, _ := testEnv(nil)
	err := run(context.Background(), env, []string{"serve"})
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Var != "JIT_ENCRYPTION_KEY" {
		t.Errorf("missing key: %v", err)
	}
}

func TestTokenCommandValidatesFlags(t *testing.T) {
	env, _, _ := testEnv(nil)
	var ue *usageError
	for _, args := range [][]string{
		{"token"},
		{"token", "create", "--role", "root", "--email", "a@b.example"},
		{"token", "create", "--role", "admin", "--email", "not-an-email"},
	} {
		if err := run(context.Background(), env, args); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
