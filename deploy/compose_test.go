package deploy

import (
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jitaccess/config"
)

type compose struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       any            `yaml:"build"`
		Command     []string       `yaml:"command"`
		Environment map[string]any `yaml:"environment"`
		DependsOn   any            `yaml:"depends_on"`
		Ports       []string       `yaml:"ports"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func load(t *testing.T) compose {
	t.Helper()
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	return c
}

func TestComposeHasEveryService(t *testing.T) {
	c := load(t)
	for _, name := range []string{"postgres", "temporal", "temporal-ui", "codec", "api", "worker"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %q missing", name)
		}
	}
	if got := c.Services["api"].Command; len(got) != 1 || got[0] != "serve" {
		t.Errorf("api must run `jitaccess serve`, runs %v", got)
	}
	if got := c.Services["worker"].Command; len(got) != 1 || got[0] != "worker" {
		t.Errorf("worker must run `jitaccess worker`, runs %v", got)
	}
	for _, name := range []string{"api", "worker"} {
		if c.Services[name].Build == nil {
			t.Errorf("%s must be built from the Dockerfile", name)
		}
		if c.Services[name].DependsOn == nil {
			t.Errorf("%s must depend on postgres and temporal", name)
		}
	}
	if !strings.Contains(c.Services["temporal"].Image, "temporal") {
		t.Errorf("temporal service image %q", c.Services["temporal"].Image)
	}
	if env := c.Services["temporal"].Environment; env["DB"] != "postgres12" || env["POSTGRES_SEEDS"] != "postgres" {
		t.Errorf("temporal must be backed by the postgres service: %v", env)
	}
}

func TestComposeEnvironmentMatchesConfig(t *testing.T) {
	c := load(t)
	known := map[string]bool{}
	for _, v := range config.Vars() {
		known[v.Name] = true
	}
	for _, name := range []string{"api", "worker", "codec"} {
		env := c.Services[name].Environment
		for k := range env {
			if strings.HasPrefix(k, "<<") {
				continue
			}
			if !known[k] {
				t.Errorf("%s passes %s, which jitaccess does not read", name, k)
			}
		}
		for _, required := range []string{"JIT_DATABASE_URL", "JIT_TEMPORAL_ADDRESS", "JIT_ENCRYPTION_KEY", "JIT_TASK_QUEUE"} {
			if _, ok := env[required]; !ok {
				t.Errorf("%s lacks %s", name, required)
			}
		}
		// The values must point at the compose services and be valid configuration.
		vals := map[string]string{}
		for k, v := range env {
			s, _ := v.(string)
			vals[k] = expandDefaults(s)
		}
		vals["JIT_ENCRYPTION_KEY"] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		cfg, err := config.Load(func(k string) string { return vals[k] })
		if err != nil {
			t.Errorf("%s environment is not valid configuration: %v", name, err)
			continue
		}
		if !strings.Contains(cfg.DatabaseURL, "@postgres:5432/") {
			t.Errorf("%s database URL %q does not name the postgres service", name, cfg.DatabaseURL)
		}
		if cfg.TemporalAddress != "temporal:7233" || cfg.TaskQueue != "jit-access" || cfg.TemporalNamespace != "default" {
			t.Errorf("%s Temporal settings: %s %s %s", name, cfg.TemporalAddress, cfg.TemporalNamespace, cfg.TaskQueue)
		}
	}
}

// expandDefaults resolves ${VAR:-default} and ${VAR:?msg} as compose would with VAR unset.
func expandDefaults(s string) string {
	re := regexp.MustCompile(`\$\{[A-Z_]+(:-([^}]*)|:\?[^}]*)?\}`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.FindStringSubmatch(m)
		return sub[2]
	})
}

func TestDockerfileBuildsTheBinary(t *testing.T) {
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{"go build", "./cmd/jitaccess", "ENTRYPOINT", "FROM golang:1.26"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// Temporal's frontend, its UI and the codec server are reachable from the host's loopback only;
// the UI cannot change workflows and decodes through the codec server with the portal's cookie.
func TestComposeTemporalPlaneIsClosed(t *testing.T) {
	c := load(t)
	for name, svc := range c.Services {
		for _, p := range svc.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q beyond the host's loopback", name, p)
			}
		}
	}
	ui := c.Services["temporal-ui"].Environment
	val := func(env map[string]any, k string) string {
		s, _ := env[k].(string)
		return expandDefaults(s)
	}
	if val(ui, "TEMPORAL_DISABLE_WRITE_ACTIONS") != "true" {
		t.Error("the Temporal UI must be read-only (TEMPORAL_DISABLE_WRITE_ACTIONS)")
	}
	if val(ui, "TEMPORAL_CODEC_INCLUDE_CREDENTIALS") != "true" {
		t.Error("the UI must send the portal's session cookie to the codec server (TEMPORAL_CODEC_INCLUDE_CREDENTIALS)")
	}
	codec := c.Services["codec"]
	if len(codec.Command) == 0 || codec.Command[0] != "codec-server" {
		t.Fatalf("codec service runs %v, want jitaccess codec-server", codec.Command)
	}
	endpoint, err := url.Parse(val(ui, "TEMPORAL_CODEC_ENDPOINT"))
	if err != nil || endpoint.Host == "" {
		t.Fatalf("TEMPORAL_CODEC_ENDPOINT %q", val(ui, "TEMPORAL_CODEC_ENDPOINT"))
	}
	if len(codec.Ports) != 1 || !strings.HasSuffix(codec.Ports[0], ":"+endpoint.Port()+":8081") {
		t.Errorf("the UI's codec endpoint %s is not the codec service's published port %v", endpoint, codec.Ports)
	}
	// Same host as the portal (cookies ignore ports), and the UI's origin allowed by CORS.
	public, _ := url.Parse(expandDefaults(c.Services["api"].Environment["JIT_PUBLIC_URL"].(string)))
	if public == nil {
		public, _ = url.Parse("http://localhost:8080")
	}
	if endpoint.Hostname() != public.Hostname() {
		t.Errorf("codec endpoint host %s differs from the portal's %s: the session cookie would not reach it", endpoint.Hostname(), public.Hostname())
	}
	uiOrigin := "http://localhost:" + strings.Split(c.Services["temporal-ui"].Ports[0], ":")[1]
	if got := val(codec.Environment, "JIT_CODEC_CORS_ORIGIN"); got != uiOrigin {
		t.Errorf("JIT_CODEC_CORS_ORIGIN %q, want the UI's origin %s", got, uiOrigin)
	}
}

// Closed histories are kept at least 90 days by default (#14.9), and the retention is a variable.
func TestComposeRetention(t *testing.T) {
	c := load(t)
	raw, _ := c.Services["temporal"].Environment["DEFAULT_NAMESPACE_RETENTION"].(string)
	if !strings.HasPrefix(raw, "${TEMPORAL_RETENTION:-") {
		t.Errorf("DEFAULT_NAMESPACE_RETENTION %q is not configurable through TEMPORAL_RETENTION", raw)
	}
	d, err := time.ParseDuration(expandDefaults(raw))
	if err != nil || d < 90*24*time.Hour {
		t.Errorf("default retention %q (%v), want at least 90 days", expandDefaults(raw), err)
	}
}
