// Package config reads jitaccess's configuration from JIT_* environment variables, once,
// into a Config. Every variable has a documented default; a bad value stops start-up with one
// line naming the variable.
package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of a jitaccess process.
type Config struct {
	HTTPAddr          string        // JIT_HTTP_ADDR
	MetricsAddr       string        // JIT_METRICS_ADDR; empty serves /metrics nowhere (never on the public listener)
	PublicURL         string        // JIT_PUBLIC_URL
	DatabaseURL       string        // JIT_DATABASE_URL; empty selects the embedded SQLite store
	DataDir           string        // JIT_DATA_DIR: embedded store, dev state
	TemporalAddress   string        // JIT_TEMPORAL_ADDRESS
	TemporalNamespace string        // JIT_TEMPORAL_NAMESPACE
	TaskQueue         string        // JIT_TASK_QUEUE
	TemporalUIURL     string        // JIT_TEMPORAL_UI_URL, for links from the API and portal
	TemporalGzip      bool          // JIT_TEMPORAL_COMPRESSION=gzip
	EncryptionKey     []byte        // JIT_ENCRYPTION_KEY (32 bytes, base64)
	PreviousKeys      [][]byte      // JIT_PREVIOUS_ENCRYPTION_KEYS (comma-separated, base64): still readable, never written
	BootstrapToken    string        // JIT_BOOTSTRAP_ADMIN_TOKEN
	BootstrapEmail    string        // JIT_BOOTSTRAP_ADMIN_EMAIL
	EntraAuthority    string        // JIT_ENTRA_AUTHORITY
	GraphURL          string        // JIT_GRAPH_URL
	OAuthClientID     string        // JIT_OAUTH_CLIENT_ID
	OAuthClientSecret string        // JIT_OAUTH_CLIENT_SECRET
	OIDCIssuer        string        // JIT_OIDC_ISSUER
	OIDCClientID      string        // JIT_OIDC_CLIENT_ID
	OIDCClientSecret  string        // JIT_OIDC_CLIENT_SECRET
	MinAccessDuration time.Duration // JIT_MIN_ACCESS_DURATION
	MaxAccessDuration time.Duration // JIT_MAX_ACCESS_DURATION
	LogLevel          string        // JIT_LOG_LEVEL
	TrustedProxies    []string      // JIT_TRUSTED_PROXIES: addresses or CIDRs whose X-Forwarded-For is believed
	WorkerCacheSize   int           // JIT_WORKER_CACHE_SIZE
	DBMaxConns        int           // JIT_DB_MAX_CONNS
	ProfileDir        string        // JIT_PROFILE_DIR; empty: the worker writes no profiles
	// TemporalTLS is nil unless one of JIT_TEMPORAL_TLS_{CERT,KEY,CA,SERVER_NAME} is set.
	TemporalTLS       *tls.Config
	TemporalAPIKey    string        // JIT_TEMPORAL_API_KEY (Temporal Cloud)
	CodecCORSOrigin   string        // JIT_CODEC_CORS_ORIGIN: the Temporal UI's origin
	ReconcileInterval time.Duration // JIT_RECONCILE_INTERVAL
	ExpiringSoonLead  time.Duration // JIT_EXPIRING_SOON_NOTICE: expiring_soon is sent this long before expiry

	AuditCheckpointInterval time.Duration // JIT_AUDIT_CHECKPOINT_INTERVAL
	AuditRetention          time.Duration // JIT_AUDIT_RETENTION
	HistoryArchiveDir       string        // JIT_HISTORY_ARCHIVE_DIR; empty: closed histories are not archived
	SIEMSyslogAddr          string        // JIT_SIEM_SYSLOG_ADDR (host:port, TLS); empty: off
	SIEMSyslogCA            string        // JIT_SIEM_SYSLOG_CA: PEM file of the CA to trust; empty: system roots
	SIEMHTTPURL             string        // JIT_SIEM_HTTP_URL (https); empty: off
	SIEMHTTPToken           string        // JIT_SIEM_HTTP_TOKEN: bearer token for it
	ExtensionIDs            []string      // JIT_EXTENSION_IDS: browser extension ids that may connect
	WorkerDeployment        string        // JIT_WORKER_DEPLOYMENT; empty: unversioned workers
	WorkerBuildID           string        // JIT_WORKER_BUILD_ID, required with JIT_WORKER_DEPLOYMENT
}

// Var documents one environment variable. Vars is the single list that Load, the README table
// and the docker-compose check are held to.
type Var struct {
	Name    string
	Default string
	Help    string
}

// Vars lists every variable jitaccess reads.
func Vars() []Var {
	return []Var{
		{"JIT_HTTP_ADDR", "127.0.0.1:8080", "listen address of the API and portal"},
		{"JIT_METRICS_ADDR", "", "separate listener for /metrics (e.g. 127.0.0.1:9090); the public listener never serves it, so without this there are no metrics"},
		{"JIT_TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For gives the client address (rate limits, audit); empty trusts none"},
		{"JIT_PUBLIC_URL", "http://127.0.0.1:8080", "URL browsers use to reach the API; the OAuth redirect URI is <public>/oauth/callback"},
		{"JIT_DATABASE_URL", "", "PostgreSQL URL (postgres://…); empty uses the embedded SQLite store under JIT_DATA_DIR"},
		{"JIT_DATA_DIR", ".jitaccess", "directory for the embedded store and dev state"},
		{"JIT_TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port"},
		{"JIT_TEMPORAL_NAMESPACE", "default", "Temporal namespace"},
		{"JIT_TASK_QUEUE", "jit-access", "Temporal task queue of the AccessRequest workflow"},
		{"JIT_TEMPORAL_UI_URL", "http://127.0.0.1:8233", "Temporal UI base URL for links"},
		{"JIT_TEMPORAL_COMPRESSION", "none", "gRPC compression to Temporal: none (best on a LAN: gzip cost ~9 % of a worker's CPU) or gzip (slow links, e.g. a distant Temporal Cloud region)"},
		{"JIT_ENCRYPTION_KEY", "(required)", "32 bytes, base64: seals passwords and refresh tokens (AES-256-GCM); `dev` generates one"},
		{"JIT_PREVIOUS_ENCRYPTION_KEYS", "", "comma-separated older keys still accepted for reading during rotation"},
		{"JIT_BOOTSTRAP_ADMIN_TOKEN", "", "ensures an admin API token with exactly this value exists"},
		{"JIT_BOOTSTRAP_ADMIN_EMAIL", "", "makes this person an admin on first portal sign-in, only while no admin exists"},
		{"JIT_ENTRA_AUTHORITY", "https://login.microsoftonline.com", "Microsoft identity platform authority"},
		{"JIT_GRAPH_URL", "https://graph.microsoft.com/v1.0", "Microsoft Graph base URL"},
		{"JIT_OAUTH_CLIENT_ID", "", "client id of jitaccess's multi-tenant Entra application"},
		{"JIT_OAUTH_CLIENT_SECRET", "", "its client secret"},
		{"JIT_OIDC_ISSUER", "", "OpenID issuer of the MSP's own tenant for portal sign-in"},
		{"JIT_OIDC_CLIENT_ID", "", "portal sign-in client id"},
		{"JIT_OIDC_CLIENT_SECRET", "", "portal sign-in client secret"},
		{"JIT_MIN_ACCESS_DURATION", "5m", "shortest access duration an application may be given"},
		{"JIT_MAX_ACCESS_DURATION", "24h", "longest access, including extensions"},
		{"JIT_LOG_LEVEL", "info", "debug, info, warn or error"},
		{"JIT_TEMPORAL_TLS_CERT", "", "client certificate (PEM file) for mTLS to Temporal; with JIT_TEMPORAL_TLS_KEY"},
		{"JIT_TEMPORAL_TLS_KEY", "", "private key (PEM file) of JIT_TEMPORAL_TLS_CERT"},
		{"JIT_TEMPORAL_TLS_CA", "", "CA bundle (PEM file) that signed the Temporal frontend's certificate; empty uses the system roots"},
		{"JIT_TEMPORAL_TLS_SERVER_NAME", "", "server name expected in the frontend's certificate (when it differs from the address's host)"},
		{"JIT_TEMPORAL_API_KEY", "", "Temporal Cloud API key (implies TLS); prefer mTLS or a secret file mounted as the environment"},
		{"JIT_CODEC_CORS_ORIGIN", "http://127.0.0.1:8233", "origin of the Temporal UI allowed to call `jitaccess codec-server` with credentials"},
		{"JIT_EXPIRING_SOON_NOTICE", "15m", "how long before a grant expires the expiring_soon notification is sent (0 sends none)"},
		{"JIT_DB_MAX_CONNS", "32", "PostgreSQL connections each process keeps at most (API, worker, each command); size max_connections for all processes together, plus Temporal's if it shares the server"},
		{"JIT_WORKER_CACHE_SIZE", "500", "workflows a worker keeps in memory between tasks (~80 KiB each); sleeping grants beyond it are replayed from history when they wake"},
		{"JIT_PROFILE_DIR", "", "diagnostics: directory where the worker writes its heap profile and memory figures every 10 s (go tool pprof); empty: off"},
		{"JIT_RECONCILE_INTERVAL", "5m", "how often the reconciler's Temporal Schedule sweeps directory, Temporal and database for drift (at least 10s)"},
		{"JIT_AUDIT_CHECKPOINT_INTERVAL", "1h", "how often the worker seals the audit chain with a signed checkpoint"},
		{"JIT_AUDIT_RETENTION", "7y", "how long audit events and ended grants are kept (a Go duration, or days/years such as 400d, 7y); older ones are purged behind a signed checkpoint"},
		{"JIT_HISTORY_ARCHIVE_DIR", "", "directory where the worker writes each closed grant's Temporal history as JSON (replay with `jitaccess replay --history-file`); empty: off"},
		{"JIT_SIEM_SYSLOG_ADDR", "", "SIEM syslog receiver host:port: RFC 5424 over TLS, octet-counted (RFC 5425); empty: off"},
		{"JIT_SIEM_SYSLOG_CA", "", "PEM file of the CA that signs the syslog receiver's certificate; empty: the system's roots"},
		{"JIT_SIEM_HTTP_URL", "", "SIEM HTTPS endpoint receiving the audit stream as JSON lines (POST, application/x-ndjson); empty: off"},
		{"JIT_SIEM_HTTP_TOKEN", "", "bearer token sent to JIT_SIEM_HTTP_URL"},
		{"JIT_WORKER_DEPLOYMENT", "", "Temporal Worker Deployment name; set with JIT_WORKER_BUILD_ID to pin each grant to the build that started it while a new build rolls out (docs/operations.md); empty: unversioned"},
		{"JIT_WORKER_BUILD_ID", "", "this worker build's id within JIT_WORKER_DEPLOYMENT (e.g. the release version)"},
		{"JIT_EXTENSION_IDS", "", "comma-separated ids of the browser extensions that may connect (CORS on /v1 for their chrome-extension:// origins); empty: none (`make dev` sets the repository's unpacked extension)"},
	}
}

// Error names the variable that stopped start-up.
type Error struct {
	Var    string
	Reason string
}

func (e *Error) Error() string { return e.Var + ": " + e.Reason }

// Load reads the configuration through getenv (os.Getenv in production).
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars() {
			if v.Name == name && v.Default != "(required)" {
				return v.Default
			}
		}
		return ""
	}
	c := Config{
		HTTPAddr:          get("JIT_HTTP_ADDR"),
		MetricsAddr:       get("JIT_METRICS_ADDR"),
		PublicURL:         strings.TrimRight(get("JIT_PUBLIC_URL"), "/"),
		DatabaseURL:       get("JIT_DATABASE_URL"),
		DataDir:           get("JIT_DATA_DIR"),
		TemporalAddress:   get("JIT_TEMPORAL_ADDRESS"),
		TemporalNamespace: get("JIT_TEMPORAL_NAMESPACE"),
		TaskQueue:         get("JIT_TASK_QUEUE"),
		TemporalUIURL:     strings.TrimRight(get("JIT_TEMPORAL_UI_URL"), "/"),
		BootstrapToken:    get("JIT_BOOTSTRAP_ADMIN_TOKEN"),
		BootstrapEmail:    get("JIT_BOOTSTRAP_ADMIN_EMAIL"),
		EntraAuthority:    strings.TrimRight(get("JIT_ENTRA_AUTHORITY"), "/"),
		GraphURL:          strings.TrimRight(get("JIT_GRAPH_URL"), "/"),
		OAuthClientID:     get("JIT_OAUTH_CLIENT_ID"),
		OAuthClientSecret: get("JIT_OAUTH_CLIENT_SECRET"),
		OIDCIssuer:        strings.TrimRight(get("JIT_OIDC_ISSUER"), "/"),
		OIDCClientID:      get("JIT_OIDC_CLIENT_ID"),
		OIDCClientSecret:  get("JIT_OIDC_CLIENT_SECRET"),
		LogLevel:          strings.ToLower(get("JIT_LOG_LEVEL")),
		TemporalAPIKey:    get("JIT_TEMPORAL_API_KEY"),
		CodecCORSOrigin:   strings.TrimRight(get("JIT_CODEC_CORS_ORIGIN"), "/"),
		HistoryArchiveDir: get("JIT_HISTORY_ARCHIVE_DIR"),
		ProfileDir:        get("JIT_PROFILE_DIR"),
		SIEMSyslogAddr:    get("JIT_SIEM_SYSLOG_ADDR"),
		SIEMSyslogCA:      get("JIT_SIEM_SYSLOG_CA"),
		SIEMHTTPURL:       get("JIT_SIEM_HTTP_URL"),
		SIEMHTTPToken:     get("JIT_SIEM_HTTP_TOKEN"),
		WorkerDeployment:  get("JIT_WORKER_DEPLOYMENT"),
		WorkerBuildID:     get("JIT_WORKER_BUILD_ID"),
	}
	var err error
	for _, check := range []func() error{
		func() error { return checkHostPort("JIT_HTTP_ADDR", c.HTTPAddr) },
		func() error {
			if c.MetricsAddr == "" {
				return nil
			}
			return checkHostPort("JIT_METRICS_ADDR", c.MetricsAddr)
		},
		func() error { return checkHostPort("JIT_TEMPORAL_ADDRESS", c.TemporalAddress) },
		func() error {
			if (c.WorkerDeployment == "") != (c.WorkerBuildID == "") {
				return &Error{"JIT_WORKER_BUILD_ID", "JIT_WORKER_DEPLOYMENT and JIT_WORKER_BUILD_ID are set together or not at all"}
			}
			return nil
		},
		func() error { return checkURL("JIT_PUBLIC_URL", c.PublicURL) },
		func() error { return checkURL("JIT_TEMPORAL_UI_URL", c.TemporalUIURL) },
		func() error { return checkURL("JIT_ENTRA_AUTHORITY", c.EntraAuthority) },
		func() error { return checkURL("JIT_GRAPH_URL", c.GraphURL) },
		func() error {
			if c.OIDCIssuer == "" {
				return nil
			}
			return checkURL("JIT_OIDC_ISSUER", c.OIDCIssuer)
		},
		func() error {
			if c.DatabaseURL == "" {
				return nil
			}
			u, err := url.Parse(c.DatabaseURL)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				return &Error{"JIT_DATABASE_URL", "must be a postgres:// URL (or empty for the embedded store)"}
			}
			return nil
		},
		func() error {
			if c.TemporalNamespace == "" {
				return &Error{"JIT_TEMPORAL_NAMESPACE", "must not be empty"}
			}
			return nil
		},
		func() error {
			switch v := strings.ToLower(get("JIT_TEMPORAL_COMPRESSION")); v {
			case "none", "gzip":
				c.TemporalGzip = v == "gzip"
				return nil
			default:
				return &Error{"JIT_TEMPORAL_COMPRESSION", fmt.Sprintf("%q is not one of none, gzip", v)}
			}
		},
		func() error { return checkURL("JIT_CODEC_CORS_ORIGIN", c.CodecCORSOrigin) },
		func() error {
			c.TemporalTLS, err = temporalTLS(get)
			return err
		},
		func() error {
			switch c.LogLevel {
			case "debug", "info", "warn", "error":
				return nil
			}
			return &Error{"JIT_LOG_LEVEL", fmt.Sprintf("%q is not one of debug, info, warn, error", c.LogLevel)}
		},
		func() error {
			c.DBMaxConns, err = parseCount("JIT_DB_MAX_CONNS", get("JIT_DB_MAX_CONNS"), 2)
			return err
		},
		func() error {
			c.WorkerCacheSize, err = parseCount("JIT_WORKER_CACHE_SIZE", get("JIT_WORKER_CACHE_SIZE"), 1)
			return err
		},
		func() error {
			c.ReconcileInterval, err = parseDuration("JIT_RECONCILE_INTERVAL", get("JIT_RECONCILE_INTERVAL"))
			if err == nil && c.ReconcileInterval < 10*time.Second {
				return &Error{"JIT_RECONCILE_INTERVAL", fmt.Sprintf("%s is shorter than 10s", c.ReconcileInterval)}
			}
			return err
		},
		func() error {
			c.MinAccessDuration, err = parseDuration("JIT_MIN_ACCESS_DURATION", get("JIT_MIN_ACCESS_DURATION"))
			return err
		},
		func() error {
			c.MaxAccessDuration, err = parseDuration("JIT_MAX_ACCESS_DURATION", get("JIT_MAX_ACCESS_DURATION"))
			if err == nil && c.MaxAccessDuration < c.MinAccessDuration {
				return &Error{"JIT_MAX_ACCESS_DURATION", fmt.Sprintf("%s is shorter than JIT_MIN_ACCESS_DURATION %s", c.MaxAccessDuration, c.MinAccessDuration)}
			}
			return err
		},
		func() error {
			v := get("JIT_EXPIRING_SOON_NOTICE")
			if v == "0" {
				c.ExpiringSoonLead = 0
				return nil
			}
			c.ExpiringSoonLead, err = parseDuration("JIT_EXPIRING_SOON_NOTICE", v)
			return err
		},
		func() error {
			c.EncryptionKey, err = parseKey("JIT_ENCRYPTION_KEY", get("JIT_ENCRYPTION_KEY"))
			return err
		},
		func() error {
			prev := get("JIT_PREVIOUS_ENCRYPTION_KEYS")
			if prev == "" {
				return nil
			}
			for _, k := range strings.Split(prev, ",") {
				key, err := parseKey("JIT_PREVIOUS_ENCRYPTION_KEYS", strings.TrimSpace(k))
				if err != nil {
					return err
				}
				c.PreviousKeys = append(c.PreviousKeys, key)
			}
			return nil
		},
		func() error {
			if (c.OAuthClientID == "") != (c.OAuthClientSecret == "") {
				return &Error{"JIT_OAUTH_CLIENT_SECRET", "JIT_OAUTH_CLIENT_ID and JIT_OAUTH_CLIENT_SECRET must be set together"}
			}
			return nil
		},
		func() error {
			if c.OIDCIssuer != "" && c.OIDCClientID == "" {
				return &Error{"JIT_OIDC_CLIENT_ID", "required when JIT_OIDC_ISSUER is set"}
			}
			return nil
		},
		func() error {
			for _, id := range strings.Split(get("JIT_EXTENSION_IDS"), ",") {
				if id = strings.TrimSpace(id); id == "" {
					continue
				}
				if !validExtensionID(id) {
					return &Error{"JIT_EXTENSION_IDS", fmt.Sprintf("%q is not an extension id (32 letters a-p)", id)}
				}
				c.ExtensionIDs = append(c.ExtensionIDs, id)
			}
			return nil
		},
		func() error {
			v := get("JIT_TRUSTED_PROXIES")
			if v == "" {
				return nil
			}
			for _, p := range strings.Split(v, ",") {
				p = strings.TrimSpace(p)
				if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
					return &Error{"JIT_TRUSTED_PROXIES", fmt.Sprintf("%q is not an IP address or CIDR", p)}
				}
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
			return nil
		},
		func() error {
			c.AuditCheckpointInterval, err = parseDuration("JIT_AUDIT_CHECKPOINT_INTERVAL", get("JIT_AUDIT_CHECKPOINT_INTERVAL"))
			return err
		},
		func() error {
			c.AuditRetention, err = parseRetention("JIT_AUDIT_RETENTION", get("JIT_AUDIT_RETENTION"))
			return err
		},
		func() error {
			if c.SIEMSyslogAddr == "" {
				return nil
			}
			return checkHostPort("JIT_SIEM_SYSLOG_ADDR", c.SIEMSyslogAddr)
		},
		func() error {
			if c.SIEMHTTPURL == "" {
				return nil
			}
			if u, err := url.Parse(c.SIEMHTTPURL); err != nil || u.Scheme != "https" || u.Host == "" {
				return &Error{"JIT_SIEM_HTTP_URL", fmt.Sprintf("%q is not an https URL", c.SIEMHTTPURL)}
			}
			return nil
		},
		func() error {
			if c.BootstrapToken != "" && len(c.BootstrapToken) < 32 {
				return &Error{"JIT_BOOTSTRAP_ADMIN_TOKEN", "must be at least 32 characters"}
			}
			return nil
		},
	} {
		if err := check(); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// RedirectURL is where Entra sends the admin back after consent.
func (c Config) RedirectURL() string { return c.PublicURL + "/oauth/callback" }

func checkHostPort(name, v string) error {
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return &Error{name, fmt.Sprintf("%q is not a host:port address", v)}
	}
	return nil
}

func checkURL(name, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &Error{name, fmt.Sprintf("%q is not an http(s) URL", v)}
	}
	return nil
}

// parseCount parses a whole number of at least least, naming the variable when it is not one.
func parseCount(name, v string, least int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		return 0, &Error{name, fmt.Sprintf("%q is not a whole number of at least %d", v, least)}
	}
	return n, nil
}

func parseDuration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, &Error{name, fmt.Sprintf("%q is not a positive Go duration such as 5m or 4h", v)}
	}
	return d, nil
}

// parseRetention reads a Go duration or a whole number of days ("400d") or years ("7y", 365
// days each), at least one day.
func parseRetention(name, v string) (time.Duration, error) {
	bad := &Error{name, fmt.Sprintf("%q is not a duration such as 7y, 400d or 9000h (at least 24h)", v)}
	var d time.Duration
	if n, unit := strings.TrimRight(v, "dy"), strings.TrimLeft(v, "0123456789"); unit == "d" || unit == "y" {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, bad
		}
		if unit == "y" {
			days *= 365
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, bad
		}
	}
	if d < 24*time.Hour {
		return 0, bad
	}
	return d, nil
}

func parseKey(name, v string) ([]byte, error) {
	if v == "" {
		return nil, &Error{name, "is required: 32 random bytes, base64 (for example: openssl rand -base64 32)"}
	}
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		key, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
	}
	if err != nil || len(key) != 32 {
		return nil, &Error{name, "must be 32 bytes encoded in base64"}
	}
	return key, nil
}

// temporalTLS builds the client TLS configuration from the JIT_TEMPORAL_TLS_* files.
func temporalTLS(get func(string) string) (*tls.Config, error) {
	certFile, keyFile, caFile := get("JIT_TEMPORAL_TLS_CERT"), get("JIT_TEMPORAL_TLS_KEY"), get("JIT_TEMPORAL_TLS_CA")
	serverName := get("JIT_TEMPORAL_TLS_SERVER_NAME")
	if certFile == "" && keyFile == "" && caFile == "" && serverName == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	switch {
	case certFile != "" && keyFile == "":
		return nil, &Error{"JIT_TEMPORAL_TLS_KEY", "required when JIT_TEMPORAL_TLS_CERT is set"}
	case certFile == "" && keyFile != "":
		return nil, &Error{"JIT_TEMPORAL_TLS_CERT", "required when JIT_TEMPORAL_TLS_KEY is set"}
	case certFile != "":
		if _, err := os.Stat(certFile); err != nil {
			return nil, &Error{"JIT_TEMPORAL_TLS_CERT", fmt.Sprintf("cannot read %s", certFile)}
		}
		if _, err := os.Stat(keyFile); err != nil {
			return nil, &Error{"JIT_TEMPORAL_TLS_KEY", fmt.Sprintf("cannot read %s", keyFile)}
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, &Error{"JIT_TEMPORAL_TLS_CERT", fmt.Sprintf("%s and JIT_TEMPORAL_TLS_KEY are not a PEM certificate and its key", certFile)}
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, &Error{"JIT_TEMPORAL_TLS_CA", fmt.Sprintf("cannot read %s", caFile)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &Error{"JIT_TEMPORAL_TLS_CA", fmt.Sprintf("%s holds no PEM certificate", caFile)}
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// validExtensionID accepts a Chromium extension id: 32 letters a-p.
func validExtensionID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, r := range id {
		if r < 'a' || r > 'p' {
			return false
		}
	}
	return true
}
