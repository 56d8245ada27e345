package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// TestPublicListenerServesNoMetrics: /metrics is only on JIT_METRICS_ADDR, never on the
// public API listener; the API's own metrics still reach the registry.
func TestPublicListenerServesNoMetrics(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, db *bun.DB) {
		key, err := seal.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(func(k string) string {
			return map[string]string{"JIT_ENCRYPTION_KEY": key, "JIT_TRUSTED_PROXIES": "192.0.2.10"}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		sealer, err := seal.New(cfg.EncryptionKey)
		if err != nil {
			t.Fatal(err)
		}
		st := store.New(db, sealer)
		a := &App{Cfg: cfg, Log: NewLogger(cfg, &strings.Builder{}), Store: st, Registry: prometheus.NewRegistry(),
			Entra: entra.New(entra.Config{Authority: cfg.EntraAuthority, GraphURL: cfg.GraphURL, RedirectURL: cfg.RedirectURL()}, st)}
		h, err := a.Handler(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/healthz", "/metrics"} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
			if path == "/metrics" && w.Code != http.StatusNotFound {
				t.Fatalf("GET /metrics on the public listener: %d, want 404", w.Code)
			}
		}
		mfs, err := a.Registry.Gather()
		if err != nil || len(mfs) == 0 {
			t.Fatalf("the API's metrics are not in the registry served on JIT_METRICS_ADDR: %v", err)
		}
	})
}
