// Package server composes jitaccess's HTTP handler: the two front ends over the domain
// service (package access), the JSON API (server/api, server/api/admin) and the web portal
// (server/portal, server/portal/admin), the OAuth admin-consent callback (server/consent),
// health, metrics, OpenAPI, the Temporal UI proxy and codec, and the middleware every request
// passes (request id, panics, tracing, metrics, the extension's CORS).
package server

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/api"
	"github.com/jitaccess/jitaccess/server/consent"
	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/server/web"
)

// Deps are the server's explicit dependencies; Directory is what it needs of a customer's
// Entra directory; Check is one readiness check (package web holds them for both front ends).
type (
	Deps      = web.Deps
	Directory = web.Directory
	Check     = web.Check
)

// Sessions looks portal sessions up for another process sharing the database (the codec
// server), with the portal's idle timeout.
type Sessions = portal.Sessions

// SessionCookieName is the portal's session cookie for a public URL (__Host- prefixed on https).
func SessionCookieName(publicURL string) string { return portal.SessionCookieName(publicURL) }

// Server is jitaccess's HTTP handler: the API, the portal and what they share.
type Server struct {
	*web.Base
	engine  *gin.Engine
	metrics *httpMetrics
	api     *api.API
	portal  *portal.Portal
	consent *consent.Callback
}

// New builds the API.
func New(d Deps) (*Server, error) {
	if d.Store == nil {
		return nil, errors.New("server: no store")
	}
	if d.Directory == nil {
		return nil, errors.New("server: no directory")
	}
	if d.MinAccessDuration <= 0 {
		d.MinAccessDuration = 5 * time.Minute
	}
	if d.MaxAccessDuration <= 0 {
		d.MaxAccessDuration = 24 * time.Hour
	}
	if d.MinAccessDuration > d.MaxAccessDuration {
		return nil, errors.New("server: minimum access duration exceeds the maximum")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registerer == nil {
		d.Registerer = prometheus.NewRegistry()
	}
	if d.AuthFailureLimit <= 0 {
		d.AuthFailureLimit = 20
	}
	if d.AuthFailureWindow <= 0 {
		d.AuthFailureWindow = time.Minute
	}
	if d.SignInLimit <= 0 {
		d.SignInLimit = 30
	}
	if d.OAuthStateTTL <= 0 {
		d.OAuthStateTTL = 10 * time.Minute
	}
	if !hasCheck(d.ReadyChecks, "database") {
		d.ReadyChecks = append([]Check{{Name: "database", Check: d.Store.Ping}}, d.ReadyChecks...)
	}
	m, err := newHTTPMetrics(d.Registerer)
	if err != nil {
		return nil, err
	}
	if d.SessionTTL <= 0 {
		d.SessionTTL = 8 * time.Hour
	}
	if d.SessionIdleTimeout <= 0 {
		d.SessionIdleTimeout = portal.DefaultSessionIdleTimeout
	}
	svc, err := access.New(access.Deps{Store: d.Store, Directory: d.Directory, Workflows: d.Workflows, Approvals: d.Approvals,
		MinAccessDuration: d.MinAccessDuration, MaxAccessDuration: d.MaxAccessDuration, OAuthStateTTL: d.OAuthStateTTL, Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	b := web.NewBase(d, svc)
	s := &Server{Base: b, metrics: m, api: api.New(b), consent: consent.New(b)}
	if s.portal, err = portal.New(b); err != nil {
		return nil, err
	}
	s.engine = gin.New()
	s.engine.HandleMethodNotAllowed = true
	s.engine.ContextWithFallback = true
	if err := s.engine.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Engine exposes the router (route listing in tests and the OpenAPI check).
func (s *Server) Engine() *gin.Engine { return s.engine }

// MetricsHandler serves the metrics of g in the Prometheus text format, for the API router
// and for a separate metrics listener.
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

func hasCheck(cs []Check, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}
