package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"JIT_ENCRYPTION_KEY": testKey}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.TemporalAddress != "127.0.0.1:7233" || c.TemporalNamespace != "default" || c.TaskQueue != "jit-access" {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if c.ExpiringSoonLead != 15*time.Minute {
		t.Errorf("expiring soon notice: %s", c.ExpiringSoonLead)
	}
	if c.MinAccessDuration != 5*time.Minute || c.MaxAccessDuration != 24*time.Hour {
		t.Errorf("durations: %s %s", c.MinAccessDuration, c.MaxAccessDuration)
	}
	if c.EntraAuthority != "https://login.microsoftonline.com" || c.GraphURL != "https://graph.microsoft.com/v1.0" {
		t.Errorf("entra defaults: %s %s", c.EntraAuthority, c.GraphURL)
	}
	if c.DBMaxConns != 32 {
		t.Errorf("db max conns %d", c.DBMaxConns)
	}
	if c.WorkerCacheSize != 500 {
		t.Errorf("worker cache size %d", c.WorkerCacheSize)
	}
	if c.ProfileDir != "" {
		t.Errorf("profiles on by default: %q", c.ProfileDir)
	}
	if len(c.EncryptionKey) != 32 || c.DatabaseURL != "" {
		t.Errorf("key %d bytes, db %q", len(c.EncryptionKey), c.DatabaseURL)
	}
	if c.RedirectURL() != "http://127.0.0.1:8080/oauth/callback" {
		t.Errorf("redirect %s", c.RedirectURL())
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"missing key", map[string]string{}, "JIT_ENCRYPTION_KEY"},
		{"short key", map[string]string{"JIT_ENCRYPTION_KEY": "c2hvcnQ="}, "JIT_ENCRYPTION_KEY"},
		{"not base64", map[string]string{"JIT_ENCRYPTION_KEY": "!!!"}, "JIT_ENCRYPTION_KEY"},
		{"bad addr", map[string]string{"JIT_HTTP_ADDR": "8080"}, "JIT_HTTP_ADDR"},
		{"bad temporal", map[string]string{"JIT_TEMPORAL_ADDRESS": "nohost"}, "JIT_TEMPORAL_ADDRESS"},
		{"bad public url", map[string]string{"JIT_PUBLIC_URL": "ftp://x"}, "JIT_PUBLIC_URL"},
		{"bad graph url", map[string]string{"JIT_GRAPH_URL": "graph"}, "JIT_GRAPH_URL"},
		{"mysql", map[string]string{"JIT_DATABASE_URL": "mysql://x"}, "JIT_DATABASE_URL"},
		{"bad min", map[string]string{"JIT_MIN_ACCESS_DURATION": "soon"}, "JIT_MIN_ACCESS_DURATION"},
		{"negative max", map[string]string{"JIT_MAX_ACCESS_DURATION": "-1h"}, "JIT_MAX_ACCESS_DURATION"},
		{"max below min", map[string]string{"JIT_MIN_ACCESS_DURATION": "2h", "JIT_MAX_ACCESS_DURATION": "1h"}, "JIT_MAX_ACCESS_DURATION"},
		{"bad expiring soon notice", map[string]string{"JIT_EXPIRING_SOON_NOTICE": "soon"}, "JIT_EXPIRING_SOON_NOTICE"},
		{"secret without id", map[string]string{"JIT_OAUTH_CLIENT_SECRET": "s"}, "JIT_OAUTH_CLIENT_SECRET"},
		{"issuer without client", map[string]string{"JIT_OIDC_ISSUER": "http://127.0.0.1:8090/x/v2.0"}, "JIT_OIDC_CLIENT_ID"},
		{"weak bootstrap", map[string]string{"JIT_BOOTSTRAP_ADMIN_TOKEN": "short"}, "JIT_BOOTSTRAP_ADMIN_TOKEN"},
		{"log level", map[string]string{"JIT_LOG_LEVEL": "loud"}, "JIT_LOG_LEVEL"},
		{"cache size", map[string]string{"JIT_WORKER_CACHE_SIZE": "0"}, "JIT_WORKER_CACHE_SIZE"},
		{"pool of one", map[string]string{"JIT_DB_MAX_CONNS": "1"}, "JIT_DB_MAX_CONNS"},
		{"pool not a number", map[string]string{"JIT_DB_MAX_CONNS": "lots"}, "JIT_DB_MAX_CONNS"},
		{"compression", map[string]string{"JIT_TEMPORAL_COMPRESSION": "zstd"}, "JIT_TEMPORAL_COMPRESSION"},
		{"previous key", map[string]string{"JIT_PREVIOUS_ENCRYPTION_KEYS": testKey + ",bad"}, "JIT_PREVIOUS_ENCRYPTION_KEYS"},
		{"trusted proxies", map[string]string{"JIT_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"}, "JIT_TRUSTED_PROXIES"},
		{"retention words", map[string]string{"JIT_AUDIT_RETENTION": "forever"}, "JIT_AUDIT_RETENTION"},
		{"retention too short", map[string]string{"JIT_AUDIT_RETENTION": "1h"}, "JIT_AUDIT_RETENTION"},
		{"checkpoint interval", map[string]string{"JIT_AUDIT_CHECKPOINT_INTERVAL": "0s"}, "JIT_AUDIT_CHECKPOINT_INTERVAL"},
		{"syslog addr", map[string]string{"JIT_SIEM_SYSLOG_ADDR": "siem"}, "JIT_SIEM_SYSLOG_ADDR"},
		{"siem over http", map[string]string{"JIT_SIEM_HTTP_URL": "http://siem.example/in"}, "JIT_SIEM_HTTP_URL"},
		{"deployment without build", map[string]string{"JIT_WORKER_DEPLOYMENT": "jitaccess"}, "JIT_WORKER_BUILD_ID"},
		{"build without deployment", map[string]string{"JIT_WORKER_BUILD_ID": "0.3.0"}, "JIT_WORKER_BUILD_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]string{"JIT_ENCRYPTION_KEY": testKey}
			for k, v := range tt.set {
				m[k] = v
			}
			if _, ok := tt.set["JIT_ENCRYPTION_KEY"]; !ok && tt.want == "JIT_ENCRYPTION_KEY" {
				delete(m, "JIT_ENCRYPTION_KEY")
			}
			_, err := Load(env(m))
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != tt.want {
				t.Fatalf("want error naming %s, got %v", tt.want, err)
			}
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), tt.want+": ") {
				t.Errorf("error must be one line starting with the variable: %q", err)
			}
		})
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{"JIT_ENCRYPTION_KEY": testKey, "JIT_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.10,::1"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.0.0.0/8", "192.0.2.10", "::1"}; strings.Join(c.TrustedProxies, " ") != strings.Join(want, " ") {
		t.Fatalf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
	}
}

func TestVarsAreAllRead(t *testing.T) {
	read := map[string]bool{}
	_, _ = Load(func(k string) string { read[k] = true; return "" })
	for _, v := range Vars() {
		if !strings.HasPrefix(v.Name, "JIT_") || v.Help == "" {
			t.Errorf("%s: undocumented", v.Name)
		}
	}
	// Every variable must be looked up by a successful Load.
	read = map[string]bool{}
	if _, err := Load(func(k string) string {
		read[k] = true
		if k == "JIT_ENCRYPTION_KEY" {
			return testKey
		}
		return ""
	}); err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars() {
		if !read[v.Name] {
			t.Errorf("%s is documented but never read", v.Name)
		}
	}
}

// The README's configuration table documents every variable.
func TestReadmeListsEveryVar(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars() {
		if !strings.Contains(string(b), "`"+v.Name+"`") {
			t.Errorf("README.md does not document %s", v.Name)
		}
	}
}

func TestRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"7y": 7 * 365 * 24 * time.Hour, "400d": 400 * 24 * time.Hour, "72h": 72 * time.Hour} {
		c, err := Load(env(map[string]string{"JIT_ENCRYPTION_KEY": testKey, "JIT_AUDIT_RETENTION": in}))
		if err != nil || c.AuditRetention != want {
			t.Errorf("%s: got %v, %v; want %v", in, c.AuditRetention, err, want)
		}
	}
	c, err := Load(env(map[string]string{"JIT_ENCRYPTION_KEY": testKey}))
	if err != nil || c.AuditRetention != 7*365*24*time.Hour || c.AuditCheckpointInterval != time.Hour {
		t.Errorf("defaults: %v %v %v", c.AuditRetention, c.AuditCheckpointInterval, err)
	}
}

func TestProfileDir(t *testing.T) {
	c, err := Load(env(map[string]string{"JIT_ENCRYPTION_KEY": testKey, "JIT_PROFILE_DIR": "/tmp/jit-profiles"}))
	if err != nil || c.ProfileDir != "/tmp/jit-profiles" {
		t.Errorf("got %q, %v", c.ProfileDir, err)
	}
}
