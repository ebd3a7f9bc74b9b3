package api_test

import (
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"sportello/internal/seed"
)

// serviceApplication is valid buono-servizi data for cittadino.tradate.
func serviceApplication(t *testing.T) map[string]any {
	t.Helper()
	app := application(t, "cittadino.tradate")
	app["form"] = "buono-servizi"
	data := dataOf(app)
	delete(data, "delivery")
	data["isee_euro"] = 30000
	data["household"] = map[string]any{"members": 3, "minors": 1, "elderly": 1, "disabled": 0}
	data["support"] = map[string]any{"childcare": true, "silvercare": true,
		"situation": "Lavoro a tempo pieno, ho un figlio piccolo e mia madre anziana vive con noi."}
	data["declarations"] = map[string]any{"truthful": true, "no_double_funding": true, "share_with_provider": true, "privacy": true}
	return app
}

// waitVoucher reads voucherID of case caseID as user into v until
// released() holds (the tranche is released by the case workflow).
func (e *env) waitVoucher(user, caseID, voucherID string, v any, released func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !released() {
		if time.Now().After(deadline) {
			e.t.Fatalf("voucher never released: %+v\n%s", v, e.workflowDiagnosis(caseID))
		}
		r := e.do("GET", "/api/v1/vouchers/"+voucherID, user, nil)
		expectStatus(e.t, r, http.StatusOK)
		r.json(e.t, v)
		time.Sleep(50 * time.Millisecond)
	}
}

type voucherJSON struct {
	ID             string   `json:"id"`
	Code           string   `json:"code"`
	Kind           string   `json:"kind"`
	Categories     []string `json:"categories"`
	AvailableCents int64    `json:"available_cents"`
}

// TestServiceVoucherJourney: apply with the service-voucher form (422s at
// the fields first), review and approval through the same case workflow as
// food vouchers, a voucher of kind service with its fund's categories,
// refused by merchants with a 409 over the API and at the till.
func TestServiceVoucherJourney(t *testing.T) {
	e := newEnv(t)

	bad := serviceApplication(t)
	dataOf(bad)["support"] = map[string]any{"childcare": false, "situation": "breve"}
	dataOf(bad)["household"] = map[string]any{"members": 2, "minors": 1, "elderly": 2, "disabled": 3}
	got := problems(t, e.do("POST", "/api/v1/applications", "cittadino.tradate", bad))
	if want := []string{"/data/support/situation min_length"}; !slices.Equal(got, want) {
		t.Fatalf("schema problems %v, want %v", got, want) // cross-field rules run on schema-valid data only
	}
	dataOf(bad)["support"] = map[string]any{"childcare": false, "situation": "Situazione descritta abbastanza a lungo."}
	got = problems(t, e.do("POST", "/api/v1/applications", "cittadino.tradate", bad))
	if want := []string{"/data/household/disabled cross_field", "/data/household/elderly cross_field", "/data/support cross_field"}; !slices.Equal(got, want) {
		t.Fatalf("cross-field problems %v, want %v", got, want)
	}
	if n := e.countCases(); n != 0 {
		t.Fatalf("%d cases after refused applications", n)
	}

	r := e.do("POST", "/api/v1/applications", "cittadino.tradate", serviceApplication(t), hdr{"Idempotency-Key": "svc-1"})
	expectStatus(t, r, http.StatusCreated)
	var c caseView
	r.json(t, &c)
	if c.Form != "buono-servizi" || !strings.HasPrefix(c.ID, "BSV-") || !strings.HasPrefix(c.FundID, "buono-servizi-tradate-") {
		t.Fatalf("case %+v", c)
	}
	tk := e.waitTask("operatore.tradate", c.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	r = e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"})
	expectStatus(t, r, http.StatusOK)
	var dec struct {
		AmountCents int64  `json:"amount_cents"`
		VoucherID   string `json:"voucher_id"`
	}
	r.json(t, &dec)
	// The fund's rule: EUR 300, 50 per other member (2) and per minor (1).
	if dec.AmountCents != 450_00 || dec.VoucherID == "" {
		t.Fatalf("decision %s", r.body)
	}

	// The single tranche is released at once.
	var v voucherJSON
	e.waitVoucher("cittadino.tradate", c.ID, dec.VoucherID, &v, func() bool { return v.AvailableCents > 0 })
	if v.Kind != "service" || !slices.Equal(v.Categories, seed.ServiceFundCategories()) || v.AvailableCents != 450_00 {
		t.Fatalf("voucher %+v", v)
	}

	// Merchants refuse it: 409 over the API, a clear message at the till.
	r = e.do("POST", "/api/v1/redemptions", "esercente.tradate", map[string]any{"code": v.Code, "amount_cents": 1000})
	expectStatus(t, r, http.StatusConflict)
	if b := r.errorBody(t); b.Code != "service_voucher" || !strings.Contains(b.Message, "catalogue") {
		t.Fatalf("redemption: %s", r.body)
	}
	m := e.browser()
	m.login("esercente.tradate")
	p := m.post("/till", url.Values{"code": {v.Code}, "amount": {"10,00"}})
	expectPage(t, p, http.StatusConflict, "Questo è un buono servizi")

	// The citizen's voucher page says what it is and links the catalogue.
	cz := e.browser()
	cz.login("cittadino.tradate")
	p = cz.get("/vouchers/" + v.ID)
	expectPage(t, p, http.StatusOK, "Buono servizi", "Cosa puoi pagare con questo buono",
		`href="/services?category=childcare"`, `href="/services?category=silvercare"`, `href="/services?category=familycare"`)
	if strings.Contains(p.body, "Mostra il codice o il QR code all&#39;esercente") || strings.Contains(p.body, "/pdf") {
		t.Error("the service voucher page tells the citizen to show it to a merchant, or offers the shop's PDF")
	}
	if st := cz.get("/vouchers/" + v.ID + "/pdf").status; st != http.StatusNotFound {
		t.Errorf("service voucher PDF: %d, want 404", st)
	}
	expectPage(t, cz.get("/me"), http.StatusOK, "Buono servizi")

	// The social worker reads the application with its own labels.
	op := e.browser()
	op.login("operatore.tradate")
	expectPage(t, op.get("/cases/"+c.ID), http.StatusOK, "Descrizione del bisogno", "Assistenza agli anziani (SilverCare)",
		"Anziani (65 anni e più)")

	// Funds pages and JSON show kind and categories.
	p = op.get("/funds")
	expectPage(t, p, http.StatusOK, "Buono servizi: catalogo", "SilverCare", "Buoni spesa: esercizi convenzionati")
	var funds list[struct {
		ID         string   `json:"id"`
		Kind       string   `json:"kind"`
		Categories []string `json:"categories"`
	}]
	e.do("GET", "/api/v1/funds", "operatore.tradate", nil).json(t, &funds)
	kinds := map[string][]string{}
	for _, f := range funds.Items {
		kinds[f.Kind] = f.Categories
	}
	if len(kinds) != 2 || len(kinds["food"]) != 0 || !slices.Equal(kinds["service"], seed.ServiceFundCategories()) {
		t.Fatalf("funds %+v", funds.Items)
	}
}

// TestCitizenISEE: the citizen reads and declares their ISEE (JSON and
// the personal area), bad input is a 422 at the field, and the catalogue
// prices by the newest declaration.
func TestCitizenISEE(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/me/isee", "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	if body := string(r.body); body != `{"isee_euro":null,"catalogue":null}` {
		t.Fatalf("nothing declared yet: %s", body)
	}
	expectStatus(t, e.do("GET", "/api/v1/me/isee", "operatore.tradate", nil), http.StatusForbidden)
	expectStatus(t, e.do("PUT", "/api/v1/me/isee", "esercente.tradate", map[string]any{"isee_euro": 1}), http.StatusForbidden)

	for body, want := range map[string]string{
		`{}`:                           "/isee_euro required",
		`{"isee_euro":-1}`:             "/isee_euro invalid",
		`{"isee_euro":1000000.01}`:     "/isee_euro invalid",
		`{"isee_euro":12.345}`:         "/isee_euro invalid",
		`{"isee_euro":"8500"}`:         "/isee_euro invalid",
		`{"isee_euro":1e400}`:          "/isee_euro invalid",
		`{"isee_euro":8500,"extra":1}`: "",
	} {
		r := e.do("PUT", "/api/v1/me/isee", "cittadino.tradate", body)
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if want == "" {
			continue // unknown fields: a 422 for the body
		}
		if got := problems(t, r); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: %v, want %s", body, got, want)
		}
	}

	// Maria declares EUR 9,000.40 (rounded up to 9,001): the catalogue's band price.
	r = e.do("PUT", "/api/v1/me/isee", "cittadino.tradate", map[string]any{"isee_euro": 9000.40})
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"isee_euro":9001`) || !strings.Contains(string(r.body), `"source":"profile"`) {
		t.Fatalf("declared: %s", r.body)
	}
	l := e.services("cittadino.tradate", "q=doposcuola")
	isee := 9001
	want := l.Items[0].Service.Quote("tradate", &isee)
	if q := l.Items[0].CallerPrice; l.ISEE == nil || l.ISEE.Euro != 9001 || q.Basis != "band" || q.Cents != want.Cents ||
		q.Cents >= l.Items[0].PriceCents {
		t.Fatalf("caller price %+v (isee %+v), want %+v", q, l.ISEE, want)
	}

	// The personal area: a bad value stays in the field with its error (422),
	// a good one is saved and shown.
	cz := e.browser()
	cz.login("cittadino.tradate")
	p := cz.post("/me/isee", url.Values{"isee": {"tanti"}})
	expectPage(t, p, http.StatusUnprocessableEntity, `value="tanti"`, `aria-invalid="true"`, "Scrivi un importo in euro")
	p = cz.follow(cz.post("/me/isee", url.Values{"isee": {"25.000"}}))
	expectPage(t, p, http.StatusOK, "ISEE salvato", `value="25000"`, "dal tuo profilo")
	if l := e.services("cittadino.tradate", "q=doposcuola"); l.ISEE == nil || l.ISEE.Euro != 25000 {
		t.Fatalf("after the page: %+v", l.ISEE)
	}
	p = cz.follow(cz.post("/me/isee", url.Values{"isee": {""}}))
	expectPage(t, p, http.StatusOK, "ISEE tolto dal profilo", html.EscapeString("Nessun ISEE dichiarato"))
	if l := e.services("cittadino.tradate", "q=doposcuola"); l.ISEE != nil {
		t.Fatalf("after removal: %+v", l.ISEE)
	}

	// Each change is in the audit trail, which the supervisor reads.
	r = e.do("GET", "/api/v1/audit?actor=cittadino.tradate", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	if n := strings.Count(string(r.body), `"action":"isee_declared"`); n != 3 {
		t.Errorf("%d isee_declared rows, want 3: %s", n, r.body)
	}
}
