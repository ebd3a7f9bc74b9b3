// Package web is the portal's adapter: server-rendered HTML pages (Go
// html/template, Bootstrap Italia, htmx as progressive enhancement) on the
// same gin engine as the JSON API, which wires it (api.New). Every page is
// listed once, in Mount (routes.go), grouped by the roles that may open
// it. Like the JSON handlers, pages only read their input, call the use
// cases of the application services (internal/app/...) and show the
// result; errors become error pages through the one mapping of
// api/internal/httpx. The guide to adding a page is README.md here.
//
// Size: the package is above the size of the others because it is the
// whole portal, about ninety routes for five roles, one file per area; they
// share one template set, the layout and its view, the form and error
// helpers, the session cookie and the flash messages, which a split by
// role or domain would have to export to each part.
package web

import (
	"log/slog"
	"time"

	"sportello/api/internal/httpx"
	"sportello/forms"
	"sportello/internal/app"
	"sportello/internal/app/accounts"
	"sportello/internal/app/applications"
	"sportello/internal/app/appointments"
	"sportello/internal/app/casework"
	"sportello/internal/app/company"
	"sportello/internal/app/desk"
	"sportello/internal/app/invoices"
	"sportello/internal/app/marketplace"
	"sportello/internal/app/operations"
	"sportello/internal/app/registry"
	"sportello/internal/app/teams"
	"sportello/internal/app/vouchers"
	"sportello/internal/store"
)

// Deps are what the pages need: the application services and a few
// settings, given by api.New.
type Deps struct {
	Store *store.Store
	Forms *forms.Registry
	Log   *slog.Logger
	Now   func() time.Time
	// PortalURL is the portal's public address for links (the request's
	// origin when empty).
	PortalURL string
	// TemporalUIURL is the base URL of the Temporal Web UI (staff see a
	// case's workflow there); Namespace is its namespace.
	TemporalUIURL, Namespace string
	// RetentionDays is the retention period the privacy notice states
	// (privacy.DefaultRetentionDays when zero).
	RetentionDays int
	// Demo: the portal runs with the demo data (`sportello dev`): the login
	// page lists the demo accounts.
	Demo bool

	Core         *app.Core
	Accounts     accounts.Service
	Casework     casework.Service
	Desk         desk.Service
	Teams        teams.Service
	Applications applications.Service
	Vouchers     vouchers.Service
	Appointments appointments.Service
	Marketplace  marketplace.Service
	Invoices     invoices.Service
	Company      company.Service
	Operations   operations.Service
	Registry     registry.Service
}

// Site is the web portal: its pages are methods.
type Site struct {
	pagePolicy               []PageRule // set by Mount
	Store                    *store.Store
	Forms                    *forms.Registry
	Now                      func() time.Time
	PortalURL                string
	TemporalUIURL, Namespace string
	RetentionDays            int
	Demo                     bool

	log          *slog.Logger
	api          store.API
	core         *app.Core
	accounts     accounts.Service
	casework     casework.Service
	desk         desk.Service
	teams        teams.Service
	applications applications.Service
	vouchers     vouchers.Service
	appointments appointments.Service
	marketplace  marketplace.Service
	invoices     invoices.Service
	company      company.Service
	operations   operations.Service
	registry     registry.Service
	// templates are the pages, parsed once per language.
	templates webTemplates
}

// New builds the portal. The templates are embedded: one that does not
// parse is a programming error, and New panics.
func New(d Deps) *Site {
	tmpl, err := parseTemplates(webFS)
	if err != nil {
		panic("web: " + err.Error())
	}
	return &Site{Store: d.Store, Forms: d.Forms, Now: d.Now, PortalURL: d.PortalURL,
		TemporalUIURL: d.TemporalUIURL, Namespace: d.Namespace, RetentionDays: d.RetentionDays, Demo: d.Demo,
		log: d.Log, api: d.Store.API(), core: d.Core, accounts: d.Accounts, casework: d.Casework, desk: d.Desk,
		teams: d.Teams, applications: d.Applications, vouchers: d.Vouchers, appointments: d.Appointments,
		marketplace: d.Marketplace, invoices: d.Invoices, company: d.Company, operations: d.Operations, registry: d.Registry, templates: tmpl}
}

// FieldError is one problem with one field of a request (app.FieldError).
type FieldError = app.FieldError

// invalid is a 422 with field problems.
func invalid(fields ...FieldError) error { return httpx.Invalid(fields...) }

// The marketplace's types under the names the pages use.
type (
	cartLine        = marketplace.CartLine
	checkoutRequest = marketplace.CheckoutInput
	pricing         = marketplace.Pricing
	serviceJSON     = marketplace.PricedService
	serviceBody     = marketplace.ServiceBody
)
