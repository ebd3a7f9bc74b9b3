// Package api serves Sportello's HTTP API: JSON over HTTP, bearer-token
// sessions, errors mapped in one place (errors.go), reads from PostgreSQL
// under the caller's row-level-security scope, and case changes sent to the
// case workflows as Temporal Updates.
package api

import (
	"log/slog"
	"net/http"
	"sportello/internal/outbox"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"sportello/forms"
	"sportello/internal/auth"
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
	// request (staffIdleTimeout when zero); citizens have none.
	StaffIdleTimeout time.Duration
}

type server struct {
	Deps
	log *slog.Logger
	api store.API
	// templates are the web pages, parsed once per language.
	templates webTemplates
	// hashing bounds concurrent password hashes.
	hashing *auth.Limiter
	// hsts: every response carries Strict-Transport-Security.
	hsts bool
}

// sessionTTL is the lifetime of a bearer token.
const sessionTTL = 12 * time.Hour

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
	if d.SessionTTL <= 0 {
		d.SessionTTL = sessionTTL
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
	if d.PasswordHashing == nil {
		d.PasswordHashing = auth.NewLimiter(0, 0, 0)
	}
	if d.StaffIdleTimeout <= 0 {
		d.StaffIdleTimeout = staffIdleTimeout
	}
	s := &server{Deps: d, log: d.Logger, api: d.Store.API(), hashing: d.PasswordHashing,
		hsts: strings.HasPrefix(strings.ToLower(d.PortalURL), "https://")}
	tmpl, err := parseTemplates(webFS)
	if err != nil {
		// The templates are embedded: this is a programming error.
		panic("api: " + err.Error())
	}
	s.templates = tmpl

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
	r.Use(s.requestID, s.accessLog, s.recoverPanic, s.securityHeaders, limitBody, s.inputHygiene)
	r.NoRoute(s.noRoute)
	r.NoMethod(s.noMethod)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)

	v1 := r.Group("/api/v1")
	v1.GET("/openapi.json", s.openAPI)
	v1.POST("/session", s.handle(s.login))

	authed := v1.Group("", s.authenticate)
	authed.DELETE("/session", s.handle(s.logout))
	authed.GET("/me", s.handle(s.me))

	authed.GET("/forms", s.handle(s.listForms))
	authed.GET("/forms/:id", s.handle(s.getForm))

	const (
		citizen    = "citizen"
		operator   = "operator"
		supervisor = "supervisor"
		merchant   = "merchant"
	)
	authed.POST("/applications", s.roles(citizen), s.handle(s.createApplication))
	authed.GET("/applications", s.roles(citizen, operator, supervisor), s.handle(s.listApplications))
	authed.GET("/applications/:id", s.roles(citizen, operator, supervisor), s.handle(s.getApplication))
	authed.GET("/applications/:id/timeline", s.roles(citizen, operator, supervisor), s.handle(s.timeline))
	authed.POST("/applications/:id/information", s.roles(citizen), s.handle(s.provideInformation))

	authed.GET("/tasks", s.roles(operator, supervisor), s.handle(s.listTasks))
	authed.GET("/tasks/:id", s.roles(operator, supervisor), s.handle(s.getTask))
	authed.POST("/tasks/:id/claim", s.roles(operator, supervisor), s.handle(s.claimTask))
	authed.POST("/tasks/:id/release", s.roles(operator, supervisor), s.handle(s.releaseTask))
	authed.POST("/tasks/:id/assign", s.roles(supervisor), s.handle(s.assignTask))
	authed.POST("/tasks/:id/decision", s.roles(operator, supervisor), s.handle(s.decideTask))
	authed.POST("/tasks/bulk", s.roles(operator, supervisor), s.handle(s.bulkTasks))

	authed.GET("/vouchers", s.roles(citizen, operator, supervisor), s.handle(s.listVouchers))
	authed.GET("/vouchers/:id", s.roles(citizen, operator, supervisor), s.handle(s.getVoucher))

	authed.POST("/redemptions", s.roles(merchant), s.handle(s.redeem))
	authed.GET("/redemptions", s.roles(merchant), s.handle(s.listRedemptions))

	authed.GET("/funds", s.roles(supervisor, operator), s.handle(s.listFunds))

	authed.GET("/audit", s.roles(supervisor), s.handle(s.auditLog))
	authed.GET("/municipalities/:id/calendar", s.roles(supervisor), s.handle(s.getOfficeCalendar))
	authed.PUT("/municipalities/:id/calendar", s.roles(supervisor), s.handle(s.putOfficeCalendar))

	// The Social Point's desk (desk.go).
	v1.POST("/activation", s.handle(s.activateAccount))
	authed.POST("/citizens", s.roles(operator), s.handle(s.createCitizen))
	authed.GET("/citizens/:id", s.roles(operator), s.handle(s.getCitizen))
	authed.POST("/citizens/:id/activation-code", s.roles(operator), s.handle(s.reissueCitizenCode))
	authed.POST("/citizens/:id/applications", s.roles(operator), s.handle(s.createApplicationOnBehalf))
	authed.GET("/contact-tasks", s.roles(operator, supervisor), s.handle(s.listContactTasks))
	authed.POST("/contact-tasks/:id/outcome", s.roles(operator, supervisor), s.handle(s.recordContactOutcome))
	s.registerDeskTrustAPI(authed)

	authed.GET("/absences", s.roles(operator, supervisor), s.handle(s.listAbsences))
	authed.POST("/absences", s.roles(operator, supervisor), s.handle(s.createAbsence))
	authed.POST("/absences/:id/cancel", s.roles(operator, supervisor), s.handle(s.cancelAbsence))

	authed.GET("/teams", s.roles(supervisor), s.handle(s.listTeams))
	authed.POST("/teams", s.roles(supervisor), s.handle(s.postTeam))
	authed.GET("/teams/:id", s.roles(supervisor), s.handle(s.getTeam))
	authed.PATCH("/teams/:id", s.roles(supervisor), s.handle(s.patchTeam))
	authed.POST("/teams/:id/members", s.roles(supervisor), s.handle(s.postTeamMember))
	authed.DELETE("/teams/:id/members/:username", s.roles(supervisor), s.handle(s.deleteTeamMember))
	authed.GET("/fund-reviews", s.roles(supervisor), s.handle(s.listFundReviews))
	authed.PUT("/funds/:id/review", s.roles(supervisor), s.handle(s.putFundReview))
	authed.GET("/incidents", s.roles(supervisor), s.handle(s.listIncidents))

	s.registerSocialPointsAPI(v1, authed)
	s.registerCatalogueAPI(v1, authed)
	s.registerCheckoutAPI(v1, authed)
	s.registerServiceVoucherAPI(authed)
	s.registerBillingAPI(authed)
	s.registerCoopBookingsAPI(authed)

	// The web portal: HTML pages on the same engine (web_*.go).
	s.registerWeb(r)
	return r
}
