package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sportello/api"
	"sportello/api/web"
)

// pathParam is a gin path parameter; the policy test fills it with a value
// no record has.
var pathParam = regexp.MustCompile(`:[A-Za-z_]+`)

// TestWebPagePolicy walks the web portal's authorization policy (web/routes.go):
// every page the engine serves has its row, and every row's page is opened
// (GET) or sent (POST, an empty form) by every role of the authorization
// matrix and by a visitor. A page for some roles answers 403 to the others
// and sends a visitor to the login; a page for signed-in users sends a
// visitor to the login; a public page lets a visitor in. The records named
// in the path do not exist, so an admitted caller gets the page's own answer
// (404, 422...), never 403 or the login.
func TestWebPagePolicy(t *testing.T) {
	rules, served := api.PagePolicy()
	inPolicy := map[string]bool{}
	for _, r := range rules {
		inPolicy[r.Method+" "+r.Path] = true
	}
	for _, s := range served {
		if !inPolicy[s] {
			t.Errorf("%s is served without a row in the portal's policy (register it through a pageGroup in web/routes.go)", s)
		}
	}
	for _, r := range rules {
		if !slices.Contains(served, r.Method+" "+r.Path) {
			t.Errorf("the policy has %s %s, which is not served", r.Method, r.Path)
		}
	}
	if len(rules) < 100 {
		t.Fatalf("only %d pages in the policy: is the portal mounted?", len(rules))
	}

	e := newEnv(t)
	send := func(b *browser, r web.PageRule) page {
		path := pathParam.ReplaceAllString(r.Path, "0")
		if r.Method == http.MethodPost {
			return b.post(path, map[string][]string{})
		}
		return b.get(path)
	}
	toLogin := func(p page) bool {
		return p.status == http.StatusSeeOther && strings.HasPrefix(p.location, "/login")
	}
	visitor := e.browser()
	for _, r := range rules {
		p := send(visitor, r)
		switch r.Access {
		case web.AccessPublic:
			if p.status == http.StatusForbidden || toLogin(p) || p.status >= 500 {
				t.Errorf("a visitor: %s %s (public) answered %d %s", r.Method, r.Path, p.status, p.location)
			}
		default:
			if !toLogin(p) {
				t.Errorf("a visitor: %s %s (%s) answered %d %s, want the login", r.Method, r.Path, r.Access, p.status, p.location)
			}
		}
	}
	checked := 0
	for _, a := range matrixActors {
		if a.role == "" {
			continue
		}
		b := e.browserAs(a.username)
		for _, r := range rules {
			if r.Access == web.AccessPublic {
				continue // a signed-in user may be sent away from the login or the activation
			}
			p := send(b, r)
			allowed := r.Access == web.AccessLogin || slices.Contains(r.Roles, a.role)
			switch {
			case toLogin(p):
				t.Errorf("%s (%s): %s %s sent to the login: the session was lost", a.username, a.role, r.Method, r.Path)
			case p.status >= 500:
				t.Errorf("%s (%s): %s %s answered %d", a.username, a.role, r.Method, r.Path, p.status)
			case allowed && p.status == http.StatusForbidden:
				t.Errorf("%s (%s): %s %s is for %v but answered 403", a.username, a.role, r.Method, r.Path, r.Roles)
			case !allowed && p.status != http.StatusForbidden:
				t.Errorf("%s (%s): %s %s is for %v but answered %d", a.username, a.role, r.Method, r.Path, r.Roles, p.status)
			}
			checked++
		}
	}
	t.Logf("%d pages, %d calls as the %d roles", len(rules), checked, len(matrixActors)-1)
}
