package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/approvals"
	"github.com/jitaccess/jitaccess/server"
)

// bootstrapAdminEmail owns JIT_BOOTSTRAP_ADMIN_TOKEN when JIT_BOOTSTRAP_ADMIN_EMAIL is unset.
const bootstrapAdminEmail = "bootstrap-admin@jitaccess.invalid"

// Handler builds the API, ensuring the bootstrap admin token first.
func (a *App) Handler(ctx context.Context) (*server.Server, error) {
	if a.Cfg.BootstrapToken != "" {
		email := a.Cfg.BootstrapEmail
		if email == "" {
			email = bootstrapAdminEmail
		}
		admin, err := a.Store.EnsureAdmin(ctx, email, "Bootstrap admin")
		if err != nil {
			return nil, fmt.Errorf("bootstrap admin: %w", err)
		}
		if err := a.Store.AddToken(ctx, admin.ID, a.Cfg.BootstrapToken); err != nil {
			return nil, fmt.Errorf("JIT_BOOTSTRAP_ADMIN_TOKEN: %w", err)
		}
	}
	return server.New(server.Deps{
		Store:             a.Store,
		Directory:         a.Entra,
		MinAccessDuration: a.Cfg.MinAccessDuration,
		MaxAccessDuration: a.Cfg.MaxAccessDuration,
		PublicURL:         a.Cfg.PublicURL,
		Workflows:         access.NewTemporalWorkflows(a.Temporal, a.Cfg.TaskQueue),
		Approvals:         &approvals.Service{Store: a.Store, Temporal: a.Temporal},
		TemporalUIURL:     a.Cfg.TemporalUIURL,
		TemporalNamespace: a.Cfg.TemporalNamespace,
		// Portal sign-in with Microsoft against the MSP's own tenant.
		OIDCIssuer:          a.Cfg.OIDCIssuer,
		OIDCClientID:        a.Cfg.OIDCClientID,
		OIDCClientSecret:    a.Cfg.OIDCClientSecret,
		BootstrapAdminEmail: a.Cfg.BootstrapEmail,
		EntraAuthority:      a.Cfg.EntraAuthority,
		ExtensionIDs:        a.Cfg.ExtensionIDs,
		ReadyChecks: []server.Check{{Name: "temporal", Check: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := a.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}}},
		Logger:         a.Log.With("component", "api"),
		TrustedProxies: a.Cfg.TrustedProxies,
		// Metrics go to the registry served on JIT_METRICS_ADDR only, never on this
		// public listener (no Gatherer).
		Registerer:         a.Registry,
		TracerProvider:     a.Tracer,
		TemporalUIUpstream: a.TemporalUIUpstream,
		Codec:              a.Codec,
	})
}

// ServeAPI serves the API on JIT_HTTP_ADDR until ctx ends, then drains in-flight requests.
func (a *App) ServeAPI(ctx context.Context) error {
	h, err := a.Handler(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.Cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("JIT_HTTP_ADDR: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ln) }()
	a.Log.Info("API listening", "addr", ln.Addr().String(), "public_url", a.Cfg.PublicURL)
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
