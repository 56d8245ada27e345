package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/temporalclient"
)

type fakeSessions map[string]store.Technician

func (f fakeSessions) SessionTechnician(_ context.Context, cookie string) (store.Technician, error) {
	if t, ok := f[cookie]; ok {
		return t, nil
	}
	return store.Technician{}, store.ErrUnauthenticated
}

func TestCodecServer(t *testing.T) {
	const origin = "http://127.0.0.1:8233"
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"JIT_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "JIT_CODEC_CORS_ORIGIN": origin}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(cfg.EncryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(testenv.MigratedDB(t, "sqlite"), sealer)
	ctx := context.Background()
	admin, adminToken, err := st.CreateTechnician(ctx, "admin@msp.example", "Admin", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	tech, techToken, err := st.CreateTechnician(ctx, "tech@msp.example", "Tech", store.RoleTechnician)
	if err != nil {
		t.Fatal(err)
	}
	h, err := codecHandler(cfg, st, fakeSessions{"admin-session": admin, "tech-session": tech}, false)
	if err != nil {
		t.Fatal(err)
	}

	// An encrypted payload as the worker records it.
	codec, err := temporalclient.CodecFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := converter.GetDefaultDataConverter().ToPayload("INC-4711 mailbox restore")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := codec.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name     string
		method   string
		path     string
		origin   string
		bearer   string
		cookie   string
		ns       string
		want     int
		wantCORS bool
	}{
		{"unauthenticated", "POST", "/decode", origin, "", "", "", http.StatusUnauthorized, true},
		{"unknown token", "POST", "/decode", origin, "jit_nope", "", "", http.StatusUnauthorized, true},
		{"unknown session", "POST", "/decode", origin, "", "stolen", "", http.StatusUnauthorized, true},
		{"technician token", "POST", "/decode", origin, techToken, "", "", http.StatusForbidden, true},
		{"technician session", "POST", "/decode", origin, "", "tech-session", "", http.StatusForbidden, true},
		{"admin token", "POST", "/decode", origin, adminToken, "", "default", http.StatusOK, true},
		{"admin session from the UI", "POST", "/decode", origin, "", "admin-session", "default", http.StatusOK, true},
		{"admin token, wrong origin", "POST", "/decode", "https://evil.example", adminToken, "", "", http.StatusOK, false},
		{"other namespace", "POST", "/decode", origin, adminToken, "", "other", http.StatusForbidden, true},
		{"encode is off", "POST", "/encode", origin, adminToken, "", "", http.StatusNotFound, true},
		{"preflight", "OPTIONS", "/decode", origin, "", "", "", http.StatusNoContent, true},
		{"preflight, wrong origin", "OPTIONS", "/decode", "https://evil.example", "", "", "", http.StatusNoContent, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(string(body)))
			req.Header.Set("Origin", tt.origin)
			req.Header.Set("Content-Type", "application/json")
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "jit_session", Value: tt.cookie})
			}
			if tt.ns != "" {
				req.Header.Set("X-Namespace", tt.ns)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			out, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d (%s), want %d", res.StatusCode, out, tt.want)
			}
			gotCORS := res.Header.Get("Access-Control-Allow-Origin")
			if tt.wantCORS && (gotCORS != origin || res.Header.Get("Access-Control-Allow-Credentials") != "true") {
				t.Errorf("CORS headers %v", res.Header)
			}
			if !tt.wantCORS && (gotCORS != "" || res.Header.Get("Access-Control-Allow-Credentials") != "") {
				t.Errorf("CORS headers for another origin: %v", res.Header)
			}
			if tt.want != http.StatusOK {
				if strings.Contains(string(out), "INC-4711") {
					t.Error("refusal leaks the payload")
				}
				return
			}
			var got commonpb.Payloads
			if err := protojson.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			var s string
			if err := converter.GetDefaultDataConverter().FromPayload(got.Payloads[0], &s); err != nil || s != "INC-4711 mailbox restore" {
				t.Errorf("decoded %q, %v", s, err)
			}
		})
	}
}
