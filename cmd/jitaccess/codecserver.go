package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/temporalclient"
)

// runCodecServer serves Temporal's remote codec protocol so that the Temporal UI (configured
// with this endpoint) and CLI (--codec-endpoint) show decrypted payloads to jitaccess admins.
func runCodecServer(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("codec-server", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address; put TLS in front of it beyond loopback")
	allowEncode := fs.Bool("allow-encode", false, "also serve /encode (lets admins forge encrypted inputs; off by default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("codec-server: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	logger := app.NewLogger(cfg, env.stderr)
	db, st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	h, err := codecHandler(cfg, st, server.Sessions{Store: st}, *allowEncode)
	if err != nil {
		return err
	}
	stop, bound, err := app.Listen(ctx, *addr, h)
	if err != nil {
		return fmt.Errorf("codec-server --addr: %w", err)
	}
	defer stop()
	logger.Info("codec server listening", "addr", bound, "cors_origin", cfg.CodecCORSOrigin, "namespace", cfg.TemporalNamespace)
	<-ctx.Done()
	return nil
}

// codecHandler is the codec server for cfg, for admins identified by st's API tokens or a
// portal session.
func codecHandler(cfg config.Config, st tokenAuthenticator, sessions sessionLookup, allowEncode bool) (http.Handler, error) {
	codec, err := temporalclient.CodecFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	auth := adminOnly{tokens: st, sessions: sessions, cookie: server.SessionCookieName(cfg.PublicURL)}
	return temporalclient.NewCodecServer(codec, auth, temporalclient.CodecServerOptions{
		Namespace: cfg.TemporalNamespace, CORSOrigin: cfg.CodecCORSOrigin, AllowEncode: allowEncode,
	}), nil
}

type tokenAuthenticator interface {
	Authenticate(ctx context.Context, plain string) (store.Technician, error)
}

type sessionLookup interface {
	SessionTechnician(ctx context.Context, cookie string) (store.Technician, error)
}

// adminOnly admits a bearer API token or a portal session cookie whose holder is an admin.
type adminOnly struct {
	tokens   tokenAuthenticator
	sessions sessionLookup
	cookie   string
}

func (a adminOnly) Authorize(r *http.Request) error {
	var (
		who store.Technician
		err = store.ErrUnauthenticated
	)
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		who, err = a.tokens.Authenticate(r.Context(), strings.TrimSpace(bearer))
	} else if ck, cerr := r.Cookie(a.cookie); cerr == nil && ck.Value != "" {
		who, err = a.sessions.SessionTechnician(r.Context(), ck.Value)
	}
	switch {
	case errors.Is(err, store.ErrUnauthenticated):
		return temporalclient.ErrUnauthenticated
	case err != nil:
		return err
	case who.Role != store.RoleAdmin:
		return temporalclient.ErrForbidden
	}
	return nil
}
