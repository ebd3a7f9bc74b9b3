package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"sportello/internal/accounting"
)

// Configuration of billing (issue 5), read with the rest in loadConfig.
const (
	devAccountingURL = "http://127.0.0.1:8091"
	// In dev the sandbox pays an invoice two minutes after receiving it and
	// the billing runs look every minute; production polls every 6 hours.
	devAccountingPayAfter = 2 * time.Minute
	devBillingPoll        = time.Minute
)

// accountingConfig is read from SPORTELLO_ACCOUNTING_URL (the accounting
// system; dev starts the sandbox there when it is on loopback),
// SPORTELLO_ACCOUNTING_PAY_AFTER (the sandbox's delay before paying) and
// SPORTELLO_BILLING_POLL (how often billing runs look for payments).
type accountingConfig struct {
	URL        string
	PayAfter   time.Duration
	Poll       time.Duration
	SandboxURL string // set by dev when the sandbox runs
}

func loadAccountingConfig(getenv func(string) string) (accountingConfig, error) {
	c := accountingConfig{URL: devAccountingURL, PayAfter: devAccountingPayAfter, Poll: devBillingPoll}
	if v := getenv("SPORTELLO_ACCOUNTING_URL"); v != "" {
		c.URL = v
	}
	if _, err := accounting.NewClient(accounting.ClientConfig{BaseURL: c.URL}); err != nil {
		return c, fmt.Errorf("SPORTELLO_ACCOUNTING_URL: %w", err)
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{"SPORTELLO_ACCOUNTING_PAY_AFTER", &c.PayAfter}, {"SPORTELLO_BILLING_POLL", &c.Poll}} {
		if v := getenv(d.env); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x < 0 {
				return c, fmt.Errorf("%s: %q is not a duration", d.env, v)
			}
			*d.dst = x
		}
	}
	return c, nil
}

// runAccounting serves the sandbox accounting system on the host and port
// of SPORTELLO_ACCOUNTING_URL until ctx ends.
func runAccounting(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	if err := noFlags("accounting", args); err != nil {
		return err
	}
	addr, err := loopbackAddr("SPORTELLO_ACCOUNTING_URL", cfg.Accounting.URL)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("accounting: listen on %s: %w", addr, err)
	}
	fmt.Printf("Sandbox accounting system on %s (pays after %s; faults: POST %s/sandbox/faults)\n",
		cfg.Accounting.URL, cfg.Accounting.PayAfter, cfg.Accounting.URL)
	return servePaySandbox(ctx, ln, accounting.New(accounting.Options{PayAfter: cfg.Accounting.PayAfter, Logger: logger}), logger)
}

// startAccounting starts the sandbox accounting system for `dev` when its
// URL is on loopback; a busy port is logged, not fatal.
func startAccounting(ctx context.Context, cfg *config, logger *slog.Logger) func() {
	addr, err := loopbackAddr("SPORTELLO_ACCOUNTING_URL", cfg.Accounting.URL)
	if err != nil {
		logger.Info("sandbox accounting system not started", "reason", err)
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Warn("sandbox accounting system not started (set SPORTELLO_ACCOUNTING_URL to a free loopback port)", "err", err)
		return nil
	}
	cfg.Accounting.SandboxURL = cfg.Accounting.URL
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sb := accounting.New(accounting.Options{PayAfter: cfg.Accounting.PayAfter, Logger: logger})
		if err := servePaySandbox(sctx, ln, sb, logger); err != nil {
			logger.Error("sandbox accounting system", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// accountingClient is the worker's client of the accounting system.
func accountingClient(cfg config) (*accounting.Client, error) {
	return accounting.NewClient(accounting.ClientConfig{BaseURL: cfg.Accounting.URL})
}

// accountingBanner is dev's banner line for the accounting system.
func accountingBanner(cfg config) string {
	if cfg.Accounting.SandboxURL != "" {
		return fmt.Sprintf("%s (pays after %s; faults: POST /sandbox/faults)", cfg.Accounting.SandboxURL, cfg.Accounting.PayAfter)
	}
	return "off: invoices go to " + cfg.Accounting.URL
}
