package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sportello/api"
	"sportello/internal/seed"
	"sportello/internal/store"
)

// newCompanyEnv is the API with the payment sandbox as its provider.
func newCompanyEnv(t *testing.T) *env {
	t.Helper()
	_, _, pc := newPaySandbox(t, "company-test-secret")
	return newEnvWith(t, func(d *api.Deps) {
		d.Payments, d.PaymentsSecret, d.PortalURL = pc, "company-test-secret", "http://127.0.0.1:1"
	})
}

func TestCompanyWelfareAPI(t *testing.T) {
	e := newCompanyEnv(t)
	const mgr = seed.DemoWelfareManager
	res := seed.Residents()
	newcomer := res[3].TaxCode() // Giulia Ferrari

	// The plan view.
	var o store.CompanyOverview
	r := e.do("GET", "/api/v1/company", mgr, nil)
	if r.status != http.StatusOK {
		t.Fatalf("company: %d %s", r.status, r.body)
	}
	r.json(t, &o)
	if o.Company.ID != seed.DemoCompanyID || o.Enrolled != 2 || o.Plan.AnnualCreditCents != seed.DemoCompanyCreditCents {
		t.Fatalf("overview: %+v", o)
	}
	// Other roles: 403.
	for _, u := range []string{"cittadino.tradate", "supervisore", "operatore.tradate", "coop.baobab"} {
		if r := e.do("GET", "/api/v1/company", u, nil); r.status != http.StatusForbidden {
			t.Errorf("company as %s: %d", u, r.status)
		}
	}

	// Enrol: a bad tax code is 422, a good one 201, twice 409.
	r = e.do("POST", "/api/v1/company/employees", mgr, map[string]string{"tax_code": "RSSMRA80A41L319Z"})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "/tax_code") {
		t.Fatalf("bad tax code: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/company/employees", mgr, map[string]string{"tax_code": strings.ToLower(newcomer)})
	if r.status != http.StatusCreated || !strings.Contains(string(r.body), newcomer) {
		t.Fatalf("enrol: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/company/employees", mgr, map[string]string{"tax_code": newcomer})
	if r.status != http.StatusConflict || r.errorBody(t).Code != "already_enrolled" {
		t.Fatalf("enrol twice: %d %s", r.status, r.body)
	}

	// CSV: every line checked, all or nothing.
	csvHdr := hdr{"Content-Type": "text/csv"}
	bad := "codice_fiscale\n" + res[4].TaxCode() + "\nNOTATAXCODE\n" + res[4].TaxCode() + "\n" + newcomer + "\n"
	r = e.do("POST", "/api/v1/company/employees/import", mgr, bad, csvHdr)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad csv: %d %s", r.status, r.body)
	}
	for _, want := range []string{"/lines/3", "/lines/4", "repeated"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("bad csv: no %q in %s", want, r.body)
		}
	}
	r = e.do("POST", "/api/v1/company/employees/import", mgr, res[4].TaxCode()+";x\n"+newcomer+";y\n", csvHdr)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "/lines/2") || !strings.Contains(string(r.body), "already_enrolled") {
		t.Fatalf("csv with an enrolled tax code: %d %s", r.status, r.body)
	}
	var emps []store.CompanyEmployee
	e.do("GET", "/api/v1/company/employees", mgr, nil).json(t, &emps)
	if len(emps) != 3 {
		t.Fatalf("after refused files: %d employees (nothing of a refused file is enrolled)", len(emps))
	}
	r = e.do("POST", "/api/v1/company/employees/import", mgr, "\ufeff"+res[4].TaxCode()+"\n\n", csvHdr)
	if r.status != http.StatusCreated || !strings.Contains(string(r.body), `"enrolled":1`) {
		t.Fatalf("good csv: %d %s", r.status, r.body)
	}

	// Withdraw.
	r = e.do("POST", "/api/v1/company/employees/withdrawal", mgr, map[string]string{"tax_code": newcomer})
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"withdrawn"`) {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	if r = e.do("POST", "/api/v1/company/employees/withdrawal", mgr, map[string]string{"tax_code": newcomer}); r.status != http.StatusNotFound {
		t.Fatalf("withdraw twice: %d %s", r.status, r.body)
	}

	// The employee's own credit; nobody else's.
	var credits []store.EmployeeCredit
	r = e.do("GET", "/api/v1/me/company-credits", "cittadino.tradate", nil)
	r.json(t, &credits)
	if r.status != http.StatusOK || len(credits) != 1 || credits[0].CreditCents != seed.DemoCompanyCreditCents {
		t.Fatalf("Maria's credits: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/me/company-credits", "cittadino.vedano", nil); r.status != http.StatusOK || string(r.body) != "[]" {
		t.Fatalf("Giovanni's credits: %d %s", r.status, r.body)
	}

	// Spending and the supervisor's aggregates name no employee.
	for _, c := range []struct{ path, user string }{{"/api/v1/company/spending", mgr}, {"/api/v1/companies", "supervisore"}} {
		r := e.do("GET", c.path, c.user, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, r.status, r.body)
		}
		for _, x := range res {
			if strings.Contains(string(r.body), x.TaxCode()) || strings.Contains(string(r.body), x.LastName) {
				t.Errorf("%s names %s %s: %s", c.path, x.FirstName, x.LastName, r.body)
			}
		}
	}

	// A top-up is booked only once the provider confirms it.
	balance := func() int64 {
		var o store.CompanyOverview
		e.do("GET", "/api/v1/company", mgr, nil).json(t, &o)
		return o.BalanceCents
	}
	before := balance()
	if before != o.BalanceCents-seed.DemoCompanyCreditCents { // one more enrolled (Anna Brambilla)
		t.Fatalf("balance %d, want %d", before, o.BalanceCents-seed.DemoCompanyCreditCents)
	}
	if r := e.do("POST", "/api/v1/company/top-ups", mgr, map[string]int64{"amount_cents": 0}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("top-up of 0: %d %s", r.status, r.body)
	}
	var tu store.TopUp
	r = e.do("POST", "/api/v1/company/top-ups", mgr, map[string]int64{"amount_cents": 25_000})
	if r.status != http.StatusCreated {
		t.Fatalf("top-up: %d %s", r.status, r.body)
	}
	r.json(t, &tu)
	if tu.Status != store.TopUpPending || tu.PaymentURL == "" {
		t.Fatalf("top-up: %+v", tu)
	}
	if r := e.do("POST", "/api/v1/company/top-ups/"+tu.ID+"/confirmation", mgr, nil); r.status != http.StatusConflict || r.errorBody(t).Code != "topup_not_paid" {
		t.Fatalf("confirm before paying: %d %s", r.status, r.body)
	}
	if balance() != before {
		t.Fatalf("balance moved before the payment")
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	pres, err := hc.PostForm(tu.PaymentURL+"/confirm", url.Values{"lang": {"it"}})
	if err != nil {
		t.Fatal(err)
	}
	pres.Body.Close()
	for range 2 {
		r = e.do("POST", "/api/v1/company/top-ups/"+tu.ID+"/confirmation", mgr, nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"paid"`) {
			t.Fatalf("confirm: %d %s", r.status, r.body)
		}
	}
	if got := balance(); got != before+25_000 {
		t.Fatalf("balance %d after the top-up, want %d", got, before+25_000)
	}
	if r := e.do("GET", "/api/v1/company/top-ups", mgr, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), tu.ID) {
		t.Fatalf("top-ups: %d %s", r.status, r.body)
	}
	if problem, err := store.LedgerCheck(context.Background(), e.st.Pool); err != nil || problem != "" {
		t.Fatalf("ledger: %v %s", err, problem)
	}
}
