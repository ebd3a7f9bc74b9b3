package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Roles of the platform's users.
const (
	roleCitizen    = "citizen"
	roleOperator   = "operator"
	roleSupervisor = "supervisor"
	roleMerchant   = "merchant"
)

// pageRouter is handed to the page registrars: it holds the route groups of
// the web portal, which already carry the page security headers, the
// session, and cross-origin protection on every state-changing method.
type pageRouter struct {
	s *server
	// Public routes: anyone; the user is loaded when logged in.
	Public *gin.RouterGroup
	// Authed routes: a logged-in user (others go to /login?next=...).
	Authed *gin.RouterGroup
}

// Role returns a group of Authed limited to the given roles (403 page for
// the others).
func (p *pageRouter) Role(roles ...string) *gin.RouterGroup {
	return p.Authed.Group("", p.s.pageRoles(roles...))
}

// pageRegistrars are the page areas added by other files in their init
// function: registerPages(func(s *server, p *pageRouter) { ... }).
var pageRegistrars []func(s *server, p *pageRouter)

// registerPages adds an area of pages (call it from an init function).
func registerPages(f func(s *server, p *pageRouter)) { pageRegistrars = append(pageRegistrars, f) }

// staffCasePage renders /cases/:id for operators and supervisors; the
// staff pages set it in their init function. The citizen's view of the
// same URL is citizenCasePage.
var staffCasePage func(s *server, c *gin.Context) error

// isPagePath tells HTML pages from the JSON API and health endpoints.
func isPagePath(p string) bool {
	return !strings.HasPrefix(p, "/api/") && p != "/healthz" && p != "/readyz"
}

// registerWeb adds the web portal to the engine.
func (s *server) registerWeb(r *gin.Engine) {
	r.GET("/static/*filepath", serveStatic())
	r.HEAD("/static/*filepath", serveStatic())

	pub := r.Group("", pageHeaders, s.crossOrigin(), s.pageSession, s.formHygiene)
	p := &pageRouter{s: s, Public: pub, Authed: pub.Group("", s.requireLogin)}

	pub.GET("/", s.page(s.homePage))
	pub.GET("/login", s.loginPage)
	pub.POST("/login", s.page(s.loginSubmit))
	pub.POST("/logout", s.page(s.logoutSubmit))
	pub.GET("/lang/:code", s.setLang)
	pub.POST("/lang/:code", s.setLang)

	p.Authed.GET("/cases/:id", s.page(func(c *gin.Context) error {
		switch currentUser(c).Role {
		case roleCitizen:
			return s.citizenCasePage(c)
		case roleOperator, roleSupervisor:
			if staffCasePage != nil {
				return staffCasePage(s, c)
			}
			return notFound("case")
		}
		return errForbiddenRole
	}))

	s.registerCitizenPages(p)
	for _, f := range pageRegistrars {
		f(s, p)
	}
}

// notFoundPage and methodNotAllowedPage answer unknown page URLs.
func (s *server) noRoute(c *gin.Context) {
	if isPagePath(c.Request.URL.Path) {
		pageHeaders(c)
		s.pageSession(c)
		if c.IsAborted() {
			return
		}
		s.pageError(c, http.StatusNotFound)
		return
	}
	s.fail(c, notFound("route"))
}

func (s *server) noMethod(c *gin.Context) {
	if isPagePath(c.Request.URL.Path) {
		pageHeaders(c)
		s.pageError(c, http.StatusMethodNotAllowed)
		return
	}
	s.fail(c, newError(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this resource"))
}

// homeData is the home page's data.
type homeData struct {
	Calls []callView
	Areas []crumb // the staff's work areas
}

// callView is an open call (a form) on the home page.
type callView struct {
	ID, Title, Description string
}

func (s *server) homePage(c *gin.Context) error {
	lang := pageLang(c)
	var d homeData
	for _, f := range s.Forms.List() {
		cv := callView{ID: f.ID, Title: f.Title, Description: f.Description}
		if lang == langEN {
			cv.Title, cv.Description = f.TitleEN, f.DescriptionEN
		}
		d.Calls = append(d.Calls, cv)
	}
	switch currentUser(c).Role {
	case roleOperator:
		d.Areas = []crumb{{"/inbox", s.t(c, "nav.inbox")}, {"/funds", s.t(c, "nav.funds")}}
	case roleSupervisor:
		d.Areas = []crumb{{"/search", s.t(c, "nav.search")}, {"/funds", s.t(c, "nav.funds")}, {"/inbox", s.t(c, "nav.inbox")}}
	case roleMerchant:
		d.Areas = []crumb{{"/till", s.t(c, "nav.till")}}
	}
	s.render(c, http.StatusOK, "home", view{Title: s.t(c, "home.title"), Nav: "home", Data: d})
	return nil
}
