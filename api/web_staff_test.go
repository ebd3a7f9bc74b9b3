package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hiddenKey reads the hidden idempotency key of the form posting to action.
func hiddenKey(t *testing.T, body, action string) string {
	t.Helper()
	i := strings.Index(body, `action="`+action+`"`)
	if i < 0 {
		t.Fatalf("no form posting to %s\n%s", action, body)
	}
	m := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(body[i:])
	if m == nil {
		t.Fatalf("no hidden key in the form posting to %s", action)
	}
	return m[1]
}

func TestWebStaffInboxClaimAndDecision(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	other := e.apply("cittadino.vedano")
	tk := e.waitTask("operatore.tradate", c.ID)
	e.waitTask("operatore.vedano", other.ID)

	op := e.browser()
	op.login("operatore.tradate")

	// The inbox lists the own municipality's task, not another's.
	p := op.get("/inbox")
	expectPage(t, p, http.StatusOK, "<h1>Pratiche da lavorare</h1>", `href="/cases/`+c.ID+`"`, "Maria Rossi",
		`<th scope="col">`, "<caption>", `action="/tasks/`+tk.ID+`/claim"`)
	if strings.Contains(p.body, other.ID) {
		t.Errorf("the Tradate operator sees the Vedano case %s", other.ID)
	}
	// Filters keep working (and an unknown value falls back to the default).
	expectPage(t, op.get("/inbox?status=done&sort=due&overdue=1"), http.StatusOK, "Nessuna pratica corrisponde ai filtri.")
	expectPage(t, op.get("/inbox?status=bogus&page=-3"), http.StatusOK, c.ID)

	// An overdue task shows a text badge and passes the "overdue only" filter.
	if _, err := e.st.Pool.Exec(context.Background(), `UPDATE tasks SET due_at = now() - interval '1 hour' WHERE id = $1`, tk.ID); err != nil {
		t.Fatal(err)
	}
	expectPage(t, op.get("/inbox?overdue=1"), http.StatusOK, c.ID, `<span class="badge bg-danger">Scaduta</span>`)
	// The supervisor sees the whole district and filters by municipality.
	sv := e.browser()
	sv.login("supervisore")
	sp := sv.get("/inbox")
	expectPage(t, sp, http.StatusOK, c.ID, other.ID, `<select id="f-municipality" name="municipality"`)
	if i, j := strings.Index(sp.body, c.ID), strings.Index(sp.body, other.ID); i > j {
		t.Error("the overdue task is not listed first")
	}
	sp = sv.get("/inbox?municipality=vedano-olona")
	expectPage(t, sp, http.StatusOK, other.ID, `<option value="vedano-olona" selected>`)
	if strings.Contains(sp.body, c.ID) {
		t.Error("the municipality filter lets another municipality's task through")
	}

	// A foreign operator gets a 404 on the case page, and on its task.
	vo := e.browser()
	vo.login("operatore.vedano")
	expectPage(t, vo.get("/cases/"+c.ID), http.StatusNotFound, "Pagina non trovata")
	expectPage(t, vo.post("/tasks/"+tk.ID+"/claim", url.Values{"next": {"/inbox"}}), http.StatusNotFound)

	// Claim from the inbox: Post/Redirect/Get back to the inbox with a flash.
	res := op.post("/tasks/"+tk.ID+"/claim", url.Values{"next": {"/inbox"}, "key": {hiddenKey(t, p.body, "/tasks/"+tk.ID+"/claim")}})
	if res.status != http.StatusSeeOther || res.location != "/inbox" {
		t.Fatalf("claim: %d %q\n%s", res.status, res.location, res.body)
	}
	p = op.follow(res)
	expectPage(t, p, http.StatusOK, "Hai preso in carico la pratica "+c.ID, `role="status"`, "operatore.tradate",
		`action="/tasks/`+tk.ID+`/release"`)
	// Release and claim again, from the case page this time.
	p = op.follow(op.post("/tasks/"+tk.ID+"/release", url.Values{"next": {"/inbox"}}))
	expectPage(t, p, http.StatusOK, "Hai rilasciato la pratica "+c.ID, `action="/tasks/`+tk.ID+`/claim"`)
	res = op.post("/tasks/"+tk.ID+"/claim", url.Values{"next": {"/cases/" + c.ID}})
	if res.status != http.StatusSeeOther || res.location != "/cases/"+c.ID {
		t.Fatalf("claim from the case page: %d %q", res.status, res.location)
	}
	// A foreign "next" is not followed.
	res = op.post("/tasks/"+tk.ID+"/claim", url.Values{"next": {"https://evil.example/"}})
	if res.location != "/inbox" {
		t.Errorf("claim went back to %q", res.location)
	}

	// The supervisor's claim is refused with a flash alert naming the claimer.
	sup := e.browser()
	sup.login("supervisore")
	p = sup.follow(sup.post("/tasks/"+tk.ID+"/claim", url.Values{"next": {"/cases/" + c.ID}}))
	expectPage(t, p, http.StatusOK, `role="alert"`, "già presa in carico da operatore.tradate", "<h1>Pratica "+c.ID+"</h1>")

	// The staff case page: data with the form's titles, pre-check, history, decision form.
	deadline := time.Now().Add(20 * time.Second)
	for {
		p = op.get("/cases/" + c.ID)
		expectPage(t, p, http.StatusOK)
		if strings.Contains(p.body, "Residenza nell&#39;ambito") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	expectPage(t, p, http.StatusOK, "<h1>Pratica "+c.ID+"</h1>", "Codice fiscale", "Nucleo familiare", "Componenti", "<dd class=\"col-12 col-md-8\">Tradate</dd>",
		"Scarico online / stampa", "Residenza nell&#39;ambito", "Superato", `aria-label="Superato"`, "residente in anagrafe a Tradate", "Domanda presentata",
		"Pratica presa in carico", `href="http://temporal-ui.test/namespaces/`, `name="outcome"`, `id="amount"`,
		`id="reason"`, `action="/tasks/`+tk.ID+`/decision"`, "regola del fondo: ", " €. Usa la virgola per i decimali")
	if n := strings.Count(p.body, "<h1"); n != 1 {
		t.Errorf("%d h1 on the case page", n)
	}

	// A rejection without a reason: the page again, the error next to the reason.
	key := hiddenKey(t, p.body, "/tasks/"+tk.ID+"/decision")
	p = op.post("/tasks/"+tk.ID+"/decision", url.Values{"outcome": {"reject"}, "reason": {"  "}, "key": {key}})
	expectPage(t, p, http.StatusUnprocessableEntity, `id="reason-error"`, "la motivazione è obbligatoria",
		`aria-invalid="true"`, `href="#reason"`, `id="error-summary"`, `value="reject" checked`)
	// An amount that is not one: an error next to the amount.
	p = op.post("/tasks/"+tk.ID+"/decision", url.Values{"outcome": {"approve"}, "amount": {"dodici"}, "key": {key}})
	expectPage(t, p, http.StatusUnprocessableEntity, `id="amount-error"`, "Importo non valido", `value="dodici"`)
	// Above the fund's maximum: the workflow's own refusal, next to the amount.
	p = op.post("/tasks/"+tk.ID+"/decision", url.Values{"outcome": {"approve"}, "amount": {"100.000,00"}, "key": {key}})
	expectPage(t, p, http.StatusUnprocessableEntity, `id="amount-error"`, "al massimo")

	// Approval with an Italian decimal comma: the voucher is created.
	key = hiddenKey(t, p.body, "/tasks/"+tk.ID+"/decision")
	res = op.post("/tasks/"+tk.ID+"/decision", url.Values{"outcome": {"approve"}, "amount": {"250,50"}, "reason": {""}, "key": {key}})
	if res.status != http.StatusSeeOther || res.location != "/cases/"+c.ID {
		t.Fatalf("approve: %d %q\n%s", res.status, res.location, res.body)
	}
	var amount int64
	var status string
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT v.amount_cents, c.status FROM vouchers v JOIN cases c ON c.id = v.case_id
		WHERE v.case_id = $1`, c.ID).Scan(&amount, &status); err != nil {
		t.Fatalf("voucher of %s: %v", c.ID, err)
	}
	if amount != 25050 || status != "approved" {
		t.Errorf("voucher %d cents, case %s", amount, status)
	}
	p = op.follow(res)
	expectPage(t, p, http.StatusOK, "Pratica "+c.ID+" accolta: assegnati 250,50 €", "Domanda accolta", "Importo 250,50 €.")
	// The same form posted again (double click) is applied once.
	res = op.post("/tasks/"+tk.ID+"/decision", url.Values{"outcome": {"approve"}, "amount": {"250,50"}, "key": {key}})
	if res.status != http.StatusSeeOther {
		t.Errorf("second approval: %d\n%s", res.status, res.body)
	}

	// In English, the same page speaks English.
	op.get("/lang/en?next=/")
	expectPage(t, op.get("/cases/"+c.ID), http.StatusOK, `<html lang="en">`, "Application approved", "Household")
}

func TestWebStaffTillSearchFunds(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	tk := e.waitTask("operatore.tradate", c.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	r := e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"})
	expectStatus(t, r, http.StatusOK)
	var dec struct {
		VoucherID string `json:"voucher_id"`
	}
	r.json(t, &dec)
	var v struct {
		Code           string `json:"code"`
		AvailableCents int64  `json:"available_cents"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for v.AvailableCents == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("voucher never released\n%s", e.workflowDiagnosis(c.ID))
		}
		r = e.do("GET", "/api/v1/vouchers/"+dec.VoucherID, "cittadino.tradate", nil)
		expectStatus(t, r, http.StatusOK)
		r.json(t, &v)
		time.Sleep(50 * time.Millisecond)
	}

	m := e.browser()
	m.login("esercente.tradate")
	p := m.get("/till")
	expectPage(t, p, http.StatusOK, "<h1>Cassa buoni</h1>", `<label for="code"`, `<label for="amount"`,
		`autocomplete="off"`, `inputmode="text"`, "Nessun incasso registrato.")
	if strings.Contains(p.body, "autofocus") {
		t.Error("the till uses autofocus")
	}
	key := hiddenKey(t, p.body, "/till")

	// An unknown code and a bad amount are clear errors, not 500s.
	p = m.post("/till", url.Values{"code": {"AAAA-BBBB-CCCC-DDDD"}, "amount": {"5"}, "key": {key}})
	expectPage(t, p, http.StatusNotFound, "Buono non trovato")
	p = m.post("/till", url.Values{"code": {v.Code}, "amount": {"zero"}, "key": {key}})
	expectPage(t, p, http.StatusUnprocessableEntity, `id="amount-error"`, "Importo non valido")
	p = m.post("/till", url.Values{"code": {v.Code}, "amount": {"999.999,00"}, "key": {key}})
	expectPage(t, p, http.StatusConflict, `role="alert"`, "Credito del buono insufficiente")

	// A double submit of the same form redeems once.
	code := strings.ToLower(strings.ReplaceAll(v.Code, "-", " "))
	form := url.Values{"code": {code}, "amount": {"12,50"}, "key": {key}}
	first := m.post("/till", form)
	second := m.post("/till", form)
	remaining := euroIT(v.AvailableCents - 1250)
	expectPage(t, first, http.StatusOK, "Ricevuta", "Incasso registrato.", "12,50 €", remaining, "Farmacia Comunale di Tradate")
	expectPage(t, second, http.StatusOK, "Ricevuta", remaining, "già stato registrato")
	num := regexp.MustCompile(`Numero ricevuta</dt><dd[^>]*>([^<]+)<`).FindStringSubmatch(first.body)
	if num == nil || !strings.Contains(second.body, num[1]) {
		t.Errorf("the two receipts differ")
	}
	var n int
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
		WHERE v.case_id = $1`, c.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d redemptions after a double submit, want 1", n)
	}
	holder := demoUser(t, "cittadino.tradate")
	for _, p := range []page{first, second, m.get("/till")} {
		for _, secret := range []string{"Maria", "Rossi", holder.TaxCode, c.ID} {
			if strings.Contains(p.body, secret) {
				t.Errorf("the till shows %q", secret)
			}
		}
	}
	expectPage(t, m.get("/till"), http.StatusOK, "Ultimi incassi", v.Code[len(v.Code)-4:])
	// Staff pages are not the merchant's.
	expectPage(t, m.get("/inbox"), http.StatusForbidden)

	// Funds: the operator's own fund with its figures, in Italian format.
	op := e.browser()
	op.login("operatore.tradate")
	p = op.get("/funds")
	expectPage(t, p, http.StatusOK, "<h1>Fondi</h1>", "<caption>Fondi del comune di Tradate</caption>", "Dotazione",
		"Disponibile", "12,50 €", `<th scope="row">`)
	r = e.do("GET", "/api/v1/funds", "operatore.tradate", nil)
	var funds struct {
		Items []struct {
			Kind                                      string
			BudgetCents, AwardedCents, AvailableCents int64
		} `json:"items"`
	}
	r.json(t, &funds)
	if len(funds.Items) != 2 { // food and service
		t.Fatalf("funds %s", r.body)
	}
	food := funds.Items[0]
	if food.Kind != "food" {
		food = funds.Items[1]
	}
	for _, cents := range []int64{food.BudgetCents, food.AwardedCents, food.AvailableCents} {
		if !strings.Contains(p.body, euroIT(cents)) {
			t.Errorf("funds page lacks %s", euroIT(cents))
		}
	}
	sup := e.browser()
	sup.login("supervisore")
	expectPage(t, sup.get("/funds"), http.StatusOK, "Fondi dell&#39;ambito", "Totale", "Vedano Olona")

	// Search: the supervisor finds the case by tax code (any case) and goes
	// straight to it by number; another district's supervisor finds nothing.
	p = sup.get("/search?q=" + url.QueryEscape(strings.ToLower(holder.TaxCode)))
	expectPage(t, p, http.StatusOK, `href="/cases/`+c.ID+`"`, "Pratiche trovate per", ": 1.")
	p = sup.get("/search?q=" + strings.ToLower(c.ID))
	if p.status != http.StatusSeeOther || p.location != "/cases/"+c.ID {
		t.Errorf("search by number: %d %q", p.status, p.location)
	}
	expectPage(t, sup.follow(p), http.StatusOK, "<h1>Pratica "+c.ID+"</h1>", "Domanda accolta")
	pd := e.browser()
	pd.login("supervisore.padova")
	p = pd.get("/search?q=" + url.QueryEscape(holder.TaxCode))
	expectPage(t, p, http.StatusOK, "Nessuna pratica trovata")
	if strings.Contains(p.body, c.ID) {
		t.Error("another district's supervisor finds the case")
	}
	p = pd.get("/search?q=" + c.ID)
	expectPage(t, p, http.StatusOK, "Nessuna pratica trovata")
	expectPage(t, pd.get("/cases/"+c.ID), http.StatusNotFound)
}

// euroIT formats cents as the Italian pages do: "1.234,50 €".
func euroIT(cents int64) string {
	s := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s,%02d €", b.String(), cents%100)
}
