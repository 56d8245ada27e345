package stack

import "sort"

// TemporalServerVersion is the Temporal server scripts/temporal-server.sh builds: the version
// the pinned CLI's dev server embeds, so both topologies run the same server code.
const TemporalServerVersion = "1.29.1"

// Service is one service of the production topology, named as docker-compose.yml names it.
type Service struct {
	Name     string
	Command  []string // the jitaccess subcommand; empty for services that are not jitaccess
	Replicas int
	// Env lists the JIT_* variables the stack gives the service (compose must pass them too).
	Env []string
	// StackOnly marks what only the local stack runs (the Entra emulator stands in for Entra).
	StackOnly bool
}

// Topology is what Start runs with default options. deploy's test checks that
// docker-compose.yml describes the same services, counts and variables.
func Topology() []Service {
	shared := productEnv(&Stack{}, "", "")
	api := merge(shared, map[string]string{"JIT_HTTP_ADDR": "", "JIT_METRICS_ADDR": "", "JIT_BOOTSTRAP_ADMIN_TOKEN": "", "JIT_BOOTSTRAP_ADMIN_EMAIL": ""})
	worker := merge(shared, map[string]string{"JIT_METRICS_ADDR": ""})
	return []Service{
		{Name: "postgres", Replicas: 1},
		{Name: "temporal", Replicas: 1},
		{Name: "api", Command: []string{"serve"}, Replicas: 2, Env: names(api)},
		{Name: "worker", Command: []string{"worker"}, Replicas: 2, Env: names(worker)},
		{Name: "proxy", Replicas: 1},
		{Name: "entra-sim", Replicas: 1, StackOnly: true},
	}
}

func names(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
