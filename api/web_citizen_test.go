package api_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"sportello/internal/calendar"
	"sportello/internal/i18n"
	"sportello/internal/seed"
)

// Issue 16, applying: the data step starts from the birth date the tax
// code gives and the address the platform knows; the error summary lists
// the errors in the order of the fields; the summary writes dates and
// amounts for the language, the declarations after the data.
func TestWebApplyPrefillOrderAndSummary(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("cittadino.vedano")

	// Giovanni Bianchi, born 15 March 1975 (his tax code says so); nothing
	// known yet of his address.
	p := b.get("/apply/buoni-spesa/data")
	expectPage(t, p, http.StatusOK, `value="1975-03-15"`)
	if input := regexp.MustCompile(`<input[^>]*id="f-residence-address"[^>]*>`).FindString(p.body); strings.Contains(input, "value=\"V") {
		t.Errorf("address prefilled from nowhere: %s", input)
	}

	// Errors in field order: the ISEE after the number of members after the
	// address after the phone number.
	form := applicationForm(t, "cittadino.vedano")
	form.Set("/isee_euro", "-5")
	form.Set("/household/members", "0")
	form.Set("/residence/address", "x")
	form.Set("/applicant/phone", "12")
	p = b.post("/apply/buoni-spesa/data", form)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid data: %d\n%s", p.status, p.body)
	}
	summary := p.body[strings.Index(p.body, `id="error-summary"`):]
	summary = summary[:strings.Index(summary, "</ul>")]
	var order []string
	for _, m := range regexp.MustCompile(`href="#(f-[a-z_-]+)"`).FindAllStringSubmatch(summary, -1) {
		order = append(order, m[1])
	}
	want := []string{"f-applicant-phone", "f-residence-address", "f-household-members", "f-isee_euro"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("error summary order %v, want %v", order, want)
	}

	// The summary: "15 marzo 1975", "4.500,50 €", declarations last.
	p = b.post("/apply/buoni-spesa/data", applicationForm(t, "cittadino.vedano"))
	expectPage(t, p, http.StatusOK, "15 marzo 1975", "4.500,50 €")
	if strings.Contains(p.body, "1975-03-15</dd>") || strings.Contains(p.body, ">4500,50<") {
		t.Errorf("unformatted values on the summary")
	}
	body := html.UnescapeString(p.body)
	if decl, isee, delivery := strings.Index(body, "<h3 class=\"h4\">Dichiarazioni"), strings.Index(body, "4.500,50 €"),
		strings.Index(body, "Scarico online / stampa"); decl < isee || decl < delivery {
		t.Errorf("declarations (%d) before the data (ISEE %d, delivery %d)", decl, isee, delivery)
	}
	b.get("/lang/en")
	p = b.post("/apply/buoni-spesa/data", applicationForm(t, "cittadino.vedano"))
	expectPage(t, p, http.StatusOK, "15 March 1975", "€4,500.50")

	// Once he has filed, the next form starts from the address he gave.
	e.apply("cittadino.vedano")
	expectPage(t, b.get("/apply/buoni-spesa/data"), http.StatusOK, `value="Via Roma 1"`, `value="1975-03-15"`)
}

// Issue 16: the citizen is told when to expect an answer (the review time
// of the fund, 3 working days in the seeds) on the confirmation page and
// the case page; a rejection says what to do next and whom to ask.
func TestWebDecisionDateAndAppeal(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("cittadino.tradate")
	p := b.post("/apply/buoni-spesa/data", applicationForm(t, "cittadino.tradate"))
	first := b.post("/apply/buoni-spesa/summary", summaryFields(t, p.body))
	if first.status != http.StatusSeeOther {
		t.Fatalf("file: %d", first.status)
	}
	caseURL, _, _ := strings.Cut(first.location, "?")
	caseID := strings.TrimPrefix(caseURL, "/cases/")
	due, err := e.st.CaseDecisionExpected(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if days := due.Sub(time.Now()); days < 3*24*time.Hour || days > 9*24*time.Hour {
		t.Errorf("answer expected %s from now, want 3 working days", days)
	}
	when := i18n.Date("it", due, calendar.Rome())
	expectPage(t, b.get(first.location), http.StatusOK, "Riceverai una risposta entro il "+when+".")
	tk := e.waitTask("operatore.tradate", caseID)
	expectPage(t, b.get(caseURL), http.StatusOK, "Risposta attesa entro il", when)
	b.get("/lang/en")
	expectPage(t, b.get(caseURL), http.StatusOK, "Answer expected by", i18n.Date("en", due, calendar.Rome()))

	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate",
		map[string]any{"outcome": "reject", "reason": "ISEE oltre la soglia."}), http.StatusOK)
	deadline := time.Now().Add(30 * time.Second)
	for {
		p = b.get(caseURL)
		if strings.Contains(p.body, "What now?") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	expectPage(t, p, http.StatusOK, "What now?", "appeal", "Social Point di Tradate", "Piazza Mazzini 6", "0331 826811")
	if strings.Contains(p.body, "Answer expected by") {
		t.Error("a decided case still promises an answer")
	}
	b.get("/lang/it")
	expectPage(t, b.get(caseURL), http.StatusOK, "E adesso?", "ricorso", "Social Point di Tradate", "ISEE oltre la soglia.")
}

// Issue 16: anyone can see where a food voucher can be spent, as a page in
// both languages (linked from the home page) and as JSON, by municipality
// and kind of shop.
func TestShopsPublicList(t *testing.T) {
	e := newEnv(t)
	var l struct {
		Items []struct {
			ID, Municipality, MunicipalityName, Name, Kind, Address string
		} `json:"items"`
	}
	r := e.do("GET", "/api/v1/shops", "", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &l)
	// The shops of the district files (Tradate's and Bene Comune's; the
	// campaign's shops take no food vouchers).
	want := 0
	files, err := seed.DistrictFiles(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		want += len(f.Shops)
	}
	if len(l.Items) != want {
		t.Errorf("%d shops, want %d", len(l.Items), want)
	}
	r = e.do("GET", "/api/v1/shops?municipality=tradate&kind=pharmacy", "", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &l)
	if len(l.Items) != 1 || l.Items[0].Name != "Farmacia Comunale di Tradate" {
		t.Errorf("Tradate's pharmacies: %+v", l.Items)
	}
	r = e.do("GET", "/api/v1/shops?kind=bar", "", nil)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if body := r.errorBody(t); len(body.Fields) != 1 {
		t.Errorf("bad kind: %+v", body)
	}

	b := e.browser()
	expectPage(t, b.get("/"), http.StatusOK, `href="/shops"`, "Dove spendere i buoni")
	p := b.get("/shops?municipality=vedano-olona")
	expectPage(t, p, http.StatusOK, "Dove spendere i buoni spesa", "Vedano Olona", "Farmacia di Vedano", "Frutta e Verdura Ferrari",
		"Negozio di alimentari", `<option value="vedano-olona" selected>`)
	if strings.Contains(p.body, "Supermercato Tradate Centro") {
		t.Error("the municipality filter is ignored")
	}
	p = b.get("/shops?kind=pharmacy")
	if strings.Contains(p.body, "Panificio Olona") || !strings.Contains(p.body, "Farmacia della Collegiata") {
		t.Error("the kind filter is ignored")
	}
	b.get("/lang/en")
	expectPage(t, b.get("/shops"), http.StatusOK, "Where to spend food vouchers", "Grocery shop", "Pharmacy", "All municipalities")
}
