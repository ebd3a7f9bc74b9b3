package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sportello/api"
	"sportello/internal/seed"
)

// The welfare manager's page shows the plan, the enrolments and the
// spending in Italian and English, names no employee (the spending not
// even by tax code), and is the manager's alone.
func TestWebCompanyPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(seed.DemoWelfareManager)
	p := b.get("/azienda")
	expectPage(t, p, http.StatusOK, `<html lang="it">`, "Welfare aziendale", "Meccanica Tradatese S.r.l.",
		"Credito annuo per dipendente", "600,00", "ChildCare – infanzia", "Nessuna spesa finora.", `href="/azienda" aria-current="page"`)
	// The manager's own enrolments are listed by tax code (they made them);
	// no name anywhere, and the spending names nobody.
	_, spending, ok := strings.Cut(p.body, `id="spending"`)
	if !ok || !strings.Contains(p.body, seed.DemoCompanyEmployees()[0]) {
		t.Fatalf("no enrolments or no spending section:\n%s", p.body)
	}
	for _, r := range seed.Residents() {
		expectNot(t, p.body, r.LastName)
		expectNot(t, spending, r.TaxCode())
	}
	b.follow(b.post("/lang/en", url.Values{"next": {"/"}}))
	expectPage(t, b.get("/azienda"), http.StatusOK, `<html lang="en">`, "Company welfare", "Annual credit per employee", "No spending so far.")

	for _, u := range []string{"cittadino.tradate", "supervisore", "coop.baobab"} {
		o := e.browser()
		o.login(u)
		if p := o.get("/azienda"); p.status != http.StatusForbidden {
			t.Errorf("/azienda as %s: %d", u, p.status)
		}
	}
}

func expectNot(t *testing.T, body string, words ...string) {
	t.Helper()
	for _, w := range words {
		if w != "" && strings.Contains(body, w) {
			t.Errorf("page shows %q", w)
		}
	}
}

// The login page's demo hint names the welfare manager's role in words.
func TestWebLoginNamesWelfareRole(t *testing.T) {
	e := newEnvWith(t, func(d *api.Deps) { d.Demo = true })
	expectPage(t, e.browser().get("/login"), http.StatusOK, seed.DemoWelfareManager+"</code>: Responsabile welfare aziendale")
}
