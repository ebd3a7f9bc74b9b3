// Command sportello runs the Sportello platform: `dev` (the default) brings
// up everything on one machine; `api`, `worker`, `migrate` and `seed` are the
// production building blocks.
package main

import (
	sdkworker "go.temporal.io/sdk/worker"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"sportello/api"
	"sportello/internal/auth"
	"sportello/internal/notify"
	"sportello/internal/observe"
	"sportello/internal/payments"
	"sportello/internal/pseudonym"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once
	}()
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "sportello:", err)
		os.Exit(1)
	}
}

const usage = `Usage: sportello [command] [flags]

Commands:
  dev           everything on one machine: PostgreSQL, Temporal, migrations,
                demo data, worker and API (the default)
  api           serve the HTTP API
  worker        run the Temporal worker
  migrate       apply database migrations
  seed [--demo] load reference data (--demo: also the demo accounts)
  verify        check the ledger: every account against its transfers and the
                money invariants (exit status 1 when one is broken)
  registry import [--dry-run] [--municipality ID] FILE
                import a municipality's population registry extract (CSV)
  district apply [--demo] [--check] FILE
                apply a district file (deploy/districts/*.json): name, logo,
                colours, contacts, municipalities, services, staff, funds
  paysandbox    serve the sandbox payment provider on $SPORTELLO_PAYMENTS_URL
  accounting    serve the sandbox accounting system on $SPORTELLO_ACCOUNTING_URL
  cluster [up|status|kill NAME|stop NAME|start NAME|restart NAME]
                the local production-shaped cluster (Temporal services on
                PostgreSQL, 2 APIs behind a proxy, 2 workers) in .data/cluster
  help          show this help

`

func run(ctx context.Context, args []string, getenv func(string) string) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg)
	cmd := "dev"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if err := requireProduction(cmd, getenv); err != nil {
		return err
	}
	switch cmd {
	case "dev":
		return runDev(ctx, cfg, logger, args)
	case "api":
		return runAPI(ctx, cfg, logger, args)
	case "worker":
		return runWorker(ctx, cfg, logger, args)
	case "migrate":
		return runMigrate(ctx, cfg, logger, args)
	case "seed":
		return runSeed(ctx, cfg, logger, args)
	case "verify":
		return runVerify(ctx, cfg, os.Stdout, args)
	case "registry":
		return runRegistry(ctx, cfg, os.Stdout, getenv, args)
	case "district":
		return runDistrict(ctx, cfg, os.Stdout, args)
	case "paysandbox":
		return runPaySandbox(ctx, cfg, logger, args)
	case "accounting":
		return runAccounting(ctx, cfg, logger, args)
	case "cluster":
		return runCluster(ctx, logger, os.Stdout, args)
	case "help", "-h", "--help":
		fmt.Fprint(os.Stdout, usage+envHelp)
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func noFlags(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %v", name, fs.Args())
	}
	return nil
}

func runMigrate(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	if err := noFlags("migrate", args); err != nil {
		return err
	}
	if err := store.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	logger.Info("database migrated")
	return nil
}

func runSeed(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "also create the demo accounts (password "+seed.DemoPassword+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := seed.Run(ctx, st, seed.Options{Demo: *demo, DemoVouchers: *demo}); err != nil {
		return err
	}
	logger.Info("database seeded", "demo", *demo)
	return nil
}

// clientOptions are the options of the process's one Temporal client: the
// SDK's metrics on /metrics and, when tracing is on, its interceptor.
func clientOptions(cfg config, logger *slog.Logger) client.Options {
	opts, err := observe.Temporal(client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.Namespace,
		Logger:    tlog.NewStructuredLogger(logger.With("component", "temporal")),
	})
	if err != nil {
		logger.Error("Temporal observability", "err", err)
	}
	return opts
}

func dialTemporal(ctx context.Context, cfg config, logger *slog.Logger) (client.Client, error) {
	c, err := client.DialContext(ctx, clientOptions(cfg, logger))
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return c, nil
}

// connect opens the database and dials Temporal, the two things the api
// and the worker need; closeAll closes both.
func connect(ctx context.Context, cfg config, logger *slog.Logger) (st *store.Store, c client.Client, closeAll func(), err error) {
	if st, err = openStore(ctx, cfg.DatabaseURL); err != nil {
		return nil, nil, nil, err
	}
	if c, err = dialTemporal(ctx, cfg, logger); err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, c, func() { c.Close(); st.Close() }, nil
}

func runAPI(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	if err := noFlags("api", args); err != nil {
		return err
	}
	stop, err := startObserving(ctx, cfg, "api", logger)
	if err != nil {
		return err
	}
	defer stop()
	st, c, closeAll, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeAll()
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	return serveHTTP(ctx, ln, newHandler(cfg, logger, st, c), logger)
}

func runWorker(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	if err := noFlags("worker", args); err != nil {
		return err
	}
	stop, err := startObserving(ctx, cfg, "worker", logger)
	if err != nil {
		return err
	}
	defer stop()
	st, c, closeAll, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeAll()
	w, err := newWorker(c, st, cfg)
	if err != nil {
		return err
	}
	interrupt := make(chan any)
	go func() {
		<-ctx.Done()
		close(interrupt)
	}()
	ensureSchedules(ctx, cfg, logger, st, c)
	defer startCaseStarter(ctx, cfg, logger, st, c)()
	logger.Info("worker running", "temporal", cfg.TemporalAddress, "namespace", cfg.Namespace)
	return w.Run(interrupt)
}

func newHandler(cfg config, logger *slog.Logger, st *store.Store, c client.Client) http.Handler {
	// The URL was checked with the configuration: New cannot fail on it.
	pay, err := payments.New(payments.Config{BaseURL: cfg.PaymentsURL, Secret: cfg.PaymentsSecret, Logger: logger})
	if err != nil {
		logger.Error("payments client", "err", err)
	}
	// The SMTP configuration was checked at start-up (requireProduction);
	// a mailer that cannot be made leaves incident e-mails in the outbox and
	// refuses recoveries by e-mail. Incident e-mails and the account notices
	// (a recovery's code, a changed password) go to the same mail server as
	// the worker's notifications.
	m, err := worker.NewMailer(cfg.SMTP)
	if err != nil {
		logger.Error("incident mailer", "err", err)
	}
	var accountMailer api.AccountMailer
	if am, err := notify.NewMailer(cfg.SMTP); err != nil {
		logger.Error("account mailer", "err", err)
	} else {
		accountMailer = am
	}
	return observe.HTTPHandler(api.New(api.Deps{
		Store:            st,
		Temporal:         c,
		Logger:           logger,
		TaskQueue:        cfg.TaskQueue,
		TemporalUIURL:    cfg.TemporalUIURL,
		Namespace:        cfg.Namespace,
		Payments:         pay,
		PaymentsSecret:   cfg.PaymentsSecret,
		Mailer:           m,
		AccountMailer:    accountMailer,
		PortalURL:        cfg.PublicURL,
		PasswordHashing:  auth.NewLimiter(cfg.HashConcurrency, 0, 0),
		TrustedProxies:   cfg.TrustedProxies,
		StaffIdleTimeout: cfg.StaffIdleTimeout,
		RetentionDays:    cfg.RetentionDays,
		Operations:       cfg.Operations,
		IdP:              idpOf(relyingParty(cfg, logger)),
		Demo:             cfg.Demo,
	}))
}

// serveHTTP serves h on ln until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("API listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	logger.Info("API stopped")
	return nil
}

// ensureSchedules puts the billing, ledger, retention and operations
// schedules in place, one worker at a time (worker.EnsureSchedules); a
// failure is logged, not fatal (the worker serves all the same, and the
// next start tries again).
func ensureSchedules(ctx context.Context, cfg config, logger *slog.Logger, st *store.Store, c client.Client) {
	n, err := worker.EnsureSchedules(ctx, c, st, worker.SchedulesConfig{TaskQueue: cfg.TaskQueue,
		BillingPoll: cfg.Accounting.Poll, RetentionDays: cfg.RetentionDays})
	if err != nil {
		logger.Error("schedules", "err", err)
		return
	}
	logger.Info("billing schedules in place", "count", n)
}

// startCaseStarter runs the worker's case starter (worker.RunCaseStarter)
// in the background; the function it returns stops it and waits for it, so
// that it ends before the clients it uses are closed.
func startCaseStarter(ctx context.Context, cfg config, logger *slog.Logger, st *store.Store, c client.Client) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		worker.RunCaseStarter(ctx, c, st, cfg.TaskQueue, logger)
	}()
	return func() {
		cancel()
		<-done
	}
}

// newWorker is the worker of the platform, sending notifications to the
// configured mail server.
func newWorker(c client.Client, st *store.Store, cfg config) (sdkworker.Worker, error) {
	m, err := worker.NewMailer(cfg.SMTP)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	acc, err := accountingClient(cfg)
	if err != nil {
		return nil, err
	}
	pay, err := payments.New(payments.Config{BaseURL: cfg.PaymentsURL, Secret: cfg.PaymentsSecret})
	if err != nil {
		return nil, fmt.Errorf("payments: %w", err)
	}
	pseudonyms, err := pseudonym.New(cfg.PseudonymKey)
	if err != nil {
		return nil, fmt.Errorf("SPORTELLO_PSEUDONYM_KEY: %w", err)
	}
	// The operations watch lists journeys in the worker's own namespace
	// (cfg.Operations.Namespace is TEMPORAL_NAMESPACE).
	return worker.NewWith(c, st, worker.Config{TaskQueue: cfg.TaskQueue, Mailer: m, PortalURL: cfg.PublicURL, Accounting: acc,
		Payments: pay, Pseudonyms: &pseudonyms, Operations: cfg.Operations}), nil
}
