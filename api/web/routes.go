package web

import (
	"net/http"
	"path"
	"slices"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/contract"
)

// Roles of the platform's users.
const (
	roleCitizen     = string(contract.RoleCitizen)
	roleOperator    = string(contract.RoleOperator)
	roleSupervisor  = string(contract.RoleSupervisor)
	roleMerchant    = string(contract.RoleMerchant)
	roleCooperative = string(contract.RoleCooperative)
)

// pageRouter holds the route groups of the web portal, which already carry
// the page security headers, the session, and cross-origin protection on
// every state-changing method.
type pageRouter struct {
	s *Site
	// Public routes: anyone; the user is loaded when logged in.
	Public *pageGroup
	// Authed routes: a logged-in user (others go to /login?next=...).
	Authed *pageGroup
	// policy is every page registered through the groups, with who may open it.
	policy []PageRule
}

// Role returns a group of Authed limited to the given roles (403 page for
// the others).
func (p *pageRouter) Role(roles ...string) *pageGroup {
	return &pageGroup{g: p.Authed.g.Group("", p.s.pageRoles(roles...)), access: AccessRoles, roles: roles, policy: &p.policy}
}

// Who may open a page.
const (
	AccessPublic = "public" // anyone, signed in or not
	AccessLogin  = "login"  // any signed-in user (the page decides per record)
	AccessRoles  = "roles"  // signed-in users of the rule's roles; 403 for the others
)

// PageRule is one row of the portal's authorization policy: a page and who
// may open it. The rows come from Mount's groups, so a page cannot be added
// without one; api's policy test opens every page as every role.
type PageRule struct {
	Method, Path string
	Access       string
	Roles        []string // for AccessRoles
}

// PagePolicy is the portal's authorization policy, one row per page, in the
// order Mount registers them. Mount must have run.
func (s *Site) PagePolicy() []PageRule { return slices.Clone(s.pagePolicy) }

// pageGroup is a gin route group that records each page it registers, with
// its access, in the policy.
type pageGroup struct {
	g      *gin.RouterGroup
	access string
	roles  []string
	policy *[]PageRule
}

func (g *pageGroup) GET(path string, h ...gin.HandlerFunc)  { g.handle(http.MethodGet, path, h) }
func (g *pageGroup) POST(path string, h ...gin.HandlerFunc) { g.handle(http.MethodPost, path, h) }

// Group is a sub-group with the same access and more handlers.
func (g *pageGroup) Group(path string, h ...gin.HandlerFunc) *pageGroup {
	return &pageGroup{g: g.g.Group(path, h...), access: g.access, roles: g.roles, policy: g.policy}
}

func (g *pageGroup) handle(method, rel string, h []gin.HandlerFunc) {
	g.g.Handle(method, rel, h...)
	full := g.g.BasePath()
	if rel != "" {
		full = path.Join(full, rel)
	}
	*g.policy = append(*g.policy, PageRule{Method: method, Path: full, Access: g.access, Roles: g.roles})
}

// Mount adds the web portal to the engine: this is the one list of its
// pages, grouped by who may open them. Every group below Public already
// requires a login; p.Role narrows it to roles (403 page for the others).
// The JSON API's routes are in api/routes.go.
func (s *Site) Mount(r *gin.Engine) {
	r.GET("/static/*filepath", serveStatic())
	r.HEAD("/static/*filepath", serveStatic())

	p := &pageRouter{s: s}
	pub := &pageGroup{g: r.Group("", pageHeaders, s.crossOrigin(), s.pageSession, s.formHygiene),
		access: AccessPublic, policy: &p.policy}
	p.Public = pub
	p.Authed = &pageGroup{g: pub.g.Group("", s.requireLogin), access: AccessLogin, policy: &p.policy}
	defer func() { s.pagePolicy = p.policy }()

	// Anyone: home, login, language, account activation, the public catalogue.
	pub.GET("/", s.page(s.homePage))
	pub.GET("/login", s.loginPage)
	pub.POST("/login", s.page(s.loginSubmit))
	pub.POST("/logout", s.page(s.logoutSubmit))
	pub.GET("/lang/:code", s.setLang)
	pub.POST("/lang/:code", s.setLang)
	pub.GET("/attiva", s.page(s.activatePage))
	pub.POST("/attiva", s.page(s.activateSubmit))
	pub.GET("/services", s.page(s.servicesPage))
	pub.GET("/services/:id", s.page(s.servicePage))
	pub.GET("/cooperatives", s.page(s.cooperativesPage))
	pub.GET("/cooperatives/:id", s.page(s.cooperativePage))
	pub.GET("/social-points", s.page(s.pointsPage))
	pub.GET("/shops", s.page(s.shopsPage))             // shops.go: where a food voucher can be spent
	pub.GET("/campaigns", s.page(s.campaignsPage))     // campaigns.go: local shopping campaigns
	pub.GET("/campaigns/:id", s.page(s.campaignPage))  // a campaign's participating shops
	pub.GET("/open-calls", s.page(s.openCallsPage))    // open_calls.go: the district's open calls
	pub.GET("/open-calls/:id", s.page(s.openCallPage)) // one open call, with the link to apply
	pub.GET("/privacy", s.page(s.privacyNoticePage))   // privacy.go
	// The district's public information and news (infopages.go).
	pub.GET("/informazioni", s.page(s.infoIndexPage))
	pub.GET("/informazioni/:slug", s.page(s.infoPage))
	pub.GET("/notizie", s.page(s.infoNewsPage))
	// Sign-in with SPID/CIE and the password reset by e-mail (signin.go).
	pub.GET("/login/spid", s.page(s.signInStart))
	pub.GET(signInPath, s.page(s.signInCallback))
	pub.GET("/password/forgot", s.page(s.forgotPage))
	pub.POST("/password/forgot", s.page(s.forgotSubmit))
	pub.GET("/password/reset", s.page(s.resetPage))
	pub.POST("/password/reset", s.page(s.resetSubmit))

	// A case: its citizen, or the staff who may see it (citizen.go, staff_case.go).
	p.Role(roleCitizen, roleOperator, roleSupervisor).GET("/cases/:id", s.page(s.casePage))

	// Citizens: profile, applications, vouchers, cart, bookings, appointments
	// (citizen.go, apply.go, checkout.go, points.go).
	cz := p.Role(roleCitizen)
	cz.GET("/me", s.page(s.mePage))
	cz.GET("/me/export.json", s.page(s.myDataJSON)) // privacy.go
	cz.GET("/me/export.pdf", s.page(s.myDataPDF))
	cz.POST("/me/isee", s.page(s.meISEESubmit))
	cz.GET("/apply/:form", s.page(s.applyPrivacy))
	cz.GET("/apply/:form/data", s.page(s.applyDataPage))
	cz.POST("/apply/:form/data", s.page(s.applyDataSubmit))
	cz.POST("/apply/:form/summary", s.page(s.applySummarySubmit))
	cz.POST("/cases/:id/reply", s.page(s.caseReplySubmit))
	cz.GET("/vouchers/:id", s.page(s.voucherPage))
	cz.GET("/vouchers/:id/qr.png", s.page(s.voucherQR))
	cz.GET("/vouchers/:id/pdf", s.page(s.voucherPDF))
	cz.GET("/cart", s.page(s.cartPage))
	cz.POST("/cart/items", s.page(s.cartAddSubmit))
	cz.POST("/cart/items/:service_id/quantity", s.page(s.cartQuantitySubmit))
	cz.POST("/cart/items/:service_id/remove", s.page(s.cartRemoveSubmit))
	cz.GET("/cart/items/:service_id/checkout", s.page(s.checkoutPage))
	cz.POST("/cart/items/:service_id/checkout", s.page(s.checkoutSubmit))
	cz.GET("/bookings", s.page(s.bookingsPage))
	cz.GET("/bookings/:id", s.page(s.bookingPage))
	cz.GET("/bookings/:id/pay", s.page(s.payPage))
	cz.GET("/bookings/:id/pay/status", s.page(s.payStatus))
	cz.GET("/bookings/:id/return", s.page(s.payReturnPage))
	cz.POST("/bookings/:id/cancel", s.page(s.bookingCancelSubmit))
	cz.POST("/bookings/:id/confirm", s.page(s.bookingConfirmSubmit))
	cz.GET("/social-points/:id/book", s.page(s.bookPage))
	cz.POST("/social-points/:id/book", s.page(s.bookSubmit))
	cz.GET("/appointments", s.page(s.myAppointmentsPage))

	// An appointment: its citizen or the staff (points.go).
	parties := p.Role(roleCitizen, roleOperator, roleSupervisor)
	parties.GET("/appointments/:id", s.page(s.appointmentPage))
	parties.POST("/appointments/:id/cancel", s.page(s.cancelSubmit))

	// Staff (operators and supervisors): the inbox and review, search, funds,
	// absences, contacts, the agenda (staff.go, bulk.go, absences.go,
	// desk.go, points.go).
	staff := p.Role(roleOperator, roleSupervisor)
	staff.GET("/inbox", s.page(s.inboxPage))
	staff.POST("/inbox/bulk", s.page(s.bulkSubmit))
	staff.POST("/tasks/:id/claim", s.page(s.claimSubmit))
	staff.POST("/tasks/:id/release", s.page(s.releaseSubmit))
	staff.POST("/tasks/:id/decision", s.page(s.decisionSubmit))
	staff.GET("/search", s.page(s.searchPage))
	staff.GET("/funds", s.page(s.fundsPage))
	staff.GET("/absences", s.page(s.absencesPage))
	staff.POST("/absences", s.page(s.absenceSubmit))
	staff.POST("/absences/:id/cancel", s.page(s.absenceCancelSubmit))
	staff.GET("/desk/contacts", s.page(s.contactsPage))
	staff.POST("/desk/contacts/:id/outcome", s.page(s.contactOutcomeSubmit))
	staff.POST("/appointments/:id/attendance", s.page(s.attendanceSubmit))
	staff.GET("/agenda", s.page(s.agendaPage))
	// The dashboard (dashboard.go): a supervisor's district, an operator's municipality.
	staff.GET("/dashboard", s.page(s.dashboardPage))
	staff.GET("/dashboard/export.csv", s.page(s.dashboardCSV))
	// Printing for a citizen without e-mail (staff_print.go, issue 16): the
	// case's voucher and the letter that carries it, audited.
	staff.GET("/cases/:id/voucher.pdf", s.page(s.staffVoucherPDF))
	staff.GET("/cases/:id/letter.pdf", s.page(s.staffLetterPDF))

	// Staff: the population registry import (registry.go); an operator
	// imports their municipality's extract, a supervisor their district's.
	staff.GET("/registry", s.page(s.registryPage))
	staff.POST("/registry/preview", s.page(s.registryPreviewSubmit))
	staff.POST("/registry/imports/:id/confirm", s.page(s.registryConfirmSubmit))

	// Operators: the Social Point's desk (desk.go).
	op := p.Role(roleOperator)
	op.GET("/desk", s.page(s.deskHomePage))
	op.GET("/desk/register", s.page(s.deskRegisterPage))
	op.POST("/desk/register", s.page(s.deskRegisterSubmit))
	cit := op.Group("/desk/citizens/:citizen", s.withDeskCitizen)
	cit.GET("", s.page(s.deskCitizenPage))
	cit.POST("/code", s.page(s.deskReissueSubmit))
	cit.GET("/apply/:form", s.page(s.applyPrivacy))
	cit.GET("/apply/:form/data", s.page(s.applyDataPage))
	cit.POST("/apply/:form/data", s.page(s.applyDataSubmit))
	cit.POST("/apply/:form/summary", s.page(s.applySummarySubmit))

	// Supervisors: assignment, teams, calendars, audit, incidents, recoveries
	// (staff.go, team_admin.go, office_calendar.go, audit.go,
	// incidents.go, desk.go).
	sup := p.Role(roleSupervisor)
	sup.POST("/tasks/:id/assign", s.page(s.assignSubmit))
	sup.GET("/teams", s.page(s.teamsPage))
	sup.POST("/teams", s.page(s.teamCreateSubmit))
	sup.POST("/teams/:id/members", s.page(s.teamMemberAddSubmit))
	sup.POST("/teams/:id/members/:username/remove", s.page(s.teamMemberRemoveSubmit))
	sup.POST("/teams/:id/auto-assign", s.page(s.teamAutoAssignSubmit))
	sup.POST("/fund-reviews/:id", s.page(s.fundReviewSubmit))
	// New calls without a release (calls.go).
	sup.GET("/calls", s.page(s.callsPage))
	sup.GET("/calls/new", s.page(s.callNewPage))
	sup.POST("/calls", s.page(s.callCreateSubmit))
	sup.GET("/calls/:id", s.page(s.callPage))
	sup.POST("/calls/:id", s.page(s.callUpdateSubmit))
	sup.POST("/calls/:id/publish", s.page(s.callPublishSubmit))
	sup.POST("/calls/:id/publication/cancel", s.page(s.callCancelPublicationSubmit))
	sup.POST("/form-versions", s.page(s.formVersionUploadSubmit))
	sup.GET("/form-versions/:form/:version", s.page(s.formVersionPage))
	sup.POST("/form-versions/:form/:version", s.page(s.formVersionSaveSubmit))
	sup.POST("/form-versions/:form/:version/publish", s.page(s.formVersionPublishSubmit))
	sup.GET("/calendar", s.page(s.officeCalendarsPage))
	sup.GET("/calendar/:id", s.page(s.officeCalendarEditPage))
	sup.POST("/calendar/:id", s.page(s.officeCalendarSubmit))
	sup.GET("/audit", s.page(s.auditPage))
	sup.GET("/incidents", s.page(s.incidentsPage))
	// The operations console (operations.go).
	sup.GET("/operations", s.page(s.operationsPage))
	sup.POST("/operations/retry", s.page(s.opsRetrySubmit))
	sup.POST("/operations/cancel", s.page(s.opsCancelSubmit))
	sup.POST("/operations/refunds", s.page(s.opsRefundSubmit))
	sup.POST("/operations/refunds/approve", s.page(s.opsApproveSubmit))
	// The retention schedule's recorded runs (privacy.go).
	sup.GET("/privacy/retention", s.page(s.retentionPage))
	sup.GET("/desk/recoveries", s.page(s.recoveriesPage))
	sup.POST("/desk/recoveries/:id/decision", s.page(s.recoveryDecisionSubmit))
	sup.POST("/desk/sharing", s.page(s.deskSharingSubmit))
	// The editor of the public information and news (infopages.go).
	sup.GET("/info-pages", s.page(s.infoEditorPage))
	sup.GET("/info-pages/:slug/:lang", s.page(s.infoEditPage))
	sup.POST("/info-pages/:slug/:lang", s.page(s.infoEditSubmit))
	sup.GET("/info-news/:id", s.page(s.infoNewsEditPage))
	sup.POST("/info-news/:id", s.page(s.infoNewsEditSubmit))

	// Welfare managers: their company's plan (company.go).
	wm := p.Role(string(contract.RoleWelfareManager))
	wm.GET("/azienda", s.page(s.companyPage))
	wm.POST("/azienda/employees", s.page(s.companyEnrolSubmit))
	wm.POST("/azienda/employees/import", s.page(s.companyImportSubmit))
	wm.POST("/azienda/top-ups", s.page(s.companyTopUpSubmit))
	wm.GET("/azienda/top-ups/:id/pay", s.page(s.companyPayPage))
	wm.POST("/azienda/top-ups/:id/confirmation", s.page(s.companyTopUpConfirmSubmit))
	wm.POST("/azienda/employees/withdrawal", s.page(s.companyWithdrawSubmit)) // company_manage.go
	// A company's statements: its welfare manager and the district's supervisors.
	sup.GET("/companies", s.page(s.companiesPage))
	st := p.Role(string(contract.RoleWelfareManager), roleSupervisor)
	st.GET("/companies/:id/statements", s.page(s.statementsPage))
	st.POST("/companies/:id/statements", s.page(s.statementIssueSubmit))
	st.GET("/companies/:id/statements/:month", s.page(s.statementPage))
	st.GET("/companies/:id/statements/:month/csv", s.page(s.statementCSVPage))
	st.GET("/companies/:id/statements/:month/pdf", s.page(s.statementPDFPage))
	// A Social Point's hours: the welfare manager of the hosting company and
	// the district's supervisors, as the API's row (company_manage.go).
	st.GET("/social-points/:id/hours", s.page(s.pointHoursPage))
	st.POST("/social-points/:id/hours", s.page(s.pointHoursSubmit))

	// Campaign managers: supervisors and the Commerce District's manager
	// (campaign_manage.go).
	cm := p.Role(roleSupervisor, string(contract.RoleCommerceManager))
	cm.GET(manageCampaigns, s.page(s.manageCampaignsPage))
	cm.GET(manageCampaigns+"/new", s.page(s.manageNewPage))
	cm.POST(manageCampaigns+"/new", s.page(s.manageNewSubmit))
	cm.GET(manageCampaigns+"/:id", s.page(s.manageCampaignPage))
	cm.POST(manageCampaigns+"/:id/publish", s.page(s.manageTransitionSubmit(true)))
	cm.POST(manageCampaigns+"/:id/close", s.page(s.manageTransitionSubmit(false)))
	cm.POST("/manage/applications/:id/decision", s.page(s.manageDecisionSubmit))

	// Merchants: the till (staff_till.go).
	mer := p.Role(roleMerchant)
	mer.GET("/till", s.page(s.tillPage))
	mer.POST("/till", s.page(s.tillSubmit))
	mer.GET("/till/campaign", s.page(s.campaignTillPage)) // campaign_till.go: a purchase in a local campaign
	mer.POST("/till/campaign", s.page(s.campaignTillSubmit))
	mer.POST("/campaigns/:id/apply", s.page(s.campaignApplySubmit)) // campaigns.go: a shop applies to join

	// Invoices: cooperatives, merchants and supervisors (billing.go).
	inv := p.Role(roleCooperative, roleMerchant, roleSupervisor)
	inv.GET("/invoices", s.page(s.invoicesPage))
	inv.GET("/invoices/:id", s.page(s.invoicePage))
	inv.GET("/invoices/:id/pdf", s.page(s.invoicePDFPage))
	mer.POST("/invoices/:id/declaration", s.page(s.declarationSubmit))

	// Cooperatives: their catalogue and bookings (catalogue.go, coop_bookings.go).
	coop := p.Role(roleCooperative)
	coop.GET("/our-catalogue", s.page(s.ourCataloguePage))
	coop.GET("/our-catalogue/new", s.page(s.serviceFormPage))
	coop.POST("/our-catalogue/new", s.page(s.serviceFormSubmit))
	coop.GET("/our-catalogue/:id", s.page(s.serviceFormPage))
	coop.POST("/our-catalogue/:id", s.page(s.serviceFormSubmit))
	coop.POST("/our-catalogue/:id/publish", s.page(s.servicePublishSubmit(true)))
	coop.POST("/our-catalogue/:id/unpublish", s.page(s.servicePublishSubmit(false)))
	coop.GET("/coop/bookings", s.page(s.coopInboxPage))
	coop.GET("/coop/bookings/:id", s.page(s.coopBookingPage))
	coop.POST("/coop/bookings/:id/accept", s.page(s.coopAcceptSubmit))
	coop.POST("/coop/bookings/:id/decline", s.page(s.coopDeclineSubmit))
	coop.POST("/coop/bookings/:id/deliveries", s.page(s.coopDeliverySubmit))
	coop.GET("/coop/deliveries", s.page(s.coopDeliveriesPage))
}

// casePage is /cases/:id: the citizen's view for the applicant, the staff's
// review view for operators and supervisors.
func (s *Site) casePage(c *gin.Context) error {
	switch httpx.CurrentUser(c).Role {
	case roleCitizen:
		return s.citizenCasePage(c)
	case roleOperator, roleSupervisor:
		return s.staffCase(c, http.StatusOK, c.Param("id"), nil)
	}
	return httpx.ErrForbiddenRole
}

// NotFound answers an unknown page URL: the 404 page, with the user
// loaded when logged in.
func (s *Site) NotFound(c *gin.Context) {
	pageHeaders(c)
	s.pageSession(c)
	if c.IsAborted() {
		return
	}
	s.pageError(c, http.StatusNotFound)
}

// MethodNotAllowed answers a page URL called with another method.
func (s *Site) MethodNotAllowed(c *gin.Context) {
	pageHeaders(c)
	s.pageError(c, http.StatusMethodNotAllowed)
}

// Error renders the error page for status and aborts the chain.
func (s *Site) Error(c *gin.Context, status int) { s.pageError(c, status) }

// Fail maps err (httpx.From) and renders its error page.
func (s *Site) Fail(c *gin.Context, err error) { s.pageFail(c, err) }

// Invalid renders the 422 page listing fields and aborts the chain.
func (s *Site) Invalid(c *gin.Context, fields []FieldError) { s.pageInvalid(c, fields) }

// SetHeaders sets the security headers of pages on h.
func SetHeaders(h http.Header) { setPageHeaders(h) }

// homeData is the home page's data.
type homeData struct {
	Calls []callView
	Areas []crumb // the staff's work areas
}

// callView is an open call (a form) on the home page.
type callView struct {
	ID, Title, Description string
}

func (s *Site) homePage(c *gin.Context) error {
	lang := pageLang(c)
	var d homeData
	for _, f := range s.Forms.List() {
		cv := callView{ID: f.ID, Title: f.Title, Description: f.Description}
		if lang == langEN {
			cv.Title, cv.Description = f.TitleEN, f.DescriptionEN
		}
		d.Calls = append(d.Calls, cv)
	}
	switch httpx.CurrentUser(c).Role {
	case roleOperator:
		d.Areas = []crumb{{"/inbox", s.t(c, "nav.inbox")}, {"/funds", s.t(c, "nav.funds")}}
	case roleSupervisor:
		d.Areas = []crumb{{"/search", s.t(c, "nav.search")}, {"/funds", s.t(c, "nav.funds")}, {"/inbox", s.t(c, "nav.inbox")},
			{manageCampaigns, s.t(c, "cmanage.title")}}
	case roleMerchant:
		d.Areas = []crumb{{"/till", s.t(c, "nav.till")}, {"/till/campaign", s.t(c, "ctill.title")}}
	case string(contract.RoleCommerceManager):
		d.Areas = []crumb{{manageCampaigns, s.t(c, "cmanage.title")}, {"/campaigns", s.t(c, "campaigns.title")}}
	}
	s.render(c, http.StatusOK, "home", view{Title: s.t(c, "home.title"), Nav: "home", Data: d})
	return nil
}
