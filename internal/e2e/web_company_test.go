package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/api"
	"sportello/internal/apicontract"
	"sportello/internal/bookingtest"
	"sportello/internal/payments"
	"sportello/internal/seed"
	"sportello/internal/store"
)

// newCompanyStack is the stack with the payment sandbox as the provider of
// the portal, which knows its own address (the provider sends the welfare
// manager back to /azienda after a top-up).
func newCompanyStack(t *testing.T) *sagaStack {
	t.Helper()
	s := &sagaStack{stack: newStack(t)}
	s.startProvider(journeySecret)
	pay, err := payments.New(payments.Config{BaseURL: s.provider.URL, Secret: journeySecret})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	d := s.apiDeps()
	d.Payments, d.PaymentsSecret, d.PortalURL = pay, journeySecret, srv.URL
	h = apicontract.For(s.t, api.New(d))
	s.srv.Close()
	s.srv, s.portal = srv, srv
	t.Cleanup(srv.Close)
	return s
}

// issue 15 in the browser: the welfare manager of the demo company enrols
// an employee (a wrong tax code refused at the field first), imports a CSV
// file whose bad line is named at the field, tops up through the payment
// provider and sees the top-up credited, sees the spending of two
// employees suppressed, and opens last month's statement (a month refused
// at the field first), in Italian and English; the district's supervisor
// finds the same statement from the list of companies. axe checks every
// page.
func TestWebCompanyWelfare(t *testing.T) {
	s := newCompanyStack(t)
	ctx := context.Background()
	res := seed.Residents()

	m := loggedIn(t, s.srv.URL, "welfare", seed.DemoWelfareManager)
	m.Navigate("/azienda")
	assertPage(t, m, "Welfare aziendale", "Meccanica Tradatese S.r.l.", "Iscrivi un dipendente", "Social Point Meccanica Tradatese", "12:30–14:00")

	// One employee, a wrong tax code first.
	m.Fill("Codice fiscale del dipendente", "RSSMRA80A41L319Z")
	m.Submit("Iscrivi")
	if !m.Has("#error-summary") || !m.Has(`#f-tax-code[aria-invalid="true"]`) {
		t.Fatalf("wrong tax code:\n%s", m.MainText())
	}
	m.Axe()
	m.Fill("Codice fiscale del dipendente", res[3].TaxCode())
	m.Submit("Iscrivi")
	assertText(t, m, "Dipendente "+res[3].TaxCode()+" iscritto al piano.")

	// A CSV file with a bad line: nobody enrolled, the line named at the field.
	m.Fill("Contenuto del file CSV", "codice_fiscale\n"+res[4].TaxCode()+"\nNONVALIDO\n")
	m.Submit("Importa il file")
	if !m.Has(`#f-csv[aria-invalid="true"]`) || !strings.Contains(m.Text("#f-csv-error"), "Riga 3:") {
		t.Fatalf("bad CSV:\n%s", m.MainText())
	}
	m.Axe()
	m.Fill("Contenuto del file CSV", "codice_fiscale\n"+res[4].TaxCode()+"\n")
	m.Submit("Importa il file")
	assertText(t, m, "Dipendenti iscritti dal file: 1.")
	if got := m.Text("#company-enrolled"); got != "4" {
		t.Fatalf("enrolled %q, want 4", got)
	}

	// A top-up, paid at the provider and credited once it confirms.
	m.Fill("Importo della ricarica (€)", "250,00")
	m.Submit("Vai al pagamento")
	assertPage(t, m, "Pagamento della ricarica", "Ricarica di 250,00 €")
	m.Follow("Continua con il pagamento")
	if !strings.HasPrefix(m.URL(), s.provider.URL) {
		t.Fatalf("top-up: at %s, not at the provider", m.URL())
	}
	m.WaitVisible("button.pay")
	m.Submit("Pay")
	if !strings.HasPrefix(m.Path(), "/azienda") {
		t.Fatalf("back at %s", m.URL())
	}
	m.Submit("Verifica il pagamento")
	assertText(t, m, "Ricarica di 250,00 € accreditata sul conto dell'azienda.")
	m.Axe()

	// Two employees spend from their credits: the page hides the cell.
	var employees []string
	rows, err := s.st.Pool.Query(ctx, `SELECT id::text FROM company_employees WHERE company_id = $1 ORDER BY tax_code LIMIT 2`, seed.DemoCompanyID)
	if err != nil {
		t.Fatal(err)
	}
	if employees, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	b, err := bookingtest.Checkout(t, s.st, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range employees {
		if err := s.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
			_, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "test-hold:" + uuid.NewString(), From: store.CompanyCreditAccountID(e),
				To: store.BookingVoucherAccountID(b.ID), Amount: int64(1000 * (i + 1)), Kind: "hold", BookingID: b.ID})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	m.Navigate("/azienda")
	assertText(t, m, "Non mostrato (meno di 3 dipendenti)")
	if strings.Contains(m.Text("table.company-spending"), "€") {
		t.Fatalf("a suppressed amount is shown: %s", m.Text("table.company-spending"))
	}
	m.Axe()

	// All of it happened last month (a fixture: the clock is not moved).
	last := companyMoneyLastMonth(t, s.st)
	m.Follow("Rendiconti mensili e fatture")
	assertPage(t, m, "Rendiconti mensili e fatture", "Nessun rendiconto ancora.")
	m.Fill("Mese (AAAA-MM)", "2026-13")
	m.Submit("Mostra il rendiconto")
	if !m.Has(`#f-month[aria-invalid="true"]`) {
		t.Fatalf("bad month:\n%s", m.MainText())
	}
	m.Axe()
	m.Fill("Mese (AAAA-MM)", last)
	m.Submit("Mostra il rendiconto")
	// Opening 0; top-ups 3,000 + 250; four credits of 600 allotted; closing 850.
	assertPage(t, m, "Rendiconto di "+last, "Saldo iniziale", "3.250,00 €", "2.400,00 €", "Non mostrato (meno di 3 dipendenti)",
		"Intestata a", "Partita IVA "+seed.DemoCompany().VATNumber, "Scarica in CSV", "Scarica in PDF")
	if got := m.Text("#st-closing"); got != "850,00 €" {
		t.Fatalf("closing %q, want 850,00 €", got)
	}
	if code := m.Text("#invoice-code"); !strings.HasSuffix(code, "/0001") {
		t.Fatalf("invoice number %q", code)
	}
	noSidewaysScroll(t, m)
	m.Navigate("/lang/en?next=/companies/" + seed.DemoCompanyID + "/statements/" + last)
	assertPage(t, m, "Statement of "+last, "Closing balance", "Not shown (fewer than 3 employees)", "Billed to", "Download as CSV", "Download as PDF")
	m.Navigate("/companies/" + seed.DemoCompanyID + "/statements")
	assertPage(t, m, "Monthly statements and invoices", last)
	m.Navigate("/azienda")
	assertPage(t, m, "Company welfare", "Enrol an employee", "Not shown (fewer than 3 employees)")

	// The district's supervisor finds the company and the same statement.
	sup := loggedIn(t, s.srv.URL, "supervisor", "supervisore")
	sup.Navigate("/companies")
	assertPage(t, sup, "Aziende del welfare", "Meccanica Tradatese S.r.l.")
	sup.Follow("Meccanica Tradatese S.r.l.")
	assertPage(t, sup, "Rendiconti mensili e fatture", last)
	sup.Follow(last)
	assertPage(t, sup, "Rendiconto di "+last, "Non mostrato (meno di 3 dipendenti)")
	if got := sup.Text("#st-closing"); got != "850,00 €" {
		t.Fatalf("the supervisor's closing %q", got)
	}
}

// companyMoneyLastMonth moves every company money movement one month back
// and the companies' joining two (a fixture: the clock is not moved), and
// gives last month (YYYY-MM), whose statement now holds them.
func companyMoneyLastMonth(t *testing.T, st *store.Store) string {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Pool.Exec(ctx, `UPDATE transfers SET created_at = created_at - interval '1 month'
		WHERE from_account LIKE 'company%' OR to_account LIKE 'company%'`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE companies SET created_at = created_at - interval '2 months'`); err != nil {
		t.Fatal(err)
	}
	return store.StatementMonth(time.Now()).AddDate(0, -1, 0).Format("2006-01")
}
