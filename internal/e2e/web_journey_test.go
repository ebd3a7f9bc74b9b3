package e2e

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sportello/forms"
	"sportello/internal/browsertest"
)

// The browser journeys drive the web portal served by api.New (same origin as
// the JSON API) in headless Chromium, as three people at once, each in a
// browser context of their own. axe-core checks every page they see against
// WCAG 2.1 A/AA. On failure, screenshots and HTML are in the folder printed
// with the failure (.data/test-artifacts/<test>).

var (
	caseNumberRE  = regexp.MustCompile(`\b[A-Z]{2,5}-\d{4}-\d{6}\b`)
	voucherCodeRE = regexp.MustCompile(`\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b`)
)

// loggedIn opens a browser page (named label in failures) on the portal at
// url and logs user in.
func loggedIn(t *testing.T, url, label, user string) *browsertest.Page {
	t.Helper()
	p := browsertest.NewPage(t, url, label)
	webLogin(t, p, user)
	return p
}

// webLogin logs user in through /login (checking the login page) and leaves
// the browser on the page the portal redirects to.
func webLogin(t *testing.T, p *browsertest.Page, user string) {
	t.Helper()
	p.Navigate("/login")
	assertTitle(t, p, "Accedi")
	p.Axe()
	p.Fill("Nome utente", user)
	p.Fill("Password", "demo")
	p.Submit("Accedi")
	if strings.HasPrefix(p.Path(), "/login") {
		t.Fatalf("%s: still on the login page after logging in:\n%s", user, p.MainText())
	}
	// The header now offers to log out.
	if p.Count(`form[action="/logout"] button`) != 1 {
		t.Fatalf("%s: no logout button after logging in at %s", user, p.URL())
	}
}

// assertTitle checks the page's only h1 contains want.
func assertTitle(t *testing.T, p *browsertest.Page, want string) {
	t.Helper()
	h1 := p.Texts("h1")
	if len(h1) != 1 {
		t.Fatalf("%s: %d h1 elements at %s: %q", p.User, len(h1), p.URL(), h1)
	}
	if !strings.Contains(h1[0], want) {
		t.Fatalf("%s: h1 %q at %s, want it to contain %q", p.User, h1[0], p.URL(), want)
	}
}

// assertPage checks that the page's title is title (see assertTitle) and
// that it shows wants, then checks its accessibility (Axe).
func assertPage(t *testing.T, p *browsertest.Page, title string, wants ...string) {
	t.Helper()
	assertTitle(t, p, title)
	assertText(t, p, wants...)
	p.Axe()
}

func assertPath(t *testing.T, p *browsertest.Page, want string) {
	t.Helper()
	if got := p.Path(); got != want {
		t.Fatalf("%s: at %s, want %s\n%s", p.User, got, want, p.MainText())
	}
}

// assertStep checks the application flow's step indicator marks step n
// (the summary is the answer to the data step's POST, so its URL is that of
// the data step).
func assertStep(t *testing.T, p *browsertest.Page, n int, name string) {
	t.Helper()
	cur := p.Texts(`[aria-current="step"]`)
	if len(cur) != 1 || !strings.HasPrefix(cur[0], strconv.Itoa(n)+".") || !strings.Contains(cur[0], name) {
		t.Fatalf("%s: current step %q at %s, want %d. %s\n%s", p.User, cur, p.Path(), n, name, p.MainText())
	}
}

func assertText(t *testing.T, p *browsertest.Page, wants ...string) {
	t.Helper()
	text := p.MainText()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s: %s does not show %q:\n%s", p.User, p.Path(), w, text)
		}
	}
}

// assertCleanConsole fails the test (without stopping it) for every uncaught
// script error, Content-Security-Policy refusal or failed resource the pages
// reported in the browser console. Not counted: Chromium's own request for
// /favicon.ico and the 422 answer of a form with errors (the intended
// status). Lines containing one of expected (error answers the test asked
// for) are not counted either.
func assertCleanConsole(t *testing.T, expected []string, pages ...*browsertest.Page) {
	t.Helper()
	for _, p := range pages {
	lines:
		for _, line := range p.Console() {
			for _, e := range expected {
				if strings.Contains(line, e) {
					continue lines
				}
			}
			switch {
			case strings.Contains(line, "/favicon.ico"),
				strings.Contains(line, "status of 422"):
			case strings.HasPrefix(line, "exception:"), strings.HasPrefix(line, "console.error"),
				strings.HasPrefix(line, "log security/"), strings.Contains(line, "Content Security Policy"),
				strings.HasPrefix(line, "log network/error"):
				t.Errorf("%s: browser console: %s", p.User, line)
			}
		}
	}
}

// fillApplication fills the food-voucher form's data step. Fields are found
// by their Italian labels (which proves each input is labelled); the
// "Indirizzo" of the residence is told from the e-mail address by the exact
// match.
func fillApplication(p *browsertest.Page, v map[string]string) {
	for _, label := range []string{"Nome", "Cognome", "Codice fiscale", "Data di nascita", "Indirizzo e-mail",
		"Comune", "Indirizzo", "Componenti", "Minorenni", "ISEE (euro)"} {
		if val, ok := v[label]; ok {
			p.Fill(label, val)
		}
	}
	p.Fill("Scarico online / stampa", "true")
	p.Fill("Dichiaro che le informazioni fornite sono veritiere", "true")
	p.Fill("Ho letto l'informativa sul trattamento dei dati personali", "true")
}

// fieldOrder lists the form's field names (JSON pointers) in document order.
func fieldOrder(p *browsertest.Page) []string {
	var names []string
	p.Eval(`[...new Set(Array.from(document.querySelectorAll('main form [name^="/"]')).map(e => e.name))]`, &names)
	return names
}

// schemaOrder lists the leaf fields of a form's schema as JSON pointers, in
// the order the schema document declares them.
func schemaOrder(t *testing.T, formID string) []string {
	t.Helper()
	reg, err := forms.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	f, ok := reg.Get(formID)
	if !ok {
		t.Fatalf("no form %s", formID)
	}
	dec := json.NewDecoder(bytes.NewReader(f.Schema))
	var out []string
	next := func() json.Token {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("schema %s: %v", formID, err)
		}
		return tok
	}
	// walk reads one JSON value. When it is a schema at pointer ptr (the root
	// or a property), the leaves of its "properties" are recorded in document
	// order; it reports whether the schema had properties.
	var walk func(ptr string, schema bool) bool
	walk = func(ptr string, schema bool) bool {
		switch next() {
		case json.Delim('['):
			for dec.More() {
				walk("", false)
			}
			next()
			return false
		case json.Delim('{'):
		default:
			return false
		}
		hasProps := false
		for dec.More() {
			key, _ := next().(string)
			if !schema || key != "properties" {
				walk("", false)
				continue
			}
			hasProps = true
			next() // {
			for dec.More() {
				name, _ := next().(string)
				if !walk(ptr+"/"+name, true) {
					out = append(out, ptr+"/"+name)
				}
			}
			next() // }
		}
		next()
		return hasProps
	}
	walk("", true)
	return out
}

func validApplication(taxCode string) map[string]string {
	return map[string]string{
		"Nome": "Maria", "Cognome": "Rossi", "Codice fiscale": taxCode, "Data di nascita": "1980-01-01",
		"Indirizzo e-mail": "maria.rossi@example.org", "Comune": "tradate", "Indirizzo": "Via Roma 1",
		"Componenti": "3", "Minorenni": "1", "ISEE (euro)": "8000",
	}
}

// startApplication logs the citizen cittadino.tradate in and goes from the
// home page to the data step of the food-voucher call; it returns the
// citizen's page.
func startApplication(t *testing.T, s *stack) *browsertest.Page {
	t.Helper()
	p := loggedIn(t, s.srv.URL, "cittadino", "cittadino.tradate")
	p.Navigate("/")
	assertTitle(t, p, "")
	p.Axe()
	p.ClickAndWait(`main a[href="/apply/buoni-spesa"]`)
	// Step 1: the privacy notice.
	assertPath(t, p, "/apply/buoni-spesa")
	assertStep(t, p, 1, "Informativa")
	assertPage(t, p, "buoni spesa", "Informativa")
	p.Follow("Compila la domanda")
	// Step 2: the data, in the order of the schema document.
	assertPath(t, p, "/apply/buoni-spesa/data")
	assertStep(t, p, 2, "Dati")
	if got, want := fieldOrder(p), schemaOrder(t, "buoni-spesa"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the form's fields are not in the schema's order:\ngot:  %q\nwant: %q", got, want)
	}
	p.Axe()
	return p
}

// TestWebFoodVoucherJourney: the food-voucher journey through the web portal
// by three people at once — the citizen applies, the social worker approves,
// the merchant redeems part of the voucher, and the citizen sees the new
// balance.
func TestWebFoodVoucherJourney(t *testing.T) {
	s := newStack(t)
	tax := s.citizenTaxCode()

	// (a) The citizen applies.
	citizen := startApplication(t, s)
	fillApplication(citizen, validApplication(tax))
	citizen.Submit("Vai al riepilogo")
	// Step 3: the summary repeats what was typed.
	assertStep(t, citizen, 3, "Riepilogo")
	assertText(t, citizen, "Maria", "Rossi", tax, "Via Roma 1", "maria.rossi@example.org")
	if citizen.Has("#error-summary") {
		t.Fatalf("valid data reported as invalid:\n%s", citizen.MainText())
	}
	citizen.Axe()
	citizen.Submit("Invia la domanda")
	// Step 4: the confirmation with the case number, at /cases/:id.
	path, _, _ := strings.Cut(citizen.Path(), "?")
	if !strings.HasPrefix(path, "/cases/") {
		t.Fatalf("after confirming, at %s, want /cases/<number>:\n%s", path, citizen.MainText())
	}
	caseID, _ := url.PathUnescape(strings.TrimPrefix(path, "/cases/"))
	if !caseNumberRE.MatchString(caseID) {
		t.Fatalf("case number %q", caseID)
	}
	assertText(t, citizen, caseID, "Presentata")
	citizen.Axe()
	citizen.Screenshot("confirmation")
	if n := s.count(`SELECT count(*) FROM cases WHERE id = $1`, caseID); n != 1 {
		t.Fatalf("case %s: %d rows", caseID, n)
	}

	// (b) The social worker, logged in at the same time in another browser
	// context, finds the case in the inbox, claims it and approves it.
	worker := loggedIn(t, s.srv.URL, "operatore", "operatore.tradate")
	worker.Navigate("/inbox")
	assertTitle(t, worker, "")
	worker.ReloadUntil("case "+caseID+" in the inbox", func() bool {
		return strings.Contains(worker.MainText(), caseID)
	})
	worker.Axe()
	worker.FollowIn("main", caseID)
	assertPath(t, worker, "/cases/"+caseID)
	assertText(t, worker, caseID, "Maria", "Rossi")
	worker.Axe()
	worker.SubmitIn("main", "Prendi in carico")
	assertPath(t, worker, "/cases/"+caseID)
	worker.Axe()
	// Approve with the amount the form proposes: 3 members, 1 minor → EUR 400.
	worker.Fill("Accogli la domanda", "true")
	if got := worker.Value(worker.Field("Importo in euro")); got != "" {
		t.Fatalf("the amount field is pre-filled with %q; leaving it empty applies the fund's rule", got)
	}
	worker.Submit("Registra la decisione")
	assertPath(t, worker, "/cases/"+caseID)
	assertText(t, worker, "Accolta", "400,00")
	worker.Axe()
	worker.Screenshot("case-approved")

	// A citizen who opens a staff page gets the (accessible) refusal page.
	if st := citizen.NavigateStatus("/inbox"); st != 403 {
		t.Errorf("citizen at /inbox: status %d, want 403", st)
	}
	assertTitle(t, citizen, "Accesso non consentito")
	citizen.Axe()

	// (c) The citizen finds the voucher in the personal area once the first
	// tranche (half of EUR 400) is released.
	citizen.Navigate("/me")
	assertTitle(t, citizen, "Area personale")
	citizen.ReloadUntil("the voucher's first tranche", func() bool {
		return strings.Contains(citizen.MainText(), "200,00")
	})
	assertText(t, citizen, caseID)
	citizen.Axe()
	code := voucherCodeRE.FindString(citizen.MainText())
	if code == "" {
		t.Fatalf("no voucher code in the personal area:\n%s", citizen.MainText())
	}
	citizen.ClickAndWait(`main a[href^="/vouchers/"]`)
	voucherPath := citizen.Path()
	if !strings.HasPrefix(voucherPath, "/vouchers/") {
		t.Fatalf("voucher link led to %s", voucherPath)
	}
	assertText(t, citizen, code, "200,00")
	citizen.Axe()

	// (d) The merchant redeems EUR 12.50 at the till: the receipt shows the
	// remaining balance and nothing about the citizen.
	merchant := loggedIn(t, s.srv.URL, "esercente", "esercente.tradate")
	merchant.Navigate("/till")
	assertTitle(t, merchant, "")
	merchant.Axe()
	merchant.Fill("Codice del buono", strings.ToLower(code))
	// Enter in the amount field submits, as at a real till.
	merchant.Fill("Importo in euro", "12,50")
	merchant.PressEnterIn(merchant.Field("Importo in euro"))
	assertPath(t, merchant, "/till")
	assertText(t, merchant, "12,50", "187,50")
	merchant.Screenshot("receipt")
	html := merchant.HTML()
	for _, secret := range []string{tax, "Maria", "Rossi", caseID, "maria.rossi@example.org", "Via Roma"} {
		if strings.Contains(html, secret) {
			t.Errorf("the till page shows the citizen's %q", secret)
		}
	}
	merchant.Axe()
	if n := s.count(`SELECT count(*) FROM redemptions`); n != 1 {
		t.Fatalf("%d redemptions, want 1", n)
	}

	// (e) The citizen reloads the voucher page and sees the new balance.
	citizen.ReloadUntil("the balance after the redemption", func() bool {
		return strings.Contains(citizen.MainText(), "187,50")
	})
	assertText(t, citizen, "12,50")
	citizen.Axe()
	citizen.Screenshot("voucher-after-redemption")
	s.assertBooksBalance()
	assertCleanConsole(t, []string{"status of 403 (Forbidden) " + s.srv.URL + "/inbox"}, citizen, worker, merchant)
}

// TestWebInvalidApplication: a wrong tax code and a missing required field
// come back from the server next to their fields and in the error summary,
// with what was typed kept; correcting them leads to the summary.
func TestWebInvalidApplication(t *testing.T) {
	s := newStack(t)
	tax := s.citizenTaxCode()
	citizen := startApplication(t, s)

	firstOrder := fieldOrder(citizen)
	bad := validApplication(tax)
	// A tax code with a wrong check character, and no last name (the page
	// pre-fills it from the profile, so it is emptied).
	bad["Codice fiscale"] = "RSSMRA80A01L319X"
	bad["Cognome"] = ""
	fillApplication(citizen, bad)
	citizen.Submit("Vai al riepilogo")

	assertStep(t, citizen, 2, "Dati")
	if !citizen.Has("#error-summary") {
		t.Fatalf("no error summary:\n%s", citizen.MainText())
	}
	summary := citizen.Text("#error-summary")
	for _, label := range []string{"Codice fiscale", "Cognome"} {
		field := citizen.Field(label)
		if got := citizen.Attr(field, "aria-invalid"); got != "true" {
			t.Errorf("%s: aria-invalid=%q", label, got)
		}
		id := citizen.Attr(field, "id")
		errID := ""
		for _, ref := range strings.Fields(citizen.Attr(field, "aria-describedby")) {
			if strings.HasSuffix(ref, "-error") {
				errID = ref
			}
		}
		if errID == "" {
			t.Errorf("%s: aria-describedby %q names no error", label, citizen.Attr(field, "aria-describedby"))
			continue
		}
		msg := citizen.Text("#" + errID)
		if msg == "" || !strings.Contains(summary, strings.TrimSpace(strings.TrimPrefix(msg, "Errore:"))) {
			t.Errorf("%s: message %q next to the field, not in the summary:\n%s", label, msg, summary)
		}
		if citizen.Count(`#error-summary a[href="#`+id+`"]`) != 1 {
			t.Errorf("%s: the error summary does not link to #%s", label, id)
		}
	}
	// The form comes back in the same order (the schema's), not reshuffled.
	if again := fieldOrder(citizen); strings.Join(again, " ") != strings.Join(firstOrder, " ") {
		t.Errorf("the fields come back in another order after the round trip:\nfirst:  %q\nerrors: %q", firstOrder, again)
	}
	// What was typed is kept.
	if got := citizen.Value(citizen.Field("Nome")); got != "Maria" {
		t.Errorf("Nome kept as %q", got)
	}
	if got := citizen.Value(citizen.Field("Codice fiscale")); got != "RSSMRA80A01L319X" {
		t.Errorf("Codice fiscale kept as %q", got)
	}
	citizen.Screenshot("errors")
	citizen.Axe()

	citizen.Fill("Codice fiscale", tax)
	citizen.Fill("Cognome", "Rossi")
	citizen.Submit("Vai al riepilogo")
	assertStep(t, citizen, 3, "Riepilogo")
	if citizen.Has("#error-summary") {
		t.Fatalf("corrected data still refused:\n%s", citizen.MainText())
	}
	assertText(t, citizen, "Rossi", tax)
	if n := s.count(`SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("%d cases before confirming", n)
	}
	assertCleanConsole(t, nil, citizen)
}
