package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// runEntraSim implements `jitaccess entra-sim`: the Entra ID + Microsoft Graph emulator alone.
func runEntraSim(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("entra-sim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	autoConsent := fs.Bool("auto-consent", false, "authorize redirects straight back as the login_hint user or the tenant's admin")
	stateFile := fs.String("state-file", "", "JSON file the directory survives restarts in (empty: in memory only)")
	baseURL := fs.String("base-url", "", "public base URL used in issuer and endpoint URLs (default: http://<addr>)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("entra-sim: unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("entra-sim: listen on %s: %w", *addr, err)
	}
	base := *baseURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	sim, err := entrasim.New(entrasim.Options{AutoConsent: *autoConsent, StateFile: *stateFile, BaseURL: base, Logger: log})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("entra-sim listening", "addr", ln.Addr().String(), "base_url", base, "auto_consent", *autoConsent, "state_file", *stateFile)
	select {
	case err := <-errc:
		return fmt.Errorf("entra-sim: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("entra-sim: shutdown: %w", err)
	}
	log.Info("entra-sim stopped")
	return nil
}
