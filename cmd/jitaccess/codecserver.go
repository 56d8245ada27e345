package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/server"
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
// portal session (app.CodecHandler).
func codecHandler(cfg config.Config, st tokenAuthenticator, sessions sessionLookup, allowEncode bool) (http.Handler, error) {
	return app.CodecHandler(cfg, st, sessions, allowEncode)
}

type (
	tokenAuthenticator = app.CodecTokens
	sessionLookup      = app.CodecSessions
)
