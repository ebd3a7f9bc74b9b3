package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"sportello/internal/paysandbox"
)

// runPaySandbox serves the sandbox payment provider on the host and port of
// SPORTELLO_PAYMENTS_URL (or --addr) until ctx ends.
func runPaySandbox(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	if err := noFlags("paysandbox", args); err != nil {
		return err
	}
	addr, err := paySandboxAddr(cfg.PaymentsURL)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("paysandbox: listen on %s: %w", addr, err)
	}
	sb, err := paysandbox.New(paysandbox.Options{Secret: cfg.PaymentsSecret, BaseURL: cfg.PaymentsURL, Logger: logger})
	if err != nil {
		return err
	}
	fmt.Printf("Sandbox payment provider on %s (faults: POST %s/sandbox/faults)\n", cfg.PaymentsURL, cfg.PaymentsURL)
	return servePaySandbox(ctx, ln, sb, logger)
}

// startPaySandbox starts the sandbox in the background for `dev` when
// SPORTELLO_PAYMENTS_URL is on loopback; a busy port is logged, not fatal.
// It returns the stop function, or nil when nothing was started.
func startPaySandbox(ctx context.Context, cfg *config, logger *slog.Logger) func() {
	// Not on loopback: payments go to a real provider, nothing to warn.
	ln := listenLoopback(logger, "sandbox payment provider", "SPORTELLO_PAYMENTS_URL", cfg.PaymentsURL, slog.LevelInfo)
	if ln == nil {
		return nil
	}
	sb, err := paysandbox.New(paysandbox.Options{Secret: cfg.PaymentsSecret, BaseURL: cfg.PaymentsURL, Logger: logger})
	if err != nil {
		_ = ln.Close()
		logger.Warn("sandbox payment provider not started", "err", err)
		return nil
	}
	cfg.PaySandboxURL = cfg.PaymentsURL
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := servePaySandbox(sctx, ln, sb, logger); err != nil {
			logger.Error("sandbox payment provider", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// paySandboxAddr is the listen address for the sandbox: the URL's host and
// port, which must be on loopback (the sandbox is never a public server).
func paySandboxAddr(raw string) (string, error) { return loopbackAddr("SPORTELLO_PAYMENTS_URL", raw) }

// listenLoopback listens on the loopback address of the URL raw of a dev
// service (what, for the log; env names the variable raw comes from). It
// returns nil after logging why not: the address refused (at level), or
// the port taken, with the hint to set env to a free loopback port. A dev
// service that cannot start is not fatal.
func listenLoopback(logger *slog.Logger, what, env, raw string, level slog.Level) net.Listener {
	addr, err := loopbackAddr(env, raw)
	if err != nil {
		logger.Log(context.Background(), level, what+" not started", "reason", err)
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Warn(what+" not started (set "+env+" to a free loopback port)", "err", err)
		return nil
	}
	return ln
}

// loopbackAddr is the host and port of a sandbox's URL (env names the
// variable it comes from), refused when not a plain http URL on loopback.
func loopbackAddr(env, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return "", fmt.Errorf("%s %q is not a plain http URL", env, raw)
	}
	host, port := u.Hostname(), u.Port()
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return "", fmt.Errorf("%s %q is not on loopback: another provider", env, raw)
	}
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port), nil
}

// sandboxServer is a local sandbox (payments, accounting): a handler that
// Close stops (hanging requests, pending callbacks).
type sandboxServer interface {
	http.Handler
	Close()
}

// servePaySandbox serves sb on ln until ctx ends, then stops it (hanging
// requests and pending callbacks first). No write timeout: the sandboxes'
// "late" and "hang" faults answer late on purpose.
func servePaySandbox(ctx context.Context, ln net.Listener, sb sandboxServer, logger *slog.Logger) error {
	defer sb.Close()
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("sandbox listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("paysandbox: %w", err)
	case <-ctx.Done():
	}
	sb.Close()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// paySandboxBanner is dev's banner line for the payment provider.
func paySandboxBanner(cfg config) string {
	if cfg.PaySandboxURL != "" {
		return cfg.PaySandboxURL + " (faults: POST /sandbox/faults)"
	}
	if _, err := paySandboxAddr(cfg.PaymentsURL); err != nil {
		return "off: payments go to " + cfg.PaymentsURL
	}
	return "not running (see the log)"
}
