package main

import (
	"strings"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/demo"
)

// devProcessEnv is every JIT_* variable (config.Vars) the dev stack runs with: what
// config.Load read through get, whatever it defaults to left out, so that config.Load over
// these alone is the stack's configuration.
func devProcessEnv(get func(string) string) map[string]string {
	out := map[string]string{}
	for _, v := range config.Vars() {
		if val := strings.TrimSpace(get(v.Name)); val != "" {
			out[v.Name] = val
		}
	}
	return out
}

// writeDevEnv writes dev.env: the demo's API, tokens and ids, and the stack's configuration
// (its encryption key included: the file is 0600 in the data directory, which holds the key
// already). A demo id this run does not know (--no-seed) keeps the value saved before.
func writeDevEnv(path string, d demo.Demo, get func(string) string) error {
	return demo.WriteEnvFile(path, d, devProcessEnv(get))
}
