package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"sportello/internal/app/operations"
	"sportello/internal/contract"
	"sportello/internal/notify"
	"sportello/internal/observe"
	"sportello/internal/pseudonym"
)

// config is read from the environment, with defaults that make `sportello
// dev` work on a fresh clone and `api`/`worker` find the dev stack.
type config struct {
	DatabaseURL     string // DATABASE_URL
	DatabaseURLSet  bool
	TemporalAddress string // TEMPORAL_ADDRESS
	TemporalSet     bool
	Namespace       string // TEMPORAL_NAMESPACE
	TemporalUIURL   string // SPORTELLO_TEMPORAL_UI_URL
	TaskQueue       string // SPORTELLO_TASK_QUEUE ("" = workflows.TaskQueue)
	HTTPAddr        string // SPORTELLO_HTTP_ADDR
	DataDir         string // SPORTELLO_DATA_DIR
	TemporalBin     string // SPORTELLO_TEMPORAL_BIN
	PGPort          int    // SPORTELLO_PG_PORT
	LogLevel        slog.Level
	LogFormat       string // SPORTELLO_LOG_FORMAT: text or json
	// Mail (dev): the local catcher listens on SMTPAddr and shows its inbox
	// on MailcatcherHTTP, unless SMTPHost points to another server.
	SMTPHost        string           // SPORTELLO_SMTP_HOST as given ("" = the local catcher)
	SMTPAddr        string           // SPORTELLO_SMTP_ADDR, default 127.0.0.1:$SPORTELLO_SMTP_PORT (1025)
	MailcatcherHTTP string           // SPORTELLO_MAILCATCHER_HTTP, default 127.0.0.1:8025
	MailURL         string           // set by dev: the web inbox, when the catcher runs
	SMTP            notify.Config    // the mail server notifications go to (SPORTELLO_SMTP_*)
	PublicURL       string           // SPORTELLO_PUBLIC_URL: the portal's address in e-mails (default http://$SPORTELLO_HTTP_ADDR)
	PaymentsURL     string           // SPORTELLO_PAYMENTS_URL: the payment provider (default: dev's sandbox, http://127.0.0.1:8090)
	PaymentsSecret  string           // SPORTELLO_PAYMENTS_SECRET: the provider's callback signing secret
	PaySandboxURL   string           // set by dev: the sandbox provider, when it runs
	Accounting      accountingConfig // SPORTELLO_ACCOUNTING_*, SPORTELLO_BILLING_POLL (accounting.go)
	// The door (issue 10).
	TrustedProxies   []string      // SPORTELLO_TRUSTED_PROXIES: comma-separated IPs/CIDRs whose X-Forwarded-For is believed
	HashConcurrency  int           // SPORTELLO_PASSWORD_HASH_CONCURRENCY: password hashes at once (0 = GOMAXPROCS)
	StaffIdleTimeout time.Duration // SPORTELLO_STAFF_IDLE_TIMEOUT: staff sessions end after this long unused (default 30m)
	// Observability (issue 13).
	MetricsAddr string                // SPORTELLO_METRICS_ADDR: where /metrics is served, never the portal's port ("off": nowhere)
	Tracing     observe.TracingConfig // OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT: where traces go (none: no tracing)
	// Privacy (issue 13, part 5).
	RetentionDays int    // SPORTELLO_RETENTION_DAYS: closed cases are pseudonymised this long after their last activity (default 3650)
	PseudonymKey  string // SPORTELLO_PSEUDONYM_KEY: the retention run's HMAC key (dev: devPseudonymKey, refused by worker)
	// The operations console's thresholds (SPORTELLO_OPS_*, ops_config.go).
	Operations operations.Settings
	// Sign-in with SPID/CIE and the demo mode (issue 16; signin.go).
	SignIn signInConfig // SPORTELLO_OIDC_*, SPORTELLO_TEST_IDP_ADDR
	Demo   bool         // set by dev: the portal runs with the demo data
}

const (
	devPGPort       = 55432
	devDatabase     = "sportello"
	devTemporalPort = 7233
	devTemporalUI   = 8233
	devSMTPPort     = 1025
	devMailcatcher  = "127.0.0.1:8025"
	devPaymentsURL  = "http://127.0.0.1:8090"
	devPaySecret    = "sportello-dev-sandbox-secret" // the sandbox's; set a real one in production
	devPseudonymKey = "sportello-dev-pseudonym-key"  // dev's; worker refuses it
)

func loadConfig(getenv func(string) string) (config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := config{
		DatabaseURL:     get("DATABASE_URL", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", devPGPort, devDatabase)),
		DatabaseURLSet:  getenv("DATABASE_URL") != "",
		TemporalAddress: get("TEMPORAL_ADDRESS", fmt.Sprintf("127.0.0.1:%d", devTemporalPort)),
		TemporalSet:     getenv("TEMPORAL_ADDRESS") != "",
		Namespace:       get("TEMPORAL_NAMESPACE", "default"),
		TemporalUIURL:   get("SPORTELLO_TEMPORAL_UI_URL", fmt.Sprintf("http://127.0.0.1:%d", devTemporalUI)),
		TaskQueue:       get("SPORTELLO_TASK_QUEUE", ""),
		HTTPAddr:        get("SPORTELLO_HTTP_ADDR", "127.0.0.1:8080"),
		DataDir:         get("SPORTELLO_DATA_DIR", ".data"),
		TemporalBin:     get("SPORTELLO_TEMPORAL_BIN", "bin/temporal"),
		LogFormat:       get("SPORTELLO_LOG_FORMAT", "text"),
		SMTPHost:        get("SPORTELLO_SMTP_HOST", ""),
		SMTPAddr:        get("SPORTELLO_SMTP_ADDR", "127.0.0.1:"+get("SPORTELLO_SMTP_PORT", strconv.Itoa(devSMTPPort))),
		MailcatcherHTTP: get("SPORTELLO_MAILCATCHER_HTTP", devMailcatcher),
		SMTP:            notify.ConfigFromEnv(getenv),
		PaymentsURL:     strings.TrimRight(get("SPORTELLO_PAYMENTS_URL", devPaymentsURL), "/"),
		PaymentsSecret:  get("SPORTELLO_PAYMENTS_SECRET", devPaySecret),
	}
	if u, err := url.Parse(c.PaymentsURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("SPORTELLO_PAYMENTS_URL: %q is not an http(s) URL", c.PaymentsURL)
	}
	port, err := strconv.Atoi(get("SPORTELLO_PG_PORT", strconv.Itoa(devPGPort)))
	if err != nil || port <= 0 || port > 65535 {
		return c, fmt.Errorf("SPORTELLO_PG_PORT: invalid port %q", getenv("SPORTELLO_PG_PORT"))
	}
	c.PGPort = port
	if err := c.LogLevel.UnmarshalText([]byte(get("SPORTELLO_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("SPORTELLO_LOG_LEVEL: %w", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("SPORTELLO_LOG_FORMAT: %q is neither text nor json", c.LogFormat)
	}
	if c.Accounting, err = loadAccountingConfig(getenv); err != nil {
		return c, err
	}
	c.Tracing = observe.TracingFromEnv(getenv, "")
	c.MetricsAddr = get("SPORTELLO_METRICS_ADDR", "127.0.0.1:9464")
	if c.MetricsAddr != "off" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return c, fmt.Errorf("SPORTELLO_METRICS_ADDR: %q is neither host:port nor off", c.MetricsAddr)
		}
	}
	c.PublicURL = strings.TrimRight(get("SPORTELLO_PUBLIC_URL", "http://"+c.HTTPAddr), "/")
	for _, p := range strings.Split(get("SPORTELLO_TRUSTED_PROXIES", ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return c, fmt.Errorf("SPORTELLO_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR", p)
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if c.HashConcurrency, err = strconv.Atoi(get("SPORTELLO_PASSWORD_HASH_CONCURRENCY", "0")); err != nil || c.HashConcurrency < 0 {
		return c, fmt.Errorf("SPORTELLO_PASSWORD_HASH_CONCURRENCY: %q is not a number of hashes", getenv("SPORTELLO_PASSWORD_HASH_CONCURRENCY"))
	}
	if c.StaffIdleTimeout, err = time.ParseDuration(get("SPORTELLO_STAFF_IDLE_TIMEOUT", "30m")); err != nil || c.StaffIdleTimeout <= 0 {
		return c, fmt.Errorf("SPORTELLO_STAFF_IDLE_TIMEOUT: %q is not a positive duration", getenv("SPORTELLO_STAFF_IDLE_TIMEOUT"))
	}
	if c.RetentionDays, err = strconv.Atoi(get("SPORTELLO_RETENTION_DAYS", strconv.Itoa(contract.DefaultRetentionDays))); err != nil || c.RetentionDays < 1 {
		return c, fmt.Errorf("SPORTELLO_RETENTION_DAYS: %q is not a positive number of days", getenv("SPORTELLO_RETENTION_DAYS"))
	}
	c.PseudonymKey = get("SPORTELLO_PSEUDONYM_KEY", devPseudonymKey)
	if c.Operations, err = loadOpsConfig(func(k string) string { return strings.TrimSpace(getenv(k)) }); err != nil {
		return c, err
	}
	// The console and the watch read the namespace the journeys run in.
	c.Operations.Namespace = c.Namespace
	if c.SignIn, err = loadSignInConfig(getenv); err != nil {
		return c, err
	}
	return c, nil
}

// productionSetting is an environment variable that `api` or `worker` must
// be given: its default points at a local development sandbox (or, for the
// callback secret, is public), which in production would silently send
// money, invoices or mail nowhere or let anyone forge payment callbacks.
type productionSetting struct {
	env  string
	what string
}

// productionSettings lists, per production command, what it cannot start
// without. Only `dev` (and the sandboxes' own commands) use the defaults.
//   - api: the database and Temporal it serves from, the payment provider
//     it confirms callbacks with, the secret that signs them (a fallback to
//     the public sandbox secret lets anyone sign a payment.captured), and the
//     SMTP server and public URL of the incident e-mails its callback path
//     sends (a late refund the provider refuses).
//   - worker: the database and Temporal, the payment provider (intents,
//     confirmations, refunds), the accounting system (invoices), the portal's
//     public address (payment return and callback URLs, links in e-mails) and
//     the SMTP server (notifications, incidents). It verifies no callback, so
//     it is not given the callback secret.
var productionSettings = map[string][]productionSetting{
	"api": {
		{"DATABASE_URL", "the PostgreSQL server"},
		{"TEMPORAL_ADDRESS", "the Temporal frontend"},
		{"SPORTELLO_PAYMENTS_URL", "the payment provider"},
		{"SPORTELLO_PAYMENTS_SECRET", "the payment provider's callback signing secret"},
		{"SPORTELLO_PUBLIC_URL", "the portal's public address (links in incident e-mails)"},
		{"SPORTELLO_SMTP_HOST", "the SMTP server of incident e-mails"},
	},
	"worker": {
		{"DATABASE_URL", "the PostgreSQL server"},
		{"TEMPORAL_ADDRESS", "the Temporal frontend"},
		{"SPORTELLO_PAYMENTS_URL", "the payment provider"},
		{"SPORTELLO_ACCOUNTING_URL", "the municipalities' accounting system"},
		{"SPORTELLO_PUBLIC_URL", "the portal's public address (payment callbacks, links in e-mails)"},
		{"SPORTELLO_SMTP_HOST", "the SMTP server of notifications"},
		{"SPORTELLO_PSEUDONYM_KEY", "the retention run's pseudonym key (HMAC)"},
	},
}

// secretSettings are the settings that carry a secret: a deployment gives
// them from a Secret, never from a ConfigMap or the image
// (cmd/sportello/deploy_test.go checks deploy/k8s against this list).
var secretSettings = []string{
	"DATABASE_URL", // it carries the database password
	"SPORTELLO_PAYMENTS_SECRET",
	"SPORTELLO_PSEUDONYM_KEY",
	"SPORTELLO_SMTP_USERNAME",
	"SPORTELLO_SMTP_PASSWORD",
}

// minPaySecret is the shortest callback secret api accepts (providers'
// signing secrets are far longer; "CHANGE-ME" is not one).
const minPaySecret = 16

// requireProduction refuses to start a production command (api, worker)
// without its settings: the error names every missing one. The public
// development secret of the sandbox counts as missing.
func requireProduction(cmd string, getenv func(string) string) error {
	var missing []string
	for _, s := range productionSettings[cmd] {
		v := strings.TrimSpace(getenv(s.env))
		switch {
		case v == "":
			missing = append(missing, s.env+" ("+s.what+")")
		case s.env == "SPORTELLO_PAYMENTS_SECRET" && v == devPaySecret:
			missing = append(missing, s.env+" (set to the public development secret of the sandbox: use the provider's real secret)")
		case s.env == "SPORTELLO_PAYMENTS_SECRET" && len(v) < minPaySecret:
			missing = append(missing, fmt.Sprintf("%s (shorter than %d characters: a placeholder, not the provider's secret)", s.env, minPaySecret))
		case s.env == "SPORTELLO_PSEUDONYM_KEY" && v == devPseudonymKey:
			missing = append(missing, s.env+" (set to the public development key: use a secret of your own)")
		case s.env == "SPORTELLO_PSEUDONYM_KEY" && len(v) < pseudonym.MinKeyLength:
			missing = append(missing, fmt.Sprintf("%s (shorter than %d characters)", s.env, pseudonym.MinKeyLength))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s: refusing to start without production settings (development defaults apply only under `sportello dev`): %s",
		cmd, strings.Join(missing, "; "))
}

// newLogger writes to standard error; a line logged inside a trace carries
// its trace_id and span_id (observe.LogHandler).
func newLogger(c config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(observe.LogHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(observe.LogHandler(slog.NewTextHandler(os.Stderr, opts)))
}

// envHelp documents the environment for `sportello help`.
const envHelp = `Environment:
  (*: required by api, worker or both: they refuse to start without it; the defaults are dev's)
  DATABASE_URL             * PostgreSQL URL (dev: a local cluster in $SPORTELLO_DATA_DIR/postgres when unset)
  TEMPORAL_ADDRESS         * Temporal frontend host:port (dev: a dev server on 127.0.0.1:7233 when unset)
  TEMPORAL_NAMESPACE         Temporal namespace (default "default")
  SPORTELLO_HTTP_ADDR        API listen address (default 127.0.0.1:8080)
  SPORTELLO_TASK_QUEUE       task queue of workflows (default sportello-cases)
  SPORTELLO_TEMPORAL_UI_URL  Temporal Web UI base URL for links (default http://127.0.0.1:8233)
  SPORTELLO_DATA_DIR         dev state folder (default .data)
  SPORTELLO_TEMPORAL_BIN     Temporal CLI used by dev (default bin/temporal)
  SPORTELLO_PG_PORT          port of the dev PostgreSQL cluster (default 55432)
  SPORTELLO_PUBLIC_URL     * api, worker: the portal's public address (default http://$SPORTELLO_HTTP_ADDR)
  SPORTELLO_SMTP_HOST      * api, worker: SMTP server of notifications (default 127.0.0.1: dev's mail catcher; another host: no catcher)
  SPORTELLO_SMTP_PORT        SMTP port (default 1025); also _FROM, _FROM_NAME, _USERNAME, _PASSWORD, _TLS (none|starttls|tls)
  SPORTELLO_SMTP_ADDR        dev: address of the mail catcher (default 127.0.0.1:$SPORTELLO_SMTP_PORT)
  SPORTELLO_MAILCATCHER_HTTP dev: web inbox of the mail catcher (default 127.0.0.1:8025)
  SPORTELLO_PAYMENTS_URL   * payment provider (default http://127.0.0.1:8090: dev's sandbox, started when loopback)
  SPORTELLO_PAYMENTS_SECRET* api: callback signing secret shared with the provider (dev: the sandbox's public secret, refused by api)
  SPORTELLO_ACCOUNTING_URL * worker: accounting system of billing and calls' budgets (default http://127.0.0.1:8091: dev's sandbox, started when loopback)
  SPORTELLO_ACCOUNTING_PAY_AFTER  the sandbox pays an invoice this long after receiving it (default 2m)
  SPORTELLO_BILLING_POLL     how often billing runs check payments and declarations (default 1m)
  SPORTELLO_PUBLIC_URL       the portal's public address (https: responses carry Strict-Transport-Security)
  SPORTELLO_TRUSTED_PROXIES  reverse proxies (IPs/CIDRs, comma-separated) whose X-Forwarded-For names the client (default none)
  SPORTELLO_PASSWORD_HASH_CONCURRENCY  password hashes at once, about 19 MiB each (default GOMAXPROCS)
  SPORTELLO_STAFF_IDLE_TIMEOUT  staff sessions end after this long without a request (default 30m)
  SPORTELLO_METRICS_ADDR     where api, worker and dev serve /metrics (default 127.0.0.1:9464; off: nowhere)
  OTEL_EXPORTER_OTLP_ENDPOINT  OTLP/HTTP collector of traces (unset: no tracing); also the other OTEL_EXPORTER_OTLP_* and OTEL_TRACES_SAMPLER
  SPORTELLO_RETENTION_DAYS   closed cases are pseudonymised this many days after their last activity (default 3650, ten years)
  SPORTELLO_PSEUDONYM_KEY  * worker: secret HMAC key of the retention run's pseudonyms, at least 16 characters (dev: a public key, refused by worker)
  SPORTELLO_OPS_RETRY_ATTEMPTS    the operations console lists an activity from this attempt on (default 5, at least 2)
  SPORTELLO_OPS_PAYMENT_WAIT      ... a booking waiting for its payment longer than this (default 24h)
  SPORTELLO_OPS_DECLARATION_WAIT  ... an invoice waiting for its declaration longer than this (default 360h, 15 days)
  SPORTELLO_OPS_SCHEDULE_GRACE    ... a schedule whose next run is this late (default 10m)
  SPORTELLO_OPS_STUCK_AFTER       supervisors are e-mailed about what has been listed longer than this (default 1h)
  SPORTELLO_OIDC_ISSUER      sign-in with SPID/CIE: the OpenID Connect provider's issuer URL; with _CLIENT_ID, _CLIENT_SECRET and
                             _REDIRECT_URL (https://<portal>/login/spid/callback): all four or none (none: no SPID/CIE button;
                             dev: its test identity provider); _ACR the level asked (default https://www.spid.gov.it/SpidL2)
  SPORTELLO_TEST_IDP_ADDR    dev: where the test identity provider listens (default 127.0.0.1:8092)
  SPORTELLO_LOG_LEVEL        debug, info, warn, error (default info)
  SPORTELLO_LOG_FORMAT       text or json (default text)
`
