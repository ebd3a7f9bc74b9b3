package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/app/company"
	"sportello/internal/bookingtest"
	"sportello/internal/seed"
	"sportello/internal/store"
)

// statementJSON is a statement as the API sends it.
type statementJSON struct {
	ID            string                 `json:"id"`
	CompanyID     string                 `json:"company_id"`
	Month         string                 `json:"month"`
	OpeningCents  int64                  `json:"opening_cents"`
	TopUpsCents   int64                  `json:"topups_cents"`
	AllottedCents int64                  `json:"allotted_cents"`
	RevokedCents  int64                  `json:"revoked_cents"`
	ClosingCents  int64                  `json:"closing_cents"`
	SpendingTotal *int64                 `json:"spending_total_cents"`
	Spending      []company.SpendingCell `json:"spending"`
	Invoice       *store.CompanyInvoice  `json:"invoice"`
	IssuedBy      string                 `json:"issued_by"`
}

// The monthly statement over the API: the demo company's money moved into
// last month (a fixture: its top-up, two enrolments, two employees'
// bookings), the statement issued on demand once (a second request, the
// supervisor's too, gets the same one), reconciled to the cent, its
// spending suppressed (two employees), its invoice numbered 1 and the next
// company's 2; months refused at the field; another company's 404; the
// CSV in both languages; suppression lifted on the spending list at three
// employees; audit rows of the manager's actions; the hosted point's hours.
func TestCompanyStatementsAPI(t *testing.T) {
	e := newCompanyEnv(t)
	ctx := context.Background()
	const mgr = seed.DemoWelfareManager
	sql := func(q string, args ...any) {
		t.Helper()
		if _, err := e.st.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	acct := store.CompanyAccountID(seed.DemoCompanyID)
	var employees []string
	rows, err := e.st.Pool.Query(ctx, `SELECT id::text FROM company_employees WHERE company_id = $1 ORDER BY tax_code`, seed.DemoCompanyID)
	if err != nil {
		t.Fatal(err)
	}
	employees, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(employees) != 2 {
		t.Fatalf("employees %v: %v", employees, err)
	}
	// Two employees' bookings paid from their credits.
	b, err := bookingtest.Checkout(t, e.st, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	hold := func(employee string, cents int64) {
		t.Helper()
		if err := e.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
			_, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "test-hold:" + uuid.NewString(),
				From: store.CompanyCreditAccountID(employee), To: store.BookingVoucherAccountID(b.ID), Amount: cents,
				Kind: "hold", BookingID: b.ID})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	hold(employees[0], 1000)
	hold(employees[1], 2000)
	// Everything so far happened last month; the company joined before.
	sql(`UPDATE transfers SET created_at = created_at - interval '1 month'
		WHERE from_account = $1 OR to_account = $1 OR from_account LIKE 'company_credit:%' OR to_account LIKE 'company_credit:%'`, acct)
	sql(`UPDATE companies SET created_at = created_at - interval '2 months' WHERE id = $1`, seed.DemoCompanyID)
	last := store.StatementMonth(time.Now()).AddDate(0, -1, 0).Format("2006-01")

	// Spending: one cell of two employees, suppressed.
	r := e.do("GET", "/api/v1/company/spending", mgr, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"suppressed":true`) || strings.Contains(string(r.body), "spent_cents") {
		t.Fatalf("spending of two employees: %d %s", r.status, r.body)
	}

	// Months refused at the field.
	path := "/api/v1/companies/" + seed.DemoCompanyID + "/statements"
	for _, m := range []string{"2026-13", "", store.StatementMonth(time.Now()).Format("2006-01"), "2001-01"} {
		r := e.do("POST", path, mgr, map[string]string{"month": m})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"/month"`) {
			t.Errorf("month %q: %d %s", m, r.status, r.body)
		}
	}

	// Issued once, reconciled, suppressed, invoiced.
	var st statementJSON
	r = e.do("POST", path, mgr, map[string]string{"month": last})
	if r.status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.status, r.body)
	}
	r.json(t, &st)
	allotted := 2 * int64(seed.DemoCompanyCreditCents)
	if st.Month != last || st.OpeningCents != 0 || st.TopUpsCents != 300_000 || st.AllottedCents != allotted ||
		st.ClosingCents != 300_000-allotted || st.IssuedBy != mgr {
		t.Fatalf("statement: %s", r.body)
	}
	if len(st.Spending) != 1 || !st.Spending[0].Suppressed || st.Spending[0].SpentCents != nil || st.SpendingTotal != nil {
		t.Fatalf("statement's spending not suppressed: %s", r.body)
	}
	if st.Invoice == nil || st.Invoice.Number != 1 || st.Invoice.Code != store.InvoiceCode(st.Invoice.Year, 1) ||
		st.Invoice.AmountCents != 300_000 || st.Invoice.Customer.VATNumber != seed.DemoCompany().VATNumber || st.Invoice.Issuer.Name == "" {
		t.Fatalf("invoice: %s", r.body)
	}
	for _, who := range []string{mgr, "supervisore"} {
		var again statementJSON
		r := e.do("POST", path, who, map[string]string{"month": last})
		if r.status != http.StatusOK {
			t.Fatalf("issue again as %s: %d %s", who, r.status, r.body)
		}
		if r.json(t, &again); again.ID != st.ID || again.Invoice == nil || again.Invoice.Number != 1 {
			t.Fatalf("issue again as %s: another statement %s", who, r.body)
		}
	}
	if n := count(t, e, `SELECT count(*) FROM company_statements WHERE company_id = $1`, seed.DemoCompanyID); n != 1 {
		t.Fatalf("%d statements for one month", n)
	}
	// The ledger's own figure.
	var closing int64
	if err := e.st.Pool.QueryRow(ctx, `SELECT coalesce(sum(CASE WHEN to_account = $1 THEN amount_cents ELSE -amount_cents END), 0)
		FROM transfers WHERE (to_account = $1 OR from_account = $1) AND created_at < date_trunc('month', now() AT TIME ZONE 'Europe/Rome') AT TIME ZONE 'Europe/Rome'`,
		acct).Scan(&closing); err != nil || closing != st.ClosingCents {
		t.Fatalf("ledger closing %d (%v), statement %d", closing, err, st.ClosingCents)
	}

	// Another company of the district: the next invoice number.
	sql(`INSERT INTO companies (id, district_id, name, vat_number, created_at) VALUES ('altra-spa', 'tradate', 'Altra S.p.A.', '01234567897', now() - interval '3 months')`)
	if err := e.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		if err := store.EnsureAccount(ctx, tx, store.CompanyAccountID("altra-spa"), "tradate", store.AccountCompany, false); err != nil {
			return err
		}
		_, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "test-topup:altra", From: store.CompanyPaymentsAccountID("tradate"),
			To: store.CompanyAccountID("altra-spa"), Amount: 5_000, Kind: store.TransferTopUp})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sql(`UPDATE transfers SET created_at = created_at - interval '1 month' WHERE idempotency_key = 'test-topup:altra'`)
	r = e.do("POST", "/api/v1/companies/altra-spa/statements", "supervisore", map[string]string{"month": last})
	var other statementJSON
	if r.json(t, &other); r.status != http.StatusCreated || other.Invoice == nil || other.Invoice.Number != 2 || other.ClosingCents != 5_000 {
		t.Fatalf("second company's statement: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/api/v1/companies/altra-spa/statements", "/api/v1/companies/altra-spa/statements/" + last} {
		if r := e.do("GET", p, mgr, nil); r.status != http.StatusNotFound {
			t.Errorf("%s as the other company's manager: %d", p, r.status)
		}
	}
	if r := e.do("GET", path, "supervisore.padova", nil); r.status != http.StatusNotFound {
		t.Errorf("statements as another district's supervisor: %d %s", r.status, r.body)
	}
	if r := e.do("GET", path, "cittadino.tradate", nil); r.status != http.StatusForbidden {
		t.Errorf("statements as a citizen: %d", r.status)
	}

	// Read, list and CSV.
	if r := e.do("GET", path, mgr, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), st.ID) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := e.do("GET", path+"/"+last, "supervisore", nil); r.status != http.StatusOK || !strings.Contains(string(r.body), st.ID) {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	if r := e.do("GET", path+"/1999-01", mgr, nil); r.status != http.StatusNotFound {
		t.Fatalf("a month without statement: %d", r.status)
	}
	for lang, want := range map[string][]string{"it": {"Saldo finale,1800.00", "Non mostrato", "Fattura,"}, "en": {"Closing balance,1800.00", "Not shown"}} {
		r := e.do("GET", path+"/"+last+"/csv", mgr, nil, hdr{"Accept-Language": lang})
		if r.status != http.StatusOK {
			t.Fatalf("csv %s: %d %s", lang, r.status, r.body)
		}
		for _, w := range want {
			if !strings.Contains(string(r.body), w) {
				t.Errorf("csv %s: no %q in\n%s", lang, w, r.body)
			}
		}
		if strings.Contains(string(r.body), "10.00") || strings.Contains(string(r.body), "20.00") {
			t.Errorf("csv %s shows a suppressed amount:\n%s", lang, r.body)
		}
	}

	// A third employee: the cell may be shown.
	r = e.do("POST", "/api/v1/company/employees", mgr, map[string]string{"tax_code": seed.Residents()[3].TaxCode()})
	if r.status != http.StatusCreated {
		t.Fatalf("enrol: %d %s", r.status, r.body)
	}
	var third store.CompanyEmployee
	r.json(t, &third)
	hold(third.ID, 3000)
	sql(`UPDATE transfers SET created_at = created_at - interval '1 month' WHERE from_account = $1`, store.CompanyCreditAccountID(third.ID))
	r = e.do("GET", "/api/v1/company/spending", mgr, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"spent_cents":6000`) || strings.Contains(string(r.body), `"suppressed":true`) {
		t.Fatalf("spending of three employees: %d %s", r.status, r.body)
	}

	// The hosted Social Point's hours: its manager and the supervisor; not another point.
	hp := "/api/v1/social-points/" + seed.DemoCompanyPointID + "/hours"
	r = e.do("PUT", hp, mgr, map[string]any{"hours": []map[string]any{{"weekday": 2, "opens": "14:00", "closes": "13:00"},
		{"weekday": 9, "opens": "09:00", "closes": "10:00"}}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "/hours/0/closes") || !strings.Contains(string(r.body), "/hours/1/weekday") {
		t.Fatalf("bad hours: %d %s", r.status, r.body)
	}
	r = e.do("PUT", hp, mgr, map[string]any{"hours": []map[string]any{{"weekday": 3, "opens": "12:00", "closes": "14:00"}}})
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"opens":"12:00"`) || !strings.Contains(string(r.body), "Meccanica") {
		t.Fatalf("hours: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/api/v1/social-points/sp-tradate/hours", mgr, map[string]any{"hours": []any{}}); r.status != http.StatusNotFound {
		t.Fatalf("another point's hours as the manager: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", hp, "supervisore", map[string]any{"hours": []map[string]any{{"weekday": 3, "opens": "12:30", "closes": "14:00"}}}); r.status != http.StatusOK {
		t.Fatalf("hours as the supervisor: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/social-points", "", nil); !strings.Contains(string(r.body), `"host_company_name":"Meccanica Tradatese S.r.l."`) {
		t.Fatalf("the public list does not show the host: %s", r.body)
	}

	// The manager's actions are in the audit trail, for the supervisor.
	r = e.do("GET", "/api/v1/audit?actor="+mgr, "supervisore", nil)
	for _, a := range []string{company.AuditEnrol, company.AuditStatementIssue, company.AuditStatementDownload, company.AuditPointHours} {
		if !strings.Contains(string(r.body), `"`+a+`"`) {
			t.Errorf("no %s row in the audit trail: %s", a, r.body)
		}
	}
}

// count runs a count query.
func count(t *testing.T, e *env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
