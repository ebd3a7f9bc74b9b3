// Package api serves Sportello over HTTP on one gin engine: the JSON API
// (bearer-token sessions, every route and its authorization policy in
// routes.go) and the web portal, which is package web (api/web, its pages
// listed in web/routes.go) and which this package wires. Both are
// adapters: the use cases, their rules, authorization decisions, store and
// Temporal calls are in the application services of internal/app; what
// both adapters share (the error that knows its HTTP status and the one
// mapping of every error to it, the session and request id in the gin
// context, paging) is api/internal/httpx.
//
// Size: the package is a little above the size of the others because it
// is the JSON adapter of every domain (about a hundred operations, one
// file per domain, each handler a few lines: decode, call the use case,
// answer), plus the policy table that TestAuthorizationMatrix walks. A
// split into one package per domain would scatter that table and the
// route registration, which are kept in one place on purpose.
package api

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"sportello/api/internal/httpx"
	"sportello/api/web"
	"sportello/forms"
	"sportello/internal/app"
	"sportello/internal/app/accounts"
	"sportello/internal/app/applications"
	"sportello/internal/app/appointments"
	"sportello/internal/app/calls"
	"sportello/internal/app/casework"
	"sportello/internal/app/company"
	"sportello/internal/app/desk"
	"sportello/internal/app/invoices"
	"sportello/internal/app/marketplace"
	"sportello/internal/app/operations"
	"sportello/internal/app/registry"
	"sportello/internal/app/teams"
	"sportello/internal/app/vouchers"
	"sportello/internal/auth"
	"sportello/internal/outbox"
	"sportello/internal/payments"
	"sportello/internal/store"
	"sportello/workflows"
)

// Deps are what the API needs.
type Deps struct {
	Store         *store.Store
	Temporal      client.Client
	Forms         *forms.Registry // forms.NewRegistry() when nil
	Logger        *slog.Logger
	TaskQueue     string // workflows.TaskQueue when empty
	TemporalUIURL string // base URL of the Temporal Web UI, for links
	Namespace     string // "default" when empty
	SessionTTL    time.Duration
	// Now is the clock (time.Now when nil); tests may move it.
	Now func() time.Time
	// Payments is the payment provider's client (late refunds); nil: none.
	Payments *payments.Client
	// PaymentsSecret verifies the provider's signed callbacks.
	PaymentsSecret string
	// Mailer sends the incident e-mails of the payment callback (a late
	// refund the provider refuses, a payment of another amount) to the
	// district's supervisors; nil: they stay in the outbox, the incident is
	// still recorded. PortalURL is the portal's public address for their
	// links; when it is https, every response carries
	// Strict-Transport-Security (TLS ends at a proxy).
	Mailer    outbox.Mailer
	PortalURL string
	// AccountMailer sends the account notices the API owns (a recovery's
	// code, a changed password); nil: a recovery by e-mail is refused with
	// 503. Links in them point at PortalURL (the request's origin when empty).
	AccountMailer AccountMailer
	// PasswordHashing bounds concurrent password hashes (about 19 MiB each);
	// nil: auth.NewLimiter with the default size (GOMAXPROCS).
	PasswordHashing *auth.Limiter
	// TrustedProxies are the addresses or CIDRs of the reverse proxies whose
	// X-Forwarded-For names the client (login throttling per address); none
	// when empty: the client is the connection's peer.
	TrustedProxies []string
	// StaffIdleTimeout ends a staff session after this long without a
	// request (accounts.DefaultStaffIdleTimeout when zero); citizens have none.
	StaffIdleTimeout time.Duration
	// Operations are the operations console's thresholds (SPORTELLO_OPS_*;
	// each operations.Settings default when zero; the namespace is
	// Namespace's when empty).
	Operations operations.Settings
	// RetentionDays is the retention period of closed cases (the privacy
	// notice states it; privacy.DefaultRetentionDays when zero).
	RetentionDays int
	// IdP is the relying party of the SPID/CIE-style sign-in (issue 16;
	// *oidcrp.Client); nil: not configured, the login page shows no button.
	IdP accounts.IdentityProvider
	// Demo: the portal runs with the demo data (`sportello dev`); the login
	// page lists the demo accounts.
	Demo bool
}

type server struct {
	Deps
	log *slog.Logger
	api store.API
	// core is what the application services share (internal/app); the
	// services follow, one per domain.
	core         *app.Core
	accounts     accounts.Service
	casework     casework.Service
	desk         desk.Service
	teams        teams.Service
	registry     registry.Service
	applications applications.Service
	calls        calls.Service
	vouchers     vouchers.Service
	appointments appointments.Service
	marketplace  marketplace.Service
	invoices     invoices.Service
	company      company.Service
	operations   operations.Service
	// site is the web portal (package web).
	site *web.Site
	// hsts: every response carries Strict-Transport-Security.
	hsts bool
}

// updateTimeout bounds a Temporal Update round trip.
const updateTimeout = 30 * time.Second

// New builds the HTTP handler.
func New(d Deps) http.Handler { return newEngine(d) }

func newEngine(d Deps) *gin.Engine {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.TaskQueue == "" {
		d.TaskQueue = workflows.TaskQueue
	}
	if d.Namespace == "" {
		d.Namespace = "default"
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Forms == nil {
		reg, err := forms.NewRegistry()
		if err != nil {
			// The schemas are embedded: this is a programming error.
			panic("api: load forms: " + err.Error())
		}
		d.Forms = reg
	}
	s := &server{Deps: d, log: d.Logger, api: d.Store.API(),
		hsts: strings.HasPrefix(strings.ToLower(d.PortalURL), "https://")}
	s.core = &app.Core{Store: d.Store, API: s.api, Temporal: d.Temporal, Log: d.Logger, Now: d.Now, TaskQueue: d.TaskQueue,
		Describe: func(err error) (string, []app.FieldError) { he := httpx.From(err); return he.Code, he.Fields }}
	s.accounts = accounts.New(s.core, accounts.Config{Hashing: d.PasswordHashing, Mail: d.AccountMailer,
		PortalURL: d.PortalURL, SessionTTL: d.SessionTTL, StaffIdleTimeout: d.StaffIdleTimeout, IdP: d.IdP})
	s.casework = casework.New(s.core)
	s.desk = desk.New(s.core, d.AccountMailer)
	s.calls = calls.New(s.core, d.Forms)
	s.applications = applications.New(s.core, d.Forms, s.calls)
	s.vouchers = vouchers.New(s.core)
	s.appointments = appointments.New(s.core)
	s.teams = teams.New(s.core)
	s.registry = registry.New(s.core)
	s.invoices = invoices.New(s.core)
	s.marketplace = marketplace.New(s.core, d.Payments, d.Mailer, d.PortalURL)
	s.company = company.New(s.core, d.Payments, d.PortalURL)
	ops := d.Operations
	if ops.Namespace == "" {
		ops.Namespace = d.Namespace
	}
	s.operations = operations.New(s.core, ops)
	s.site = web.New(web.Deps{Store: d.Store, Forms: d.Forms, Log: d.Logger, Now: d.Now, PortalURL: d.PortalURL,
		TemporalUIURL: d.TemporalUIURL, Namespace: d.Namespace, RetentionDays: d.RetentionDays, Demo: d.Demo, Core: s.core, Accounts: s.accounts,
		Operations: s.operations, Casework: s.casework, Desk: s.desk, Teams: s.teams, Applications: s.applications, Vouchers: s.vouchers,
		Appointments: s.appointments, Marketplace: s.marketplace, Invoices: s.invoices, Company: s.company,
		Registry: s.registry})

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	// X-Forwarded-For is believed only from the configured proxies.
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		panic("api: trusted proxies: " + err.Error())
	}
	r.Use(observeRequest, s.requestID, s.accessLog, s.recoverPanic, s.securityHeaders, limitBody, s.inputHygiene)
	r.NoRoute(s.noRoute)
	r.NoMethod(s.noMethod)

	// The JSON API: every route and its policy are in routes.go.
	s.mountAPI(r)

	// The web portal: HTML pages on the same engine (package web, its
	// pages listed in web/routes.go).
	s.site.Mount(r)
	return r
}
