package e2e

import (
	"context"
	"strings"
	"testing"

	"sportello/internal/seed"
	"sportello/internal/store"
)

// issue 15 in the browser, the rest of the welfare manager's work and the
// supervisor's: the manager withdraws an employee from /azienda (the row's
// button, then the confirmation; a wrong tax code and one not enrolled
// refused at the field), changes the hosted Social Point's hours (an
// interval closing before it opens, an overlap and a bad clock each
// refused at its own field, then saved), in Italian and English; the
// district's supervisor changes the same point's hours from the list of
// Social Points. axe checks every page.
func TestWebCompanyWithdrawAndHours(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	var codes []string
	rows, err := s.st.Pool.Query(ctx, `SELECT tax_code FROM company_employees WHERE company_id = $1 AND status = 'enrolled' ORDER BY tax_code`, seed.DemoCompanyID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c)
	}
	if rows.Close(); len(codes) != 2 {
		t.Fatalf("demo employees %v", codes)
	}
	leaver, stayer := codes[0], codes[1]

	m := loggedIn(t, s.srv.URL, "welfare", seed.DemoWelfareManager)
	m.Navigate("/azienda")
	assertPage(t, m, "Welfare aziendale", leaver, stayer)

	// The row's button asks first; a wrong tax code is refused at the field.
	m.Submit("Ritira " + leaver)
	assertPage(t, m, "Ritiro di un dipendente dal piano", "torna al saldo dell'azienda")
	if got := m.Value("#f-withdraw-tax-code"); got != leaver {
		t.Fatalf("confirmation for %q, want %s", got, leaver)
	}
	m.Fill("Codice fiscale del dipendente", "RSSMRA80A41L319Z")
	m.Submit("Conferma il ritiro")
	if !m.Has("#error-summary") || !m.Has(`#f-withdraw-tax-code[aria-invalid="true"]`) {
		t.Fatalf("wrong tax code:\n%s", m.MainText())
	}
	m.Axe()
	m.Fill("Codice fiscale del dipendente", leaver)
	m.Submit("Conferma il ritiro")
	assertText(t, m, "Dipendente "+leaver+" ritirato dal piano")
	if got := m.Text("#company-enrolled"); got != "1" {
		t.Fatalf("enrolled %q after the withdrawal, want 1", got)
	}
	if strings.Contains(m.Text("table.company-employees"), "Ritira "+leaver) {
		t.Fatalf("the withdrawn employee can be withdrawn again:\n%s", m.Text("table.company-employees"))
	}
	var status string
	if err := s.st.Pool.QueryRow(ctx, `SELECT status FROM company_employees WHERE tax_code = $1`, leaver).Scan(&status); err != nil || status != "withdrawn" {
		t.Fatalf("status %q (%v)", status, err)
	}
	var audited int
	if err := s.st.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'company_withdraw' AND acting_for = $1 AND actor_role = 'welfare_manager'`, leaver).Scan(&audited); err != nil || audited == 0 {
		t.Fatalf("%d audit rows of the withdrawal (%v)", audited, err)
	}
	m.Axe()
	// Someone no longer enrolled: at the field too.
	m.Submit("Ritira " + stayer)
	m.Fill("Codice fiscale del dipendente", leaver)
	m.Submit("Conferma il ritiro")
	if !m.Has(`#f-withdraw-tax-code[aria-invalid="true"]`) || !strings.Contains(m.Text("#f-withdraw-tax-code-error"), "non risulta iscritto") {
		t.Fatalf("withdrawn twice:\n%s", m.MainText())
	}
	m.Axe()
	m.Follow("Annulla")
	assertPath(t, m, "/azienda")

	// The hosted point's hours: each refusal at its field.
	m.Follow("Modifica gli orari Social Point Meccanica Tradatese")
	assertPage(t, m, "Orari di Social Point Meccanica Tradatese", "Lunedì", "Domenica")
	if got := m.Value(m.Field("Martedì, fascia 1: apertura")); got != "12:30" {
		t.Fatalf("Tuesday opens %q, want 12:30", got)
	}
	m.Fill("Lunedì, fascia 1: apertura", "10:00")
	m.Fill("Lunedì, fascia 1: chiusura", "09:00")
	m.Fill("Martedì, fascia 2: apertura", "13:00")
	m.Fill("Martedì, fascia 2: chiusura", "15:00")
	m.Fill("Mercoledì, fascia 1: apertura", "25:00")
	m.Fill("Mercoledì, fascia 1: chiusura", "26:00")
	m.Submit("Salva gli orari")
	for _, f := range []string{"#f-h-1-0-closes", "#f-h-2-1-opens", "#f-h-3-0-opens"} {
		if !m.Has(f + `[aria-invalid="true"]`) {
			t.Errorf("%s not marked:\n%s", f, m.MainText())
		}
	}
	assertText(t, m, "L'orario di chiusura deve seguire quello di apertura.", "si sovrappone", "HH:MM")
	if n := m.Count(`#error-summary li`); n != 3 {
		t.Errorf("%d errors in the summary, want 3:\n%s", n, m.Text("#error-summary"))
	}
	m.Axe()
	m.Fill("Lunedì, fascia 1: apertura", "")
	m.Fill("Lunedì, fascia 1: chiusura", "")
	m.Fill("Martedì, fascia 2: apertura", "15:00")
	m.Fill("Martedì, fascia 2: chiusura", "16:30")
	m.Fill("Mercoledì, fascia 1: apertura", "")
	m.Fill("Mercoledì, fascia 1: chiusura", "")
	m.Submit("Salva gli orari")
	assertPath(t, m, "/azienda")
	assertText(t, m, "Orari di Social Point Meccanica Tradatese aggiornati.", "12:30–14:00", "15:00–16:30")
	p, err := s.st.API().SocialPoint(ctx, store.System, seed.DemoCompanyPointID)
	if err != nil || len(p.Hours) != 3 {
		t.Fatalf("hours %+v (%v)", p.Hours, err)
	}

	// In English: the same pages.
	m.Navigate("/lang/en?next=/azienda")
	assertPage(t, m, "Company welfare", "Withdraw")
	m.Submit("Withdraw " + stayer)
	assertPage(t, m, "Withdraw an employee from the plan", "Confirm the withdrawal")
	m.Follow("Cancel")
	m.Follow("Change the hours Social Point Meccanica Tradatese")
	assertPage(t, m, "Hours of Social Point Meccanica Tradatese", "Monday")
	m.Fill("Thursday, interval 1: closes", "12:00")
	m.Submit("Save the hours")
	if !m.Has(`#f-h-4-0-closes[aria-invalid="true"]`) {
		t.Fatalf("English, closing before opening:\n%s", m.MainText())
	}
	assertText(t, m, "closing time")
	m.Axe()

	// Last month's statement (the withdrawal moved there: a fixture, the
	// clock is not moved) hides the credit the one leaver returned, and its
	// closing balance still counts it.
	last := companyMoneyLastMonth(t, s.st)
	m.Navigate("/companies/" + seed.DemoCompanyID + "/statements")
	m.Fill("Month (YYYY-MM)", last)
	m.Submit("Show the statement")
	assertPage(t, m, "Statement of "+last, "Download as PDF")
	if got := m.Text("#st-revoked"); got != "Not shown (fewer than 3 employees)" {
		t.Fatalf("returned credit of one employee shown: %q", got)
	}
	// EUR 3,000 topped up, two credits of 600 allotted, one returned whole.
	if got := m.Text("#st-closing"); got != "€2,400.00" {
		t.Fatalf("closing %q, want €2,400.00", got)
	}

	// The district's supervisor, from the list of Social Points.
	sup := loggedIn(t, s.srv.URL, "supervisor", "supervisore")
	sup.Navigate("/social-points")
	sup.Follow("Modifica gli orari Social Point Meccanica Tradatese")
	assertPage(t, sup, "Orari di Social Point Meccanica Tradatese")
	sup.Fill("Giovedì, fascia 1: apertura", "12:00")
	sup.Submit("Salva gli orari")
	assertPath(t, sup, "/social-points")
	assertText(t, sup, "Orari di Social Point Meccanica Tradatese aggiornati.", "12:00–14:00")
	sup.Axe()
	sup.Navigate("/lang/en?next=/social-points/" + seed.DemoCompanyPointID + "/hours")
	assertPage(t, sup, "Hours of Social Point Meccanica Tradatese", "Thursday")
}
