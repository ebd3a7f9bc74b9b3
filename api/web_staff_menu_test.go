package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestInboxTeamFilterOwnScope (issue 16): an operator's inbox offers the
// teams of their own municipality (and the district's), not another
// municipality's, and the filter refuses another municipality's team; a
// supervisor's inbox offers every team of the district.
func TestInboxTeamFilterOwnScope(t *testing.T) {
	e := newEnv(t)
	const own, foreign = `value="istruttoria-buoni-spesa-tradate"`, `value="istruttoria-buoni-spesa-vedano-olona"`
	op := e.browser()
	op.login("operatore.tradate")
	p := op.get("/inbox")
	expectPage(t, p, http.StatusOK, own)
	if strings.Contains(p.body, foreign) {
		t.Error("the Tradate operator's team filter lists the Vedano Olona team")
	}
	if r := e.do("GET", "/api/v1/tasks?team=istruttoria-buoni-spesa-vedano-olona", "operatore.tradate", nil); r.status != http.StatusUnprocessableEntity {
		t.Errorf("another municipality's team: %d, want 422", r.status)
	}
	sv := e.browser()
	sv.login("supervisore")
	expectPage(t, sv.get("/inbox"), http.StatusOK, own, foreign)
}

// TestStaffMenuGrouped (issue 16): the supervisor's menu has few top-level
// entries (the rest in groups) and the access log is in it; an operator's
// menu has no supervisor-only page.
func TestStaffMenuGrouped(t *testing.T) {
	e := newEnv(t)
	nav := func(body string) string {
		i := strings.Index(body, `<nav class="site-nav"`)
		j := strings.Index(body[i:], "</nav>")
		if i < 0 || j < 0 {
			t.Fatalf("no main menu\n%s", body)
		}
		return body[i : i+j]
	}
	topLevel := regexp.MustCompile(`<li class="nav-item[ "]`)
	sv := e.browser()
	sv.login("supervisore")
	for _, lang := range []string{"it", "en"} {
		sv.get("/lang/" + lang + "?next=/")
		m := nav(sv.get("/inbox").body)
		if n := len(topLevel.FindAllString(m, -1)); n > 8 {
			t.Errorf("%s: the supervisor's menu has %d top-level entries, want at most 8\n%s", lang, n, m)
		}
		for _, href := range []string{"/audit", "/search", "/teams", "/calls", "/operations", "/incidents", "/invoices", "/registry", "/dashboard"} {
			if !strings.Contains(m, `href="`+href+`"`) {
				t.Errorf("%s: the supervisor's menu has no link to %s", lang, href)
			}
		}
		if strings.Count(m, "<summary") != 3 {
			t.Errorf("%s: want 3 menu groups\n%s", lang, m)
		}
	}
	op := e.browser()
	op.login("operatore.tradate")
	m := nav(op.get("/inbox").body)
	for _, href := range []string{"/audit", "/search", "/teams", "/calls", "/operations"} {
		if strings.Contains(m, `href="`+href+`"`) {
			t.Errorf("the operator's menu links to the supervisors' page %s", href)
		}
	}
	for _, href := range []string{"/desk", "/desk/contacts", "/registry", "/absences"} {
		if !strings.Contains(m, `href="`+href+`"`) {
			t.Errorf("the operator's menu has no link to %s", href)
		}
	}
}
