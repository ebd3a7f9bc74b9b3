// Package cluster runs Sportello on one machine in the shape it has in
// production, without containers: a PostgreSQL server; the Temporal server
// built from Go modules (bin/temporal-server) as four processes, frontend,
// history, matching and worker, on that PostgreSQL (schema made by
// Temporal's own SQL tool); Temporal's Web UI (bin/temporal-ui-server); two
// `sportello api` behind a small reverse proxy and two `sportello worker`,
// all configured as a deployment is (secrets and addresses given
// explicitly, no development default); and the outside parties, the mail
// catcher and the payment and accounting sandboxes. The supervisor starts,
// watches (a process that ends on its own is started again) and stops
// everything, and kills or starts a named process on request. State lives
// under one folder (.data/cluster).
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/accounting"
	"sportello/internal/devstack"
	"sportello/internal/paysandbox"
	"sportello/internal/pglocal"
)

// Ports of the cluster, all on 127.0.0.1.
type Ports struct {
	Postgres                                                                            int
	Frontend, FrontendHTTP, History, Matching, TemporalWorker                           int
	FrontendMembership, HistoryMembership, MatchingMembership, TemporalWorkerMembership int
	UI                                                                                  int
	Proxy                                                                               int
	APIs                                                                                []int // one per API process
	Metrics                                                                             []int // /metrics of the APIs, then of the workers (empty: off)
	Payments, Accounting, SMTP, MailHTTP                                                int
}

// DefaultPorts is the port plan of `make cluster` (base 17000), clear of
// `sportello dev`'s ports so both can run at once.
func DefaultPorts(base, apis, workers int) Ports {
	p := Ports{
		Postgres: base + 432,
		Frontend: base + 233, FrontendHTTP: base + 243, History: base + 234, Matching: base + 235, TemporalWorker: base + 239,
		FrontendMembership: base + 933, HistoryMembership: base + 934, MatchingMembership: base + 935, TemporalWorkerMembership: base + 939,
		UI: base + 280, Proxy: base + 80,
		Payments: base + 90, Accounting: base + 91, SMTP: base + 25, MailHTTP: base + 26,
	}
	for i := range apis {
		p.APIs = append(p.APIs, base+81+i)
	}
	for i := range apis + workers {
		p.Metrics = append(p.Metrics, base+464+i)
	}
	return p
}

// Options configure a cluster.
type Options struct {
	Dir     string // state folder (required), e.g. .data/cluster
	BinDir  string // sportello, temporal-server, temporal-sql-tool, temporal-ui-server (required)
	Ports   Ports  // DefaultPorts(17000, APIs, Workers) when Proxy is 0
	APIs    int    // default 2
	Workers int    // default 2
	// Demo seeds the demo accounts and data (`sportello seed --demo`), so
	// that a person can log in; reference data is seeded either way.
	Demo bool
	// Ephemeral runs PostgreSQL without fsync (throw-away test clusters).
	Ephemeral bool
	// LogLevel of the sportello processes (default info).
	LogLevel string
	// AccountingPayAfter: the accounting sandbox pays invoices this long
	// after receiving them (default 2m).
	AccountingPayAfter time.Duration
	// PaymentCallbackBackoff: the payment sandbox's first callback retry
	// delay (default its own, 200ms).
	PaymentCallbackBackoff time.Duration
	Logger                 *slog.Logger
}

// Cluster is a running cluster.
type Cluster struct {
	opts    Options
	logger  *slog.Logger
	secrets secrets

	lock    *os.File
	pg      *pglocal.Cluster
	mail    *devstack.MailCatcher
	pay     *paysandbox.Server
	servers []*http.Server // payment and accounting sandboxes, proxy
	acc     *accounting.Server

	mu    sync.Mutex
	procs []*proc // in start order

	stopOnce sync.Once
	stopErr  error
}

// Start brings the whole cluster up and returns when the proxy answers
// /readyz through an API. On error, whatever was started is stopped.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Dir == "" || o.BinDir == "" {
		return nil, errors.New("cluster: Dir and BinDir are required")
	}
	if o.APIs <= 0 {
		o.APIs = 2
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Ports.Proxy == 0 {
		o.Ports = DefaultPorts(17000, o.APIs, o.Workers)
	}
	if len(o.Ports.APIs) < o.APIs {
		return nil, fmt.Errorf("cluster: %d API ports for %d APIs", len(o.Ports.APIs), o.APIs)
	}
	// Temporal keeps each service's membership port in a smallint column
	// (cluster_membership.rpc_port): a port above 32767 makes the service
	// exit at start.
	for _, port := range []int{o.Ports.FrontendMembership, o.Ports.HistoryMembership, o.Ports.MatchingMembership, o.Ports.TemporalWorkerMembership} {
		if port <= 0 || port > 32767 {
			return nil, fmt.Errorf("cluster: Temporal membership port %d: it must be between 1 and 32767 (Temporal stores it as a smallint)", port)
		}
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	if o.AccountingPayAfter == 0 {
		o.AccountingPayAfter = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return nil, err
	}
	if o.BinDir, err = filepath.Abs(o.BinDir); err != nil {
		return nil, err
	}
	for _, b := range []string{"sportello", "temporal-server", "temporal-sql-tool", "temporal-ui-server"} {
		if fi, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil || fi.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("cluster: %s missing: build it with `make cluster-bins`", filepath.Join(o.BinDir, b))
		}
	}
	for _, d := range []string{o.Dir, filepath.Join(o.Dir, "logs")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	c := &Cluster{opts: o, logger: o.Logger}
	if c.lock, err = lockDir(o.Dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()
	if c.secrets, err = loadSecrets(filepath.Join(o.Dir, "secrets.env")); err != nil {
		return nil, err
	}
	if err := c.startOutsideParties(ctx); err != nil {
		return nil, err
	}
	if err := c.startPostgres(ctx); err != nil {
		return nil, err
	}
	if err := c.startTemporal(ctx); err != nil {
		return nil, err
	}
	if err := c.prepareDatabase(ctx); err != nil {
		return nil, err
	}
	if err := c.startSportello(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) logFile(name string) string { return filepath.Join(c.opts.Dir, "logs", name+".log") }

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// startOutsideParties starts the mail catcher and the payment and
// accounting sandboxes in this process: they stand for parties outside
// the platform.
func (c *Cluster) startOutsideParties(ctx context.Context) error {
	p := c.opts.Ports
	mail, err := devstack.StartMailCatcher(ctx, devstack.MailOptions{SMTPAddr: loopback(p.SMTP), HTTPAddr: loopback(p.MailHTTP),
		Dir: filepath.Join(c.opts.Dir, "mail"), Logger: c.logger})
	if err != nil {
		return err
	}
	c.mail = mail
	c.pay, err = paysandbox.New(paysandbox.Options{Secret: c.secrets.PaymentsSecret, BaseURL: c.PaymentsURL(),
		CallbackBackoff: c.opts.PaymentCallbackBackoff, Logger: c.logger.With("component", "paysandbox")})
	if err != nil {
		return err
	}
	if err := c.serve(loopback(p.Payments), c.pay); err != nil {
		return fmt.Errorf("payment sandbox: %w", err)
	}
	c.acc = accounting.New(accounting.Options{PayAfter: c.opts.AccountingPayAfter, Logger: c.logger.With("component", "accounting")})
	if err := c.serve(loopback(p.Accounting), c.acc); err != nil {
		return fmt.Errorf("accounting sandbox: %w", err)
	}
	return nil
}

func (c *Cluster) serve(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(c.logger.Handler(), slog.LevelWarn)}
	c.servers = append(c.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.logger.Error("serve", "addr", addr, "err", err)
		}
	}()
	return nil
}

// startPostgres starts the PostgreSQL server and creates, as its
// superuser (the database administrator's part), the two roles with
// their passwords: sportello (owner of the sportello database) and
// temporal (which creates its own databases with the SQL tool).
func (c *Cluster) startPostgres(ctx context.Context) error {
	pg, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(c.opts.Dir, "postgres"), Port: c.opts.Ports.Postgres,
		Ephemeral: c.opts.Ephemeral, Logf: func(f string, a ...any) { c.logger.Info(fmt.Sprintf(f, a...)) }})
	if err != nil {
		return err
	}
	c.pg = pg
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, r := range []struct{ role, password, attrs string }{
		{"sportello", c.secrets.SportelloDBPassword, "LOGIN CREATEROLE"},
		{"temporal", c.secrets.TemporalDBPassword, "LOGIN CREATEDB"},
	} {
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, r.role).Scan(&exists); err != nil {
			return err
		}
		verb := "CREATE"
		if exists {
			verb = "ALTER"
		}
		// The password is hex (secrets.env): safe inside a literal.
		if _, err := conn.Exec(ctx, fmt.Sprintf("%s ROLE %s %s PASSWORD '%s'", verb, r.role, r.attrs, r.password)); err != nil {
			return fmt.Errorf("role %s: %w", r.role, err)
		}
	}
	exists, err := databaseExists(ctx, pg.URL("postgres"), "sportello")
	if err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE sportello OWNER sportello"); err != nil {
			return err
		}
	}
	return nil
}

// startTemporal writes the configuration, creates the schema and starts the
// four services and the Web UI.
func (c *Cluster) startTemporal(ctx context.Context) error {
	dir := filepath.Join(c.opts.Dir, "temporal")
	if err := writeTemporalConfig(dir, c.opts.Ports, c.secrets.TemporalDBPassword); err != nil {
		return err
	}
	if err := createTemporalSchema(ctx, filepath.Join(c.opts.BinDir, "temporal-sql-tool"), c.pg.URL("postgres"),
		c.opts.Ports.Postgres, c.secrets.TemporalDBPassword, c.logFile("temporal-schema")); err != nil {
		return err
	}
	p := c.opts.Ports
	// Ready when listening: on gRPC, or for the worker service (which
	// serves no gRPC) on its membership port.
	grpc := map[string]int{"frontend": p.Frontend, "history": p.History, "matching": p.Matching, "worker": p.TemporalWorkerMembership}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for _, svc := range temporalServices {
		c.add(procSpec{
			name:  "temporal-" + svc,
			bin:   filepath.Join(c.opts.BinDir, "temporal-server"),
			args:  []string{"--root", dir, "--config", "config", "--env", "cluster", "--allow-no-auth", "start", "--service", svc},
			env:   env,
			dir:   dir,
			log:   c.logFile("temporal-" + svc),
			ready: dialReady(grpc[svc]),
		})
	}
	for _, p := range c.procs {
		if err := p.start(ctx); err != nil {
			return err
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	tc, err := devstack.WaitTemporal(tctx, clientOptions(c.TemporalAddress(), "temporal-system"))
	if err != nil {
		return fmt.Errorf("temporal frontend: %w", err)
	}
	tc.Close()
	if err := ensureNamespace(tctx, c.TemporalAddress()); err != nil {
		return err
	}
	ui := c.add(procSpec{
		name:  "temporal-ui",
		bin:   filepath.Join(c.opts.BinDir, "temporal-ui-server"),
		args:  []string{"--root", dir, "--config", "ui", "--env", "cluster", "start"},
		env:   env,
		dir:   dir,
		log:   c.logFile("temporal-ui"),
		ready: dialReady(p.UI),
	})
	return ui.start(ctx)
}

// prepareDatabase runs `sportello migrate` and `sportello seed` with the
// production environment.
func (c *Cluster) prepareDatabase(ctx context.Context) error {
	bin := filepath.Join(c.opts.BinDir, "sportello")
	seed := []string{"seed"}
	if c.opts.Demo {
		seed = append(seed, "--demo")
	}
	for _, args := range [][]string{{"migrate"}, seed} {
		cmd := execCommand(ctx, bin, args...)
		cmd.Env = c.Env("tool", 0, -1)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("sportello %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// startSportello starts the workers, the APIs and the proxy in front of
// them, and waits until the proxy answers /readyz.
func (c *Cluster) startSportello(ctx context.Context) error {
	bin := filepath.Join(c.opts.BinDir, "sportello")
	var started []*proc
	for i := range c.opts.Workers {
		name := fmt.Sprintf("worker-%d", i+1)
		started = append(started, c.add(procSpec{name: name, bin: bin, args: []string{"worker"},
			env: c.Env("worker", i, c.opts.APIs+i), dir: c.opts.Dir, log: c.logFile(name)}))
	}
	var backends []string
	for i := range c.opts.APIs {
		name := fmt.Sprintf("api-%d", i+1)
		addr := loopback(c.opts.Ports.APIs[i])
		backends = append(backends, addr)
		started = append(started, c.add(procSpec{name: name, bin: bin, args: []string{"api"},
			env: c.Env("api", i, i), dir: c.opts.Dir, log: c.logFile(name), ready: httpReady("http://" + addr + "/readyz")}))
	}
	for _, p := range started {
		if err := p.start(ctx); err != nil {
			return err
		}
	}
	if err := c.serve(loopback(c.opts.Ports.Proxy), NewProxy(backends, c.logger.With("component", "proxy"))); err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		if err := httpReady(c.URL() + "/readyz")(rctx); err == nil {
			return nil
		} else if rctx.Err() != nil {
			return fmt.Errorf("proxy not ready: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Env is the environment of a sportello process: role "api", "worker" or
// "tool" (migrate, seed, verify), the index of the API (its listen port)
// and of its /metrics port (-1: off). Every production setting is given
// explicitly; nothing of the supervisor's environment but PATH and HOME
// is passed on.
func (c *Cluster) Env(role string, index, metrics int) []string {
	p := c.opts.Ports
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + c.opts.Dir,
		"DATABASE_URL=" + c.DatabaseURL(),
		"TEMPORAL_ADDRESS=" + c.TemporalAddress(),
		"TEMPORAL_NAMESPACE=" + Namespace,
		"SPORTELLO_TEMPORAL_UI_URL=" + c.UIURL(),
		"SPORTELLO_PUBLIC_URL=" + c.URL(),
		"SPORTELLO_PAYMENTS_URL=" + c.PaymentsURL(),
		"SPORTELLO_ACCOUNTING_URL=" + "http://" + loopback(p.Accounting),
		"SPORTELLO_SMTP_HOST=127.0.0.1",
		"SPORTELLO_SMTP_PORT=" + strconv.Itoa(p.SMTP),
		"SPORTELLO_SMTP_FROM=sportello@cluster.invalid",
		"SPORTELLO_TRUSTED_PROXIES=127.0.0.1",
		"SPORTELLO_LOG_LEVEL=" + c.opts.LogLevel,
		"SPORTELLO_LOG_FORMAT=json",
		"SPORTELLO_METRICS_ADDR=off",
	}
	if metrics >= 0 && metrics < len(p.Metrics) {
		env[len(env)-1] = "SPORTELLO_METRICS_ADDR=" + loopback(p.Metrics[metrics])
	}
	switch role {
	case "api":
		// Only the API verifies the provider's callbacks.
		env = append(env, "SPORTELLO_PAYMENTS_SECRET="+c.secrets.PaymentsSecret, "SPORTELLO_HTTP_ADDR="+loopback(p.APIs[index]))
	case "worker":
		env = append(env, "SPORTELLO_PSEUDONYM_KEY="+c.secrets.PseudonymKey)
	}
	return env
}

func (c *Cluster) add(s procSpec) *proc {
	p := &proc{spec: s, logger: c.logger}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p
}

func (c *Cluster) proc(name string) (*proc, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		if p.spec.name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("no process %q (see status)", name)
}

// Names are the supervised processes, in start order.
func (c *Cluster) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, p := range c.procs {
		out = append(out, p.spec.name)
	}
	return out
}

// Kill sends SIGKILL to the named process; it stays down until Run.
func (c *Cluster) Kill(name string) error {
	p, err := c.proc(name)
	if err != nil {
		return err
	}
	c.logger.Info("killing (SIGKILL)", "name", name)
	p.signal(syscall.SIGKILL, 10*time.Second)
	return nil
}

// Halt stops the named process gracefully (SIGTERM); it stays down until
// Run.
func (c *Cluster) Halt(name string) error {
	p, err := c.proc(name)
	if err != nil {
		return err
	}
	c.logger.Info("stopping (SIGTERM)", "name", name)
	p.signal(syscall.SIGTERM, 20*time.Second)
	return nil
}

// Run starts the named process (when it is not running) and waits until
// it is ready.
func (c *Cluster) Run(ctx context.Context, name string) error {
	p, err := c.proc(name)
	if err != nil {
		return err
	}
	c.logger.Info("starting", "name", name)
	return p.start(ctx)
}

// Status of every supervised process, in start order.
func (c *Cluster) Status() []ProcStatus {
	c.mu.Lock()
	procs := slices.Clone(c.procs)
	c.mu.Unlock()
	out := make([]ProcStatus, 0, len(procs))
	for _, p := range procs {
		out = append(out, p.status())
	}
	return out
}

// Stop ends everything, the front first: proxy, APIs, workers, the Web UI,
// Temporal's services, PostgreSQL, the outside parties.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := len(c.servers) - 1; i >= 0; i-- {
			_ = c.servers[i].Shutdown(ctx)
		}
		c.mu.Lock()
		procs := slices.Clone(c.procs)
		c.mu.Unlock()
		// Sportello first (APIs and workers together), then the UI and
		// Temporal's frontend, worker, matching, history.
		var wg sync.WaitGroup
		for _, p := range procs {
			if strings.HasPrefix(p.spec.name, "api-") || strings.HasPrefix(p.spec.name, "worker-") {
				wg.Go(p.stop)
			}
		}
		wg.Wait()
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop()
		}
		if c.pg != nil {
			errs = append(errs, c.pg.Stop())
		}
		if c.acc != nil {
			c.acc.Close()
		}
		if c.pay != nil {
			c.pay.Close()
		}
		if c.mail != nil {
			errs = append(errs, c.mail.Stop())
		}
		if c.lock != nil {
			_ = c.lock.Close()
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// URL is the portal's address: the proxy.
func (c *Cluster) URL() string { return "http://" + loopback(c.opts.Ports.Proxy) }

// UIURL is Temporal's Web UI.
func (c *Cluster) UIURL() string { return "http://" + loopback(c.opts.Ports.UI) }

// MailURL is the mail catcher's web inbox.
func (c *Cluster) MailURL() string { return c.mail.URL() }

// PaymentsURL is the payment sandbox.
func (c *Cluster) PaymentsURL() string { return "http://" + loopback(c.opts.Ports.Payments) }

// PaySandbox is the payment provider's sandbox, to check what it charged.
func (c *Cluster) PaySandbox() *paysandbox.Server { return c.pay }

// TemporalAddress is Temporal's frontend.
func (c *Cluster) TemporalAddress() string { return loopback(c.opts.Ports.Frontend) }

// DatabaseURL is Sportello's database as its owner role (with password).
func (c *Cluster) DatabaseURL() string {
	return fmt.Sprintf("postgres://sportello:%s@%s/sportello?sslmode=disable", c.secrets.SportelloDBPassword, loopback(c.opts.Ports.Postgres))
}

// Dir is the state folder.
func (c *Cluster) Dir() string { return c.opts.Dir }

// secrets are generated once per cluster and kept in secrets.env (0600),
// as a secret store would keep them.
type secrets struct {
	PaymentsSecret      string // SPORTELLO_PAYMENTS_SECRET, shared with the payment sandbox
	PseudonymKey        string // SPORTELLO_PSEUDONYM_KEY
	SportelloDBPassword string
	TemporalDBPassword  string
}

func loadSecrets(path string) (secrets, error) {
	keys := []string{"SPORTELLO_PAYMENTS_SECRET", "SPORTELLO_PSEUDONYM_KEY", "SPORTELLO_DB_PASSWORD", "TEMPORAL_DB_PASSWORD"}
	vals := map[string]string{}
	if raw, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
				vals[k] = v
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return secrets{}, err
	}
	changed := false
	for _, k := range keys {
		if vals[k] == "" {
			b := make([]byte, 24)
			if _, err := rand.Read(b); err != nil {
				return secrets{}, err
			}
			vals[k] = hex.EncodeToString(b)
			changed = true
		}
	}
	if changed {
		var sb strings.Builder
		sb.WriteString("# Secrets of the local cluster, generated on its first start (keep this file private).\n")
		for _, k := range keys {
			sb.WriteString(k + "=" + vals[k] + "\n")
		}
		if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
			return secrets{}, err
		}
	}
	return secrets{PaymentsSecret: vals[keys[0]], PseudonymKey: vals[keys[1]], SportelloDBPassword: vals[keys[2]], TemporalDBPassword: vals[keys[3]]}, nil
}

// FreePorts is DefaultPorts at the first base from first (in steps of
// 1000, below 32768: Temporal's membership ports must fit a smallint) where
// every port is free on 127.0.0.1; for tests.
func FreePorts(first, apis, workers int) (Ports, error) {
	for base := first; base+1000 <= 32768; base += 1000 {
		p := DefaultPorts(base, apis, workers)
		all := []int{p.Postgres, p.Frontend, p.FrontendHTTP, p.History, p.Matching, p.TemporalWorker, p.FrontendMembership,
			p.HistoryMembership, p.MatchingMembership, p.TemporalWorkerMembership, p.UI, p.Proxy, p.Payments, p.Accounting, p.SMTP, p.MailHTTP}
		all = append(append(all, p.APIs...), p.Metrics...)
		free := true
		for _, port := range all {
			ln, err := net.Listen("tcp", loopback(port))
			if err != nil {
				free = false
				break
			}
			_ = ln.Close()
		}
		if free {
			return p, nil
		}
	}
	return Ports{}, errors.New("cluster: no free block of ports below 32768")
}

// lockDir makes sure one supervisor at a time uses dir.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "cluster.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("another cluster is running with %s", dir)
	}
	return f, nil
}

// httpReady is a readiness check: GET url answers 200.
func httpReady(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	}
}
