package deploy_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jitaccess/internal/stack"
)

// composeTopology is what docker-compose.yml says about each service's shape.
type composeTopology struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Command     []string       `yaml:"command"`
		Environment map[string]any `yaml:"environment"`
		Deploy      struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"deploy"`
	} `yaml:"services"`
}

// composeOnly are services docker-compose.yml runs and `make stack` does not, with the reason.
var composeOnly = map[string]string{
	"temporal-ui": "the Temporal UI is a separate web application, not built here; the dev server embeds one",
	"codec":       "jitaccess codec-server serves the Temporal UI, which the stack does not run",
}

// `make stack` (internal/stack) and docker-compose.yml describe one topology: the same
// services, the same process counts, and compose passes every variable the stack sets.
func TestComposeAndStackDescribeOneTopology(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeTopology
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	inStack := map[string]bool{}
	for _, svc := range stack.Topology() {
		inStack[svc.Name] = true
		if svc.StackOnly {
			if _, ok := c.Services[svc.Name]; ok {
				t.Errorf("%s stands in for a cloud service locally and must not be in docker-compose.yml", svc.Name)
			}
			continue
		}
		cs, ok := c.Services[svc.Name]
		if !ok {
			t.Errorf("the stack runs %s; docker-compose.yml lacks it", svc.Name)
			continue
		}
		replicas := cs.Deploy.Replicas
		if replicas == 0 {
			replicas = 1
		}
		if replicas != svc.Replicas {
			t.Errorf("%s: the stack runs %d, docker-compose.yml %d", svc.Name, svc.Replicas, replicas)
		}
		if len(svc.Command) > 0 && !slices.Equal(cs.Command, svc.Command) {
			t.Errorf("%s: the stack runs jitaccess %v, docker-compose.yml %v", svc.Name, svc.Command, cs.Command)
		}
		for _, name := range svc.Env {
			if _, ok := cs.Environment[name]; !ok {
				t.Errorf("%s: the stack sets %s, docker-compose.yml does not", svc.Name, name)
			}
		}
		// Variables outside the stack's list are ones compose sets for itself (UI link, …);
		// the ones that wire the topology together must be in both.
		for name := range cs.Environment {
			if strings.HasPrefix(name, "JIT_") && isWiring(name) && !slices.Contains(svc.Env, name) {
				t.Errorf("%s: docker-compose.yml sets %s, the stack does not", svc.Name, name)
			}
		}
	}
	for name := range c.Services {
		if !inStack[name] && composeOnly[name] == "" {
			t.Errorf("docker-compose.yml runs %s, which the stack (internal/stack.Topology) does not", name)
		}
	}
	if got := c.Services["temporal"].Environment["DB"]; got != "postgres12" {
		t.Errorf("compose's Temporal must persist to PostgreSQL like the stack's, DB=%v", got)
	}
}

// isWiring: the variables that connect the processes to each other and to their data.
func isWiring(name string) bool {
	switch name {
	case "JIT_DATABASE_URL", "JIT_TEMPORAL_ADDRESS", "JIT_TEMPORAL_NAMESPACE", "JIT_TASK_QUEUE",
		"JIT_ENCRYPTION_KEY", "JIT_PUBLIC_URL", "JIT_HTTP_ADDR", "JIT_METRICS_ADDR":
		return true
	}
	return false
}
