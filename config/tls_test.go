package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jitaccess-worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTemporalTLSAndAPIKey(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	load := func(env map[string]string) (Config, error) {
		return Load(func(k string) string {
			if k == "JIT_ENCRYPTION_KEY" {
				return testKey
			}
			return env[k]
		})
	}

	t.Run("off by default", func(t *testing.T) {
		c, err := load(nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.TemporalTLS != nil || c.TemporalAPIKey != "" {
			t.Errorf("TLS %v, API key %q", c.TemporalTLS, c.TemporalAPIKey)
		}
	})
	t.Run("mTLS with CA and server name", func(t *testing.T) {
		c, err := load(map[string]string{"JIT_TEMPORAL_TLS_CERT": cert, "JIT_TEMPORAL_TLS_KEY": key,
			"JIT_TEMPORAL_TLS_CA": cert, "JIT_TEMPORAL_TLS_SERVER_NAME": "temporal.internal"})
		if err != nil {
			t.Fatal(err)
		}
		tc := c.TemporalTLS
		if tc == nil || len(tc.Certificates) != 1 || tc.RootCAs == nil || tc.ServerName != "temporal.internal" {
			t.Fatalf("TLS config %+v", tc)
		}
		if !tc.RootCAs.Equal(poolOf(t, cert)) {
			t.Error("RootCAs is not the configured CA")
		}
	})
	t.Run("API key", func(t *testing.T) {
		c, err := load(map[string]string{"JIT_TEMPORAL_API_KEY": "cloud-key"})
		if err != nil {
			t.Fatal(err)
		}
		if c.TemporalAPIKey != "cloud-key" {
			t.Errorf("API key %q", c.TemporalAPIKey)
		}
	})

	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"cert without key", map[string]string{"JIT_TEMPORAL_TLS_CERT": cert}, "JIT_TEMPORAL_TLS_KEY"},
		{"key without cert", map[string]string{"JIT_TEMPORAL_TLS_KEY": key}, "JIT_TEMPORAL_TLS_CERT"},
		{"missing cert file", map[string]string{"JIT_TEMPORAL_TLS_CERT": missing, "JIT_TEMPORAL_TLS_KEY": key}, "JIT_TEMPORAL_TLS_CERT"},
		{"missing key file", map[string]string{"JIT_TEMPORAL_TLS_CERT": cert, "JIT_TEMPORAL_TLS_KEY": missing}, "JIT_TEMPORAL_TLS_KEY"},
		{"garbage cert", map[string]string{"JIT_TEMPORAL_TLS_CERT": garbage, "JIT_TEMPORAL_TLS_KEY": key}, "JIT_TEMPORAL_TLS_CERT"},
		{"missing CA", map[string]string{"JIT_TEMPORAL_TLS_CA": missing}, "JIT_TEMPORAL_TLS_CA"},
		{"garbage CA", map[string]string{"JIT_TEMPORAL_TLS_CA": garbage}, "JIT_TEMPORAL_TLS_CA"},
		{"bad CORS origin", map[string]string{"JIT_CODEC_CORS_ORIGIN": "ui.example"}, "JIT_CODEC_CORS_ORIGIN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.env)
			if err == nil {
				t.Fatal("accepted")
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, tt.want+": ") {
				t.Errorf("want one line naming %s, got %q", tt.want, msg)
			}
		})
	}
}

func poolOf(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(b)
	return p
}
