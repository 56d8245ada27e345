package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/workflows"
)

// devConfig is the configuration of `jitaccess dev`: what the developer set, over the dev
// defaults (a generated encryption key and admin token kept under dir, the emulator as Entra
// ID and as the portal's identity provider).
func devConfig(getenv func(string) string, dir, simAddr string, uiPort int) (config.Config, error) {
	get, err := devGetenv(getenv, dir, simAddr, uiPort)
	if err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Load(get)
	if err == nil && getenv("JIT_TEMPORAL_UI_URL") == "" {
		// The Temporal UI is served through the portal (admins only), not on its own port.
		cfg.TemporalUIURL = strings.TrimRight(cfg.PublicURL, "/") + server.TemporalUIPath
	}
	return cfg, err
}

// devGetenv is what `jitaccess dev` reads its JIT_* variables through: the developer's,
// over the dev defaults. dev.env records it for the other commands (devenv.go).
func devGetenv(getenv func(string) string, dir, simAddr string, uiPort int) (func(string) string, error) {
	key, err := loadOrCreateSecret(filepath.Join(dir, "encryption.key"), 32, base64.StdEncoding.EncodeToString)
	if err != nil {
		return nil, err
	}
	adminToken, err := loadOrCreateSecret(filepath.Join(dir, "admin.token"), 32, func(b []byte) string {
		return "jit_" + base64.RawURLEncoding.EncodeToString(b)
	})
	if err != nil {
		return nil, err
	}
	simURL := "http://" + simAddr
	defaults := map[string]string{
		"JIT_DATA_DIR":              dir,
		"JIT_ENCRYPTION_KEY":        key,
		"JIT_BOOTSTRAP_ADMIN_TOKEN": adminToken,
		"JIT_BOOTSTRAP_ADMIN_EMAIL": "admin@msp.example",
		"JIT_MIN_ACCESS_DURATION":   "10s",
		"JIT_ENTRA_AUTHORITY":       simURL,
		"JIT_GRAPH_URL":             simURL + "/v1.0",
		"JIT_OAUTH_CLIENT_ID":       entrasim.ClientID,
		"JIT_OAUTH_CLIENT_SECRET":   entrasim.ClientSecret,
		"JIT_OIDC_ISSUER":           simURL + "/" + entrasim.MSPTenantID + "/v2.0",
		"JIT_OIDC_CLIENT_ID":        entrasim.ClientID,
		"JIT_OIDC_CLIENT_SECRET":    entrasim.ClientSecret,
		"JIT_EXTENSION_IDS":         DevExtensionID,
	}
	// What the developer set wins over the dev defaults.
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return defaults[k]
	}, nil
}

// DevExtensionID is the id of the repository's unpacked extension (extension/manifest.json's
// key: the first 32 hex digits of the SHA-256 of the DER key, 0-f mapped to a-p).
const DevExtensionID = "pgaljmpcpofkcdgcdcggecdnpapldpga"

// runDev runs the whole product on one machine: the pinned Temporal dev server (child process),
// the Entra emulator, the API and a worker, then seeds a demo MSP through the public API.
// Ctrl-C stops everything; state under the data directory survives a restart.
func runDev(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	dataDir := fs.String("data-dir", ".jitaccess", "directory for all local state")
	simAddr := fs.String("entra-sim-addr", "127.0.0.1:8090", "listen address of the Entra emulator")
	uiPort := fs.Int("ui-port", 8233, "port of the Temporal UI")
	noSeed := fs.Bool("no-seed", false, "do not seed the demo MSP")
	retention := fs.Duration("retention", temporaldev.DefaultRetention, "how long Temporal keeps closed grants' histories (replay, audit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	get, err := devGetenv(env.getenv, dir, *simAddr, *uiPort)
	if err != nil {
		return err
	}
	cfg, err := config.Load(get)
	if err != nil {
		return err
	}
	simURL := "http://" + *simAddr
	app.ConfigureProcess(cfg)
	logger := app.NewLogger(cfg, env.stderr)

	// 1. Temporal dev server, state in the data directory, our search attributes registered.
	_, portStr, _ := net.SplitHostPort(cfg.TemporalAddress)
	port, _ := strconv.Atoi(portStr)
	tlog, err := os.OpenFile(filepath.Join(dir, "temporal.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer tlog.Close()
	sas := map[string]string{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		sas[d.Name] = d.Type
	}
	fmt.Fprintln(env.stdout, "starting the Temporal dev server…")
	ts, err := temporaldev.Start(ctx, temporaldev.Options{
		Port: port, UIPort: *uiPort, DBFile: filepath.Join(dir, "temporal.db"), SearchAttributes: sas, Log: tlog,
		// The UI is reached only through the portal (/temporal, admin session, read-only) and
		// calls the codec on the portal's origin, so the browser sends the session cookie.
		UIPublicPath: server.TemporalUIPath, UICodecEndpoint: strings.TrimRight(cfg.PublicURL, "/") + server.TemporalCodecPath,
		Retention: *retention,
	})
	if err != nil {
		return fmt.Errorf("temporal dev server: %w (its log: %s)", err, tlog.Name())
	}
	defer ts.Stop()

	// 2. The Entra emulator with auto-consent, so the demo's Authorize completes unattended.
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true, StateFile: filepath.Join(dir, "entra-sim.json"), BaseURL: simURL, Logger: logger.With("component", "entra-sim")})
	if err != nil {
		return fmt.Errorf("entra emulator: %w", err)
	}
	stopSim, _, err := app.Listen(ctx, *simAddr, sim)
	if err != nil {
		return fmt.Errorf("entra emulator on %s: %w", *simAddr, err)
	}
	defer stopSim()

	// 3. API and worker in this process.
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.Codec, err = codecHandler(cfg, a.Store, server.Sessions{Store: a.Store}, false); err != nil {
		return err
	}
	a.TemporalUIUpstream = fmt.Sprintf("http://127.0.0.1:%d", *uiPort)
	errs := make(chan error, 2)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { errs <- a.RunWorker(runCtx) }()
	go func() { errs <- a.ServeAPI(runCtx) }()
	if err := waitHTTP(ctx, cfg.PublicURL+"/readyz", 60*time.Second); err != nil {
		return err
	}

	// 4. Demo data through the public API, the same steps as the vendor's guide.
	// The admin token is the configured one (JIT_BOOTSTRAP_ADMIN_TOKEN), which is the
	// generated one only when the developer set none.
	seeded := demo.Demo{API: cfg.PublicURL, AdminToken: cfg.BootstrapToken}
	envFile := filepath.Join(dir, "dev.env")
	if !*noSeed {
		seeded, err = demo.Seed(ctx, demo.Options{API: cfg.PublicURL, AdminToken: cfg.BootstrapToken, AccessDuration: "2m", EnvFile: envFile})
		if err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
	}
	// The stack's own configuration beside the demo's ids, so that `jitaccess reconcile`,
	// `audit`, `replay` and `token` in a shell that sourced dev.env reach this stack.
	if err := writeDevEnv(envFile, seeded, get); err != nil {
		return fmt.Errorf("write %s: %w", envFile, err)
	}
	demo.PrintWalkthrough(env.stdout, cfg.PublicURL, cfg.DataDir, seeded, simURL, cfg.TemporalUIURL, envFile)

	select {
	case <-ctx.Done():
		fmt.Fprintln(env.stdout, "\nstopping…")
	case err := <-errs:
		if err != nil {
			return err
		}
	}
	cancel()
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("shutdown", "err", err)
		}
	}
	return nil
}

// loadOrCreateSecret reads a secret file, or creates it with n random bytes rendered by enc.
func loadOrCreateSecret(path string, n int, enc func([]byte) string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	s := enc(raw)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", err
	}
	return s, nil
}

// waitHTTP polls url until it answers 200.
func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not become ready within %s", url, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
