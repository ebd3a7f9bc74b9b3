package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/contract"
)

// This file lists every route of the JSON API with its authorization policy:
// who may call it and which records it reaches. The router is built from
// this table and nothing else (mountAPI), and TestAuthorizationMatrix walks
// every row of openapi.json against it for every role, on records of the
// caller's own place and of another one; a route without a row fails that
// test. The web pages have their own list in web/routes.go.

// access is how a route authenticates its caller.
type access int

const (
	// open: anyone, no session is read (health, login, activation).
	open access = iota
	// optional: anyone; a bearer token, when sent, must be valid and then
	// narrows or widens what is shown (the public catalogue).
	optional
	// session: a valid bearer token of one of the row's roles (401 without
	// one, 403 for another role).
	session
	// provider: the payment provider, proven by the HMAC signature of the
	// callback (payments.CallbackHandler); no user session.
	provider
)

// reach says which records a permitted caller reaches through the route.
// The store enforces it (row-level security and explicit scope checks); the
// authorization matrix test proves it on records of two places.
type reach int

const (
	// reachNone: the route reads or writes no record of a place by id or
	// list (forms, the caller's own session or profile, the cart).
	reachNone reach = iota
	// reachOwn: the route's {id} names a record of a place; a caller reaches
	// only their own place's: a citizen their own records, an operator their
	// municipality's, a supervisor their district's, a cooperative or a
	// merchant their own. Another place's record is 404 (or 403), never
	// shown or changed.
	reachOwn
	// reachList: the route lists records of places; the list holds only the
	// caller's own place's records.
	reachList
	// reachPublic: the route shows a public catalogue record (cooperatives,
	// services, Social Points): readable beyond the caller's own place.
	reachPublic
)

// apiRoute is one row of the policy table.
type apiRoute struct {
	method, path string // path in gin syntax, below /api/v1 unless it starts with "/healthz" or "/readyz"
	access       access
	roles        []contract.Role // session routes: the roles allowed (never empty)
	reach        reach
	handler      gin.HandlerFunc
}

// Role sets used by the table.
var (
	citizens     = []contract.Role{contract.RoleCitizen}
	operators    = []contract.Role{contract.RoleOperator}
	supervisors  = []contract.Role{contract.RoleSupervisor}
	merchants    = []contract.Role{contract.RoleMerchant}
	cooperatives = []contract.Role{contract.RoleCooperative}
	welfare      = []contract.Role{contract.RoleWelfareManager}
	// statementReaders read a company's statements: its welfare manager and the district's supervisors.
	statementReaders = []contract.Role{contract.RoleWelfareManager, contract.RoleSupervisor}
	staff            = []contract.Role{contract.RoleOperator, contract.RoleSupervisor}
	caseParties      = []contract.Role{contract.RoleCitizen, contract.RoleOperator, contract.RoleSupervisor}
	invoiceReader    = []contract.Role{contract.RoleCooperative, contract.RoleMerchant, contract.RoleSupervisor}
	everyRole        = []contract.Role{contract.RoleCitizen, contract.RoleOperator, contract.RoleSupervisor,
		contract.RoleMerchant, contract.RoleCooperative, contract.RoleCommerceManager, contract.RoleWelfareManager}
	// campaignManagers run the local campaigns: supervisors and the
	// Commerce District's manager.
	campaignManagers = []contract.Role{contract.RoleSupervisor, contract.RoleCommerceManager}
	campaignTakers   = []contract.Role{contract.RoleSupervisor, contract.RoleCommerceManager, contract.RoleMerchant}
)

// apiRoutes is the policy table of the JSON API.
func (s *server) apiRoutes() []apiRoute {
	h := s.handle
	return []apiRoute{
		// Health and the API's own description.
		{"GET", "/healthz", open, nil, reachNone, s.healthz},
		{"GET", "/readyz", open, nil, reachNone, s.readyz},
		{"GET", "/openapi.json", open, nil, reachNone, s.openAPI},

		// Sessions and the caller's profile (session.go, service_vouchers.go).
		{"POST", "/session", open, nil, reachNone, h(s.login)},
		{"DELETE", "/session", session, everyRole, reachNone, h(s.logout)},
		{"GET", "/me", session, everyRole, reachNone, h(s.me)},
		{"GET", "/me/isee", session, citizens, reachNone, h(s.getISEE)},
		// Password reset by e-mail (signin.go).
		{"POST", "/password-reset-requests", open, nil, reachNone, h(s.requestPasswordReset)},
		{"POST", "/password-resets", open, nil, reachNone, h(s.resetPassword)},
		{"PUT", "/me/isee", session, citizens, reachNone, h(s.putISEE)},

		// The citizen's download of their data, JSON or PDF (privacy.go).
		{"GET", "/me/export", session, citizens, reachNone, h(s.exportMyData)},
		// The retention schedule's recorded runs, for supervisors (privacy.go).
		{"GET", "/privacy/retention-runs", session, supervisors, reachNone, h(s.listRetentionRuns)},

		// Forms and applications (forms.go, applications.go).
		{"GET", "/forms", session, everyRole, reachNone, h(s.listForms)},
		{"GET", "/forms/:id", session, everyRole, reachNone, h(s.getForm)},
		{"POST", "/applications", session, citizens, reachNone, h(s.createApplication)},
		{"GET", "/applications", session, caseParties, reachList, h(s.listApplications)},
		{"GET", "/applications/:id", session, caseParties, reachOwn, h(s.getApplication)},
		{"GET", "/applications/:id/timeline", session, caseParties, reachOwn, h(readByID(s.applications.Timeline))},
		{"POST", "/applications/:id/information", session, citizens, reachOwn, h(jsonAction(s.applications.ProvideInfo))},

		// New calls without a release (calls.go): form versions and calls
		// of a supervisor's district; the open calls of a citizen's
		// municipality.
		{"GET", "/form-versions", session, supervisors, reachList, h(s.listFormVersions)},
		{"POST", "/form-versions", session, supervisors, reachNone, h(s.postFormVersion)},
		{"GET", "/form-versions/:form/:version", session, supervisors, reachOwn, h(s.getFormVersion)},
		{"PUT", "/form-versions/:form/:version", session, supervisors, reachOwn, h(s.putFormVersion)},
		{"POST", "/form-versions/:form/:version/publish", session, supervisors, reachOwn, h(s.publishFormVersion)},
		{"GET", "/calls", session, caseParties, reachList, h(s.listCalls)},
		{"POST", "/calls", session, supervisors, reachNone, h(s.postCall)},
		{"GET", "/calls/:id", session, caseParties, reachOwn, h(readByID(s.calls.Call))},
		{"PUT", "/calls/:id", session, supervisors, reachOwn, h(s.putCall)},
		{"POST", "/calls/:id/publish", session, supervisors, reachOwn, h(callStep(http.StatusAccepted, s.calls.PublishCall))},
		{"POST", "/calls/:id/publication/cancel", session, supervisors, reachOwn, h(callStep(http.StatusOK, s.calls.CancelPublication))},
		// The open calls of a district, for anyone: what they give, where
		// and until when, and where to apply (calls.go).
		{"GET", "/open-calls", optional, nil, reachPublic, h(s.listOpenCalls)},
		{"GET", "/open-calls/:id", optional, nil, reachPublic, h(s.getOpenCall)},

		// Review tasks (tasks.go, assign.go, bulk.go).
		{"GET", "/tasks", session, staff, reachList, h(s.listTasks)},
		{"GET", "/tasks/:id", session, staff, reachOwn, h(s.getTask)},
		{"POST", "/tasks/:id/claim", session, staff, reachOwn, h(s.claimTask)},
		{"POST", "/tasks/:id/release", session, staff, reachOwn, h(s.releaseTask)},
		{"POST", "/tasks/:id/assign", session, supervisors, reachOwn, h(s.assignTask)},
		{"POST", "/tasks/:id/decision", session, staff, reachOwn, h(s.decideTask)},
		{"POST", "/tasks/bulk", session, staff, reachNone, h(s.bulkTasks)},

		// Vouchers and redemptions (vouchers.go).
		{"GET", "/vouchers", session, caseParties, reachList, h(s.listVouchers)},
		{"GET", "/vouchers/:id", session, caseParties, reachOwn, h(readByID(s.vouchers.Voucher))},
		{"POST", "/redemptions", session, merchants, reachNone, h(s.redeem)},
		{"GET", "/redemptions", session, merchants, reachList, h(s.listRedemptions)},

		// Funds, audit and office calendars (vouchers.go, audit.go, office_calendar.go).
		{"GET", "/funds", session, staff, reachList, h(s.listFunds)},
		{"GET", "/audit", session, supervisors, reachList, h(s.auditLog)},
		{"GET", "/municipalities/:id/calendar", session, supervisors, reachOwn, h(readByID(s.teams.OfficeCalendar))},
		{"PUT", "/municipalities/:id/calendar", session, supervisors, reachOwn, h(s.putOfficeCalendar)},

		// The Social Point's desk (desk.go, desk_trust.go).
		{"POST", "/activation", open, nil, reachNone, h(s.activateAccount)},
		{"POST", "/citizens", session, operators, reachNone, h(s.createCitizen)},
		{"GET", "/citizens/:id", session, operators, reachOwn, h(readByID(s.desk.Citizen))},
		{"POST", "/citizens/:id/activation-code", session, operators, reachOwn, h(s.reissueCitizenCode)},
		{"POST", "/citizens/:id/applications", session, operators, reachOwn, h(s.createApplicationOnBehalf)},
		{"GET", "/contact-tasks", session, staff, reachList, h(s.listContactTasks)},
		{"POST", "/contact-tasks/:id/outcome", session, staff, reachOwn, h(s.recordContactOutcome)},
		{"GET", "/district/desk-sharing", session, supervisors, reachNone, h(s.getDeskSharing)},
		{"PUT", "/district/desk-sharing", session, supervisors, reachNone, h(s.putDeskSharing)},
		{"GET", "/recoveries", session, supervisors, reachList, h(s.listRecoveries)},
		{"POST", "/recoveries/:id/decision", session, supervisors, reachOwn, h(s.postRecoveryDecision)},

		// Absences and teams (absences.go, team_admin.go).
		{"GET", "/absences", session, staff, reachList, h(s.listAbsences)},
		{"POST", "/absences", session, staff, reachNone, h(s.createAbsence)},
		{"POST", "/absences/:id/cancel", session, staff, reachOwn, h(s.cancelAbsence)},
		{"GET", "/teams", session, supervisors, reachList, h(s.listTeams)},
		{"POST", "/teams", session, supervisors, reachNone, h(s.postTeam)},
		{"GET", "/teams/:id", session, supervisors, reachOwn, h(readByID(s.teams.Team))},
		{"PATCH", "/teams/:id", session, supervisors, reachOwn, h(s.patchTeam)},
		{"POST", "/teams/:id/members", session, supervisors, reachOwn, h(s.postTeamMember)},
		{"DELETE", "/teams/:id/members/:username", session, supervisors, reachOwn, h(s.deleteTeamMember)},
		{"GET", "/fund-reviews", session, supervisors, reachList, h(s.listFundReviews)},
		{"PUT", "/funds/:id/review", session, supervisors, reachOwn, h(s.putFundReview)},
		{"GET", "/incidents", session, supervisors, reachList, h(s.listIncidents)},

		// The operations console (operations.go): journeys that need a human.
		{"GET", "/operations", session, supervisors, reachList, h(s.listOperations)},
		{"POST", "/operations/retry", session, supervisors, reachNone, h(opsAction(s.operations.RetryNow))},
		{"POST", "/operations/cancel", session, supervisors, reachNone, h(opsAction(s.operations.Cancel))},
		{"POST", "/operations/refunds", session, supervisors, reachNone, h(opsAction(s.operations.RequestRefundResolution))},
		{"POST", "/operations/refunds/approve", session, supervisors, reachNone, h(opsAction(s.operations.ApproveRefundResolution))},
		// The population registry (registry.go).
		{"POST", "/registry/imports", session, staff, reachNone, h(s.importRegistry)},
		{"GET", "/registry/imports", session, staff, reachList, h(s.listRegistryImports)},

		// The shops where a food voucher can be spent, for anyone (shops.go).
		{"GET", "/shops", open, nil, reachPublic, h(s.listShops)},

		// Local campaigns (campaigns.go): anyone reads the published ones and
		// their shops; managers run them, merchants join and record purchases.
		{"GET", "/campaigns", optional, nil, reachPublic, h(s.listCampaigns)},
		{"GET", "/campaigns/:id", optional, nil, reachPublic, h(s.getCampaign)},
		{"POST", "/campaigns", session, campaignManagers, reachNone, h(s.createCampaign)},
		{"POST", "/campaigns/:id/publish", session, campaignManagers, reachOwn, h(s.campaignTransition(true))},
		{"POST", "/campaigns/:id/close", session, campaignManagers, reachOwn, h(s.campaignTransition(false))},
		{"GET", "/campaigns/:id/credits", session, campaignManagers, reachOwn, h(s.listCampaignCredits)},
		{"POST", "/campaigns/:id/applications", session, merchants, reachOwn, h(s.applyToCampaign)},
		{"GET", "/campaign-applications", session, campaignTakers, reachList, h(s.listCampaignApplications)},
		{"POST", "/campaign-applications/:id/decision", session, campaignManagers, reachOwn, h(s.decideCampaignApplication)},
		{"POST", "/campaign-purchases", session, merchants, reachNone, h(s.recordCampaignPurchase)},
		// The district's public information pages and news, for anyone; their
		// editor, for the district's supervisors (infopages.go).
		{"GET", "/info-pages", optional, nil, reachPublic, h(s.listInfoPages)},
		{"GET", "/info-pages/:slug", optional, nil, reachPublic, h(s.getInfoPage)},
		{"GET", "/news", optional, nil, reachPublic, h(s.listNews)},
		{"GET", "/editor/info-pages", session, supervisors, reachList, h(s.listEditorPages)},
		{"PUT", "/editor/info-pages/:slug", session, supervisors, reachNone, h(s.putEditorPage)},
		{"GET", "/editor/news", session, supervisors, reachList, h(s.listEditorNews)},
		{"POST", "/editor/news", session, supervisors, reachNone, h(s.saveEditorNews)},
		{"PUT", "/editor/news/:id", session, supervisors, reachOwn, h(s.saveEditorNews)},

		// Social Points and appointments (appointments.go).
		{"GET", "/social-points", open, nil, reachPublic, h(s.listSocialPoints)},
		{"GET", "/social-points/:id/slots", open, nil, reachPublic, h(s.listSlots)},
		// A point's hours: the welfare manager of the company hosting it, the
		// district's supervisors (company.go).
		{"PUT", "/social-points/:id/hours", session, statementReaders, reachOwn, h(s.setPointHours)},
		{"POST", "/appointments", session, citizens, reachNone, h(s.createAppointment)},
		{"GET", "/appointments", session, caseParties, reachList, h(s.listAppointments)},
		{"GET", "/appointments/:id", session, caseParties, reachOwn, h(readByID(s.appointments.Appointment))},
		{"POST", "/appointments/:id/cancel", session, caseParties, reachOwn, h(jsonAction(s.appointments.Cancel))},
		{"POST", "/appointments/:id/attendance", session, staff, reachOwn, h(jsonAction(s.appointments.RecordAttendance))},

		// The catalogue (catalogue.go).
		{"GET", "/cooperatives", optional, nil, reachPublic, h(s.listCooperatives)},
		{"GET", "/cooperatives/:id", optional, nil, reachPublic, h(readByID(s.marketplace.Cooperative))},
		{"GET", "/services", optional, nil, reachPublic, h(s.listServices)},
		{"GET", "/services/:id", optional, nil, reachPublic, h(s.getService)},
		{"POST", "/services", session, cooperatives, reachNone, h(s.createService)},
		{"PUT", "/services/:id", session, cooperatives, reachOwn, h(s.updateService)},
		{"POST", "/services/:id/publish", session, cooperatives, reachOwn, h(s.publishService(true))},
		{"POST", "/services/:id/unpublish", session, cooperatives, reachOwn, h(s.publishService(false))},

		// The cart, bookings and payments (checkout.go, payments_callback.go).
		{"GET", "/cart", session, citizens, reachNone, h(s.getCart)},
		{"POST", "/cart/items", session, citizens, reachNone, h(s.postCartItem)},
		{"PUT", "/cart/items/:service_id", session, citizens, reachNone, h(s.putCartItem)},
		{"DELETE", "/cart/items/:service_id", session, citizens, reachNone, h(s.deleteCartItem)},
		{"POST", "/bookings", session, citizens, reachNone, h(s.postBooking)},
		// The split a funders checkout of the caller's own cart item would make (reads only, moves no money).
		{"POST", "/bookings/split-preview", session, citizens, reachNone, h(create(http.StatusOK, s.marketplace.PreviewSplit))},
		{"GET", "/bookings", session, citizens, reachList, h(s.listBookings)},
		{"GET", "/bookings/:id", session, citizens, reachOwn, h(s.getBooking)},
		{"POST", "/bookings/:id/cancel", session, citizens, reachOwn, h(s.cancelBookingJSON)},
		{"POST", "/bookings/:id/confirm-delivery", session, citizens, reachOwn, h(s.confirmDeliveryJSON)},
		{"POST", "/payments/callback", provider, nil, reachNone, s.paymentsCallback()},

		// Billing (billing.go).
		{"GET", "/invoices", session, invoiceReader, reachList, h(s.listInvoices)},
		{"GET", "/invoices/:id", session, invoiceReader, reachOwn, h(s.getInvoice)},
		{"GET", "/invoices/:id/pdf", session, invoiceReader, reachOwn, h(s.invoicePDF)},
		{"POST", "/invoices/:id/declaration", session, merchants, reachOwn, h(s.declareClaim)},

		// The cooperative's bookings (coop_bookings.go).
		{"GET", "/coop/bookings", session, cooperatives, reachList, h(s.listCoopBookings)},
		{"GET", "/coop/bookings/:id", session, cooperatives, reachOwn, h(readByID(s.marketplace.CoopBooking))},
		{"POST", "/coop/bookings/:id/respond", session, cooperatives, reachOwn, h(jsonAction(s.respondBooking))},
		{"POST", "/coop/bookings/:id/deliveries", session, cooperatives, reachOwn, h(jsonAction(s.recordDelivery))},
		{"GET", "/coop/deliveries", session, cooperatives, reachList, h(s.listCoopDeliveries)},

		// Company welfare (company.go): the welfare manager's own company (row-level
		// security reaches no other), an employee's own credit, the district's
		// companies in aggregate for its supervisors.
		{"GET", "/company", session, welfare, reachNone, h(readMine(s.company.Overview))},
		{"GET", "/company/employees", session, welfare, reachList, h(readMine(s.company.Employees))},
		{"POST", "/company/employees", session, welfare, reachNone, h(create(http.StatusCreated, s.company.Enrol))},
		{"POST", "/company/employees/import", session, welfare, reachNone, h(s.importEmployees)},
		{"POST", "/company/employees/withdrawal", session, welfare, reachNone, h(create(http.StatusOK, s.company.Withdraw))},
		{"GET", "/company/spending", session, welfare, reachNone, h(readMine(s.company.Spending))},
		{"GET", "/company/top-ups", session, welfare, reachList, h(readMine(s.company.TopUps))},
		{"POST", "/company/top-ups", session, welfare, reachNone, h(create(http.StatusCreated, s.company.RequestTopUp))},
		{"POST", "/company/top-ups/:id/confirmation", session, welfare, reachOwn, h(s.confirmTopUp)},
		{"GET", "/me/company-credits", session, citizens, reachNone, h(readMine(s.company.MyCredits))},
		{"GET", "/companies", session, supervisors, reachList, h(readMine(s.company.Aggregates))},
		// A company's monthly statements and invoices (company.go): its welfare
		// manager and the district's supervisors.
		{"GET", "/companies/:id/statements", session, statementReaders, reachOwn, h(s.listStatements)},
		{"POST", "/companies/:id/statements", session, statementReaders, reachOwn, h(s.issueStatement)},
		{"GET", "/companies/:id/statements/:month", session, statementReaders, reachOwn, h(s.getStatement)},
		{"GET", "/companies/:id/statements/:month/csv", session, statementReaders, reachOwn, h(s.statementCSV)},
		{"GET", "/companies/:id/statements/:month/pdf", session, statementReaders, reachOwn, h(s.statementPDF)},

		// The dashboard (dashboard.go): a supervisor's district, an operator's municipality.
		{"GET", "/dashboard", session, staff, reachList, h(s.getDashboard)},
		{"GET", "/dashboard.csv", session, staff, reachList, h(s.getDashboardCSV)},
	}
}

// apiPrefix is where the JSON API lives; health endpoints sit at the root.
const apiPrefix = "/api/v1"

// fullPath is the route's path as served.
func (r apiRoute) fullPath() string {
	if r.path == "/healthz" || r.path == "/readyz" {
		return r.path
	}
	return apiPrefix + r.path
}

// mountAPI adds every row of the policy table to the engine, each with the
// authentication its access needs and, for session routes, its role check.
func (s *server) mountAPI(e *gin.Engine) {
	for _, rt := range s.apiRoutes() {
		var chain []gin.HandlerFunc
		switch rt.access {
		case optional:
			chain = append(chain, s.optionalAuth)
		case session:
			if len(rt.roles) == 0 {
				panic("api: session route without roles: " + rt.method + " " + rt.path)
			}
			chain = append(chain, s.authenticate, s.roles(rt.roles...))
		case open, provider:
		}
		chain = append(chain, rt.handler)
		e.Handle(rt.method, rt.fullPath(), chain...)
	}
}

// allows reports whether the row lets role through its role check.
func (r apiRoute) allows(role contract.Role) bool {
	if r.access != session {
		return true
	}
	for _, x := range r.roles {
		if x == role {
			return true
		}
	}
	return false
}

// noRoute answers an unknown URL: the 404 page for a page path, the JSON
// error otherwise.
func (s *server) noRoute(c *gin.Context) {
	if httpx.IsPagePath(c.Request.URL.Path) {
		s.site.NotFound(c)
		return
	}
	s.fail(c, httpx.NotFound("route"))
}

// noMethod answers a known URL called with another method.
func (s *server) noMethod(c *gin.Context) {
	if httpx.IsPagePath(c.Request.URL.Path) {
		s.site.MethodNotAllowed(c)
		return
	}
	s.fail(c, httpx.New(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this resource"))
}
