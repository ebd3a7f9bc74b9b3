package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"sportello/internal/devstack"
	"sportello/internal/pglocal"
	"sportello/internal/seed"
	"sportello/internal/store"
)

// runDev runs the whole platform on one machine. State lives in
// cfg.DataDir, so a later `dev` picks up where this one stopped.
func runDev(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	if err := noFlags("dev", args); err != nil {
		return err
	}
	stop, err := startObserving(ctx, cfg, "dev", logger)
	if err != nil {
		return err
	}
	defer stop()
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	unlock, err := lockDataDir(ctx, dataDir, logger)
	if err != nil {
		return err
	}
	defer unlock()
	started := time.Now()

	// (a0) The mail catcher: notifications go to a local inbox.
	if mc := startMailCatcher(ctx, &cfg, dataDir, logger); mc != nil {
		defer func() {
			if err := mc.Stop(); err != nil {
				logger.Error("stop mail catcher", "err", err)
			}
		}()
	}

	// (a1) The sandbox payment provider.
	if stop := startPaySandbox(ctx, &cfg, logger); stop != nil {
		defer stop()
	}

	// (a1b) The test identity provider (sign-in with SPID/CIE).
	if stop := startTestIdP(ctx, &cfg, logger); stop != nil {
		defer stop()
	}
	cfg.Demo = true

	// (a2) The sandbox accounting system (billing).
	if stop := startAccounting(ctx, &cfg, logger); stop != nil {
		defer stop()
	}

	// (a) PostgreSQL.
	if !cfg.DatabaseURLSet {
		cluster, err := pglocal.Start(ctx, pglocal.Options{
			Dir:  filepath.Join(dataDir, "postgres"),
			Port: cfg.PGPort,
			Logf: func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
		})
		if err != nil {
			return err
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				logger.Error("stop PostgreSQL", "err", err)
			}
		}()
		if err := devstack.EnsureDatabase(ctx, cluster.URL("postgres"), devDatabase); err != nil {
			return err
		}
		cfg.DatabaseURL = cluster.URL(devDatabase)
	}

	// (b) Temporal.
	if !cfg.TemporalSet {
		bin, err := filepath.Abs(cfg.TemporalBin)
		if err != nil {
			return err
		}
		host, _, _ := net.SplitHostPort(cfg.TemporalAddress)
		srv, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
			Bin:       bin,
			DBFile:    filepath.Join(dataDir, "temporal.db"),
			LogFile:   filepath.Join(dataDir, "temporal.log"),
			IP:        host,
			Port:      devTemporalPort,
			UIPort:    devTemporalUI,
			Namespace: cfg.Namespace,
			LogLevel:  "warn",
			Logger:    logger,
		})
		if err != nil {
			return err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				logger.Error("stop Temporal", "err", err)
			}
		}()
		cfg.TemporalAddress = srv.Address()
		cfg.TemporalUIURL = srv.UIURL()
	}

	// (c) Migrations and (d) demo data.
	if err := store.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := seed.Run(ctx, st, seed.Options{Demo: true, DemoVouchers: true}); err != nil {
		return err
	}

	// (e) Worker and API, in this process.
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, err := devstack.WaitTemporal(waitCtx, clientOptions(cfg, logger))
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	w, err := newWorker(c, st, cfg)
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	ensureSchedules(ctx, cfg, logger, st, c)
	defer startCaseStarter(ctx, cfg, logger, st, c)()
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}

	// (f) Where everything is.
	printBanner(os.Stdout, cfg, ln.Addr().String(), dataDir, time.Since(started))
	err = serveHTTP(ctx, ln, newHandler(cfg, logger, st, c), logger)
	logger.Info("stopping the dev stack")
	return err
}

// startMailCatcher starts the local SMTP catcher and its web inbox unless
// SPORTELLO_SMTP_HOST names another server. A busy port is not fatal: the
// stack runs, and the banner says the catcher is off.
func startMailCatcher(ctx context.Context, cfg *config, dataDir string, logger *slog.Logger) *devstack.MailCatcher {
	if !localSMTPHost(cfg.SMTPHost) {
		logger.Info("mail catcher not started: notifications go to SPORTELLO_SMTP_HOST", "host", cfg.SMTPHost)
		return nil
	}
	mc, err := devstack.StartMailCatcher(ctx, devstack.MailOptions{
		SMTPAddr: cfg.SMTPAddr,
		HTTPAddr: cfg.MailcatcherHTTP,
		Dir:      filepath.Join(dataDir, "mail"),
		Logger:   logger,
	})
	if err != nil {
		logger.Warn("mail catcher not started (set SPORTELLO_SMTP_ADDR and SPORTELLO_MAILCATCHER_HTTP to free ports)", "err", err)
		return nil
	}
	cfg.MailURL = mc.URL()
	return mc
}

func localSMTPHost(host string) bool {
	if host == "" || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// lockDataDir makes sure one `dev` at a time uses dataDir: a second one
// waits (up to 60s) for a previous one that is still shutting down.
func lockDataDir(ctx context.Context, dataDir string, logger *slog.Logger) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dataDir, "dev.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock data folder: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for waited := false; ; waited = true {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("lock data folder: %w", err)
		}
		if !waited {
			logger.Info("another sportello dev is using the data folder; waiting for it to stop", "dir", dataDir)
		}
		if time.Now().After(deadline) {
			_ = f.Close()
			return nil, fmt.Errorf("another sportello dev is running with data folder %s", dataDir)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return func() { _ = f.Close() }, nil
}

func printBanner(out io.Writer, cfg config, addr, dataDir string, took time.Duration) {
	base := "http://" + addr
	fmt.Fprintf(out, "\nSportello is running (started in %s). Press Ctrl-C to stop.\n\n", took.Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Portale web\t%s\n", base)
	fmt.Fprintf(tw, "  API\t%s/api/v1\n", base)
	fmt.Fprintf(tw, "  Health\t%s/healthz\n", base)
	if cfg.MetricsAddr != "off" {
		fmt.Fprintf(tw, "  Metrics\thttp://%s/metrics\n", cfg.MetricsAddr)
	}
	fmt.Fprintf(tw, "  OpenAPI\t%s/api/v1/openapi.json\n", base)
	fmt.Fprintf(tw, "  Temporal Web UI\t%s/namespaces/%s/workflows\n", cfg.TemporalUIURL, cfg.Namespace)
	fmt.Fprintf(tw, "  Temporal\t%s (namespace %s)\n", cfg.TemporalAddress, cfg.Namespace)
	switch {
	case cfg.MailURL != "":
		fmt.Fprintf(tw, "  Posta (mail catcher)\t%s\n", cfg.MailURL)
	case !localSMTPHost(cfg.SMTPHost):
		fmt.Fprintf(tw, "  Posta (mail catcher)\toff: mail goes to %s\n", cfg.SMTPHost)
	default:
		fmt.Fprintf(tw, "  Posta (mail catcher)\tnot running (see the log)\n")
	}
	fmt.Fprintf(tw, "  Pagamenti (sandbox)\t%s\n", paySandboxBanner(cfg))
	fmt.Fprintf(tw, "  Ragioneria (sandbox)\t%s\n", accountingBanner(cfg))
	fmt.Fprintf(tw, "  SPID/CIE (accesso)\t%s\n", signInBanner(cfg))
	fmt.Fprintf(tw, "  Database\t%s\n", redactURL(cfg.DatabaseURL))
	fmt.Fprintf(tw, "  Data folder\t%s\n", dataDir)
	_ = tw.Flush()
	fmt.Fprintf(out, "\nDemo accounts (password %q):\n\n", seed.DemoPassword)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  USERNAME\tROLE\tWHO\tWHERE")
	for _, u := range seed.DemoUsers() {
		where := u.District
		if u.Municipality != "" {
			where += "/" + u.Municipality
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.Username, u.Role, u.DisplayName, where)
	}
	_ = tw.Flush()
	fmt.Fprintln(out, strings.Repeat("-", 72))
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
