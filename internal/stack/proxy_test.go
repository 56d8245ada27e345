package stack

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// backend answers its name and echoes the request body and Host header.
func backend(name string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, name+" "+r.Host+" "+string(b))
	}))
}

func TestProxy(t *testing.T) {
	a, b := backend("a"), backend("b")
	defer a.Close()
	defer b.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // refuses connections, as a crashed API does

	tests := []struct {
		name     string
		backends []string
		want     map[string]int // backend name → requests of 6
		status   int
	}{
		{"round-robin over two", []string{a.URL, b.URL}, map[string]int{"a": 3, "b": 3}, http.StatusOK},
		{"a refused backend is skipped", []string{a.URL, dead.URL}, map[string]int{"a": 6}, http.StatusOK},
		{"none answers", []string{dead.URL}, map[string]int{}, http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewProxy(tt.backends...)
			if err != nil {
				t.Fatal(err)
			}
			front := httptest.NewServer(p)
			defer front.Close()
			got := map[string]int{}
			for range 6 {
				resp, err := http.Post(front.URL+"/v1/x", "application/json", strings.NewReader(`{"k":1}`))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
				}
				if resp.StatusCode != http.StatusOK {
					continue
				}
				parts := strings.SplitN(string(body), " ", 3)
				// The body reaches the backend intact even after a refused attempt, and the
				// backend sees the public host.
				if len(parts) != 3 || parts[2] != `{"k":1}` || parts[1] != strings.TrimPrefix(front.URL, "http://") {
					t.Fatalf("backend saw %q", body)
				}
				got[parts[0]]++
			}
			for name, n := range tt.want {
				if got[name] != n {
					t.Errorf("backend %s served %d, want %d (all: %v)", name, got[name], n, got)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("served by %v, want %v", got, tt.want)
			}
		})
	}
}

// The rendered Temporal configuration carries the databases and every port.
func TestWriteTemporalConfig(t *testing.T) {
	ports, err := temporalPorts(0)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := writeTemporalConfig(t.TempDir(), temporalConfig{LogLevel: "warn", HistoryShards: 4, Database: "t_db",
		VisibilityDatabase: "v_db", PostgresAddr: "127.0.0.1:5432", PostgresUser: "postgres", Ports: ports})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Persistence struct {
			VisibilityStore string `yaml:"visibilityStore"`
			Datastores      map[string]struct {
				SQL struct {
					PluginName   string `yaml:"pluginName"`
					DatabaseName string `yaml:"databaseName"`
				} `yaml:"sql"`
			} `yaml:"datastores"`
		} `yaml:"persistence"`
		Services map[string]struct {
			RPC struct {
				GRPCPort int `yaml:"grpcPort"`
			} `yaml:"rpc"`
		} `yaml:"services"`
		DynamicConfigClient struct {
			Filepath string `yaml:"filepath"`
		} `yaml:"dynamicConfigClient"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("rendered config does not parse: %v\n%s", err, raw)
	}
	vis := cfg.Persistence.Datastores[cfg.Persistence.VisibilityStore].SQL
	if vis.PluginName != "postgres12" || vis.DatabaseName != "v_db" {
		t.Errorf("visibility store %+v", vis)
	}
	if got := cfg.Persistence.Datastores["postgres-default"].SQL.DatabaseName; got != "t_db" {
		t.Errorf("default store database %q", got)
	}
	want := map[string]int{"frontend": ports.Frontend, "history": ports.History, "matching": ports.Matching, "worker": ports.Worker}
	for svc, port := range want {
		if got := cfg.Services[svc].RPC.GRPCPort; got != port {
			t.Errorf("%s grpcPort %d, want %d", svc, got, port)
		}
	}
	if _, err := os.Stat(cfg.DynamicConfigClient.Filepath); err != nil {
		t.Errorf("dynamic config: %v", err)
	}
}
