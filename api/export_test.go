package api

import (
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/api/web"
)

// PolicyRow is a row of the JSON API's policy table (routes.go), for the
// authorization matrix test of package api_test.
type PolicyRow struct {
	Method, Path string   // path as served, gin syntax
	Access       string   // open, optional, session, provider
	Roles        []string // session routes: the roles allowed
	Reach        string   // none, own, list, public
}

// Policy returns the policy table.
func Policy() []PolicyRow {
	s := &server{}
	var out []PolicyRow
	for _, r := range s.apiRoutes() {
		row := PolicyRow{Method: r.method, Path: r.fullPath(),
			Access: [...]string{open: "open", optional: "optional", session: "session", provider: "provider"}[r.access],
			Reach:  [...]string{reachNone: "none", reachOwn: "own", reachList: "list", reachPublic: "public"}[r.reach]}
		for _, x := range r.roles {
			row.Roles = append(row.Roles, string(x))
		}
		out = append(out, row)
	}
	return out
}

// OpenAPIDocument is the served openapi.json.
func OpenAPIDocument() []byte { return openAPIDocument }

// PagePolicy returns the web portal's policy (web/routes.go) and the page
// routes the engine serves ("METHOD /path", gin syntax), for the portal's
// policy test of package api_test.
func PagePolicy() (rules []web.PageRule, served []string) {
	r := newEngine(Deps{})
	site := web.New(web.Deps{})
	site.Mount(gin.New())
	for _, ri := range r.Routes() {
		if httpx.IsPagePath(ri.Path) && !strings.HasPrefix(ri.Path, "/static/") {
			served = append(served, ri.Method+" "+ri.Path)
		}
	}
	return site.PagePolicy(), served
}
