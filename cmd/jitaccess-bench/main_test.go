package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// Mistakes on the command line are usage errors (exit status 2) before anything starts.
func TestRunBenchRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--topology", "cluster"}, `--topology "cluster"`},
		{[]string{"--topology", "production", "--tune-pollers", "4"}, "production topology"},
		{[]string{"--topology", "production", "--sticky-cache", "100"}, "production topology"},
		{[]string{"--scenarios", "latency,nope"}, `unknown scenario "nope"`},
		{[]string{"--msp-grants", "-1"}, "must not be negative"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		var stderr bytes.Buffer
		env := environment{getenv: func(string) string { return "" }, stdout: &bytes.Buffer{}, stderr: &stderr}
		err := runBench(context.Background(), env, tc.args)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want a usage error naming %q", tc.args, err, tc.want)
		}
	}
}
