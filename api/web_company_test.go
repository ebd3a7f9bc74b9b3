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

// The withdrawal's and the hours' pages over HTTP: the row's button only
// asks; a wrong tax code is 422 and one not enrolled 404, at the field,
// withdrawing nobody; the hours' refusals are 422 field by field and
// change nothing; another point is 404 to the manager; the supervisor of
// another district does not reach the point.
func TestWebCompanyWithdrawAndHoursStatuses(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(seed.DemoWelfareManager)
	tc := seed.DemoCompanyEmployees()[0]
	p := b.post("/azienda/employees/withdrawal", url.Values{"tax_code": {tc}})
	expectPage(t, p, http.StatusOK, "Ritiro di un dipendente dal piano", `value="`+tc+`"`, "Conferma il ritiro")
	p = b.post("/azienda/employees/withdrawal", url.Values{"tax_code": {"RSSMRA80A41L319Z"}, "confirm": {"1"}})
	expectPage(t, p, http.StatusUnprocessableEntity, `id="f-withdraw-tax-code-error"`, `aria-invalid="true"`)
	p = b.post("/azienda/employees/withdrawal", url.Values{"tax_code": {seed.Residents()[5].TaxCode()}, "confirm": {"1"}})
	expectPage(t, p, http.StatusNotFound, "non risulta iscritto", `aria-invalid="true"`)
	if got := b.get("/azienda"); !strings.Contains(got.body, `id="company-enrolled">2<`) {
		t.Fatalf("someone was withdrawn:\n%s", got.body)
	}

	hp := "/social-points/" + seed.DemoCompanyPointID + "/hours"
	expectPage(t, b.get(hp), http.StatusOK, "Orari di Social Point Meccanica Tradatese", `value="12:30"`)
	p = b.post(hp, url.Values{"h-1-0-opens": {"10:00"}, "h-1-0-closes": {"09:00"}, "h-2-0-opens": {"12:30"}, "h-2-0-closes": {"14:00"},
		"h-2-1-opens": {"13:00"}, "h-2-1-closes": {"15:00"}, "h-3-0-opens": {"9"}, "h-3-0-closes": {"10:00"}})
	expectPage(t, p, http.StatusUnprocessableEntity, `id="f-h-1-0-closes-error"`, `id="f-h-2-1-opens-error"`, `id="f-h-3-0-opens-error"`)
	expectNot(t, p.body, `id="f-h-2-0-opens-error"`)
	if got := b.get(hp); !strings.Contains(got.body, `value="12:30"`) || strings.Contains(got.body, `value="10:00"`) {
		t.Fatalf("refused hours were saved:\n%s", got.body)
	}
	if p := b.get("/social-points/sp-tradate/hours"); p.status != http.StatusNotFound {
		t.Errorf("another point's hours as the manager: %d", p.status)
	}
	o := e.browser()
	o.login("supervisore.padova")
	if p := o.get(hp); p.status != http.StatusNotFound {
		t.Errorf("the point's hours as another district's supervisor: %d", p.status)
	}
}
