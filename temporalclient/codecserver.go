package temporalclient

import (
	"errors"
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"
)

// Errors an Authorizer returns: 401 and 403.
var (
	ErrUnauthenticated = errors.New("temporalclient: not signed in")
	ErrForbidden       = errors.New("temporalclient: not an admin")
)

// Authorizer decides whether a request may use the codec: nil for an admin,
// ErrUnauthenticated or ErrForbidden otherwise (other errors: 500).
type Authorizer interface {
	Authorize(r *http.Request) error
}

// CodecServerOptions configure NewCodecServer.
type CodecServerOptions struct {
	Namespace string // requests naming another namespace (X-Namespace) are refused
	// CORSOrigin is the Temporal UI's origin, the only one answered with CORS headers
	// (credentials allowed, so the UI's fetch carries the portal's session cookie).
	CORSOrigin string
	// AllowEncode serves /encode too. Off: only /decode, so the codec server cannot be used
	// to forge encrypted workflow inputs or signals.
	AllowEncode bool
	// MaxBodyBytes bounds a request body; zero: 4 MiB.
	MaxBodyBytes int64
}

// NewCodecServer serves Temporal's remote codec protocol (POST …/decode, POST …/encode with
// protojson Payloads) for the Temporal UI and CLI, for admins only.
func NewCodecServer(codec *Codec, auth Authorizer, opts CodecServerOptions) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 4 << 20
	}
	inner := converter.NewPayloadCodecHTTPHandler(codec)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); origin != "" && origin == opts.CORSOrigin {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if r.Method == http.MethodOptions {
			if h.Get("Access-Control-Allow-Origin") != "" {
				h.Set("Access-Control-Allow-Methods", "POST")
				h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
				h.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		encode := strings.HasSuffix(r.URL.Path, "/encode")
		if r.Method != http.MethodPost || !(strings.HasSuffix(r.URL.Path, "/decode") || encode && opts.AllowEncode) {
			http.NotFound(w, r)
			return
		}
		switch err := auth.Authorize(r); {
		case err == nil:
		case errors.Is(err, ErrUnauthenticated):
			h.Set("WWW-Authenticate", `Bearer realm="jitaccess codec"`)
			http.Error(w, "sign in to jitaccess as an admin, or send an admin API token", http.StatusUnauthorized)
			return
		case errors.Is(err, ErrForbidden):
			http.Error(w, "only jitaccess admins may decode payloads", http.StatusForbidden)
			return
		default:
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if ns := r.Header.Get("X-Namespace"); ns != "" && opts.Namespace != "" && ns != opts.Namespace {
			http.Error(w, "namespace "+ns+" is not served here", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, opts.MaxBodyBytes)
		inner.ServeHTTP(w, r)
	})
}
