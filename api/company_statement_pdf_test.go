package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/app/company"
	"sportello/internal/bookingtest"
	"sportello/internal/i18n"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// A month with a single withdrawal: the employee spent EUR 12.34 of their
// credit and was withdrawn, so the credit returned is their unspent credit.
// The statement (JSON, CSV, PDF) hides that figure and keeps the ledger's
// totals exact; the PDF over the API, read with pdftotext, has the
// figures, the invoice number and no employee's name or tax code, in
// Italian and English; the download is audited.
func TestCompanyStatementSingleWithdrawalAndPDF(t *testing.T) {
	e := newCompanyEnv(t)
	ctx := context.Background()
	const mgr = seed.DemoWelfareManager
	sql := func(q string, args ...any) {
		t.Helper()
		if _, err := e.st.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows, err := e.st.Pool.Query(ctx, `SELECT tax_code FROM company_employees WHERE company_id = $1 ORDER BY tax_code`, seed.DemoCompanyID)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(codes) != 2 {
		t.Fatalf("employees %v: %v", codes, err)
	}
	r := e.do("POST", "/api/v1/company/employees", mgr, map[string]string{"tax_code": seed.Residents()[3].TaxCode()})
	if r.status != http.StatusCreated {
		t.Fatalf("enrol: %d %s", r.status, r.body)
	}
	var leaver store.CompanyEmployee
	r.json(t, &leaver)
	codes = append(codes, leaver.TaxCode)
	b, err := bookingtest.Checkout(t, e.st, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "test-hold:" + uuid.NewString(),
			From: store.CompanyCreditAccountID(leaver.ID), To: store.BookingVoucherAccountID(b.ID), Amount: 1234,
			Kind: "hold", BookingID: b.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r = e.do("POST", "/api/v1/company/employees/withdrawal", mgr, map[string]string{"tax_code": leaver.TaxCode})
	if r.status != http.StatusOK {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	returned := int64(seed.DemoCompanyCreditCents) - 1234
	acct := store.CompanyAccountID(seed.DemoCompanyID)
	sql(`UPDATE transfers SET created_at = created_at - interval '1 month'
		WHERE from_account = $1 OR to_account = $1 OR from_account LIKE 'company_credit:%' OR to_account LIKE 'company_credit:%'`, acct)
	sql(`UPDATE companies SET created_at = created_at - interval '2 months' WHERE id = $1`, seed.DemoCompanyID)
	last := store.StatementMonth(time.Now()).AddDate(0, -1, 0).Format("2006-01")

	path := "/api/v1/companies/" + seed.DemoCompanyID + "/statements"
	r = e.do("POST", path, mgr, map[string]string{"month": last})
	if r.status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.status, r.body)
	}
	var st struct {
		statementJSON
		RevokedCents      *int64 `json:"revoked_cents"`
		RevokedSuppressed bool   `json:"revoked_suppressed"`
	}
	r.json(t, &st)
	allotted := 3 * int64(seed.DemoCompanyCreditCents)
	if !st.RevokedSuppressed || st.RevokedCents != nil || strings.Contains(string(r.body), i64(returned)) {
		t.Fatalf("the single withdrawal's returned credit (%d) is shown: %s", returned, r.body)
	}
	// The totals are the ledger's: the returned credit is in the closing balance.
	if st.TopUpsCents != 300_000 || st.AllottedCents != allotted || st.ClosingCents != 300_000-allotted+returned {
		t.Fatalf("statement's totals: %s", r.body)
	}
	var raw int64
	if err := e.st.Pool.QueryRow(ctx, `SELECT revoked_cents FROM company_statements WHERE company_id = $1`, seed.DemoCompanyID).
		Scan(&raw); err != nil || raw != returned {
		t.Fatalf("stored returned credit %d (%v), want %d", raw, err, returned)
	}
	csv := e.do("GET", path+"/"+last+"/csv", mgr, nil)
	if csv.status != http.StatusOK || strings.Contains(string(csv.body), cents(returned)) || !strings.Contains(string(csv.body), "Non mostrato") {
		t.Fatalf("csv: %d\n%s", csv.status, csv.body)
	}

	// The PDF, in both languages.
	for lang, want := range map[string][]string{
		"it": {"Rendiconto di " + last, "Meccanica Tradatese S.r.l.", "Saldo iniziale: 0,00 €", "Ricariche: 3.000,00 €",
			"Credito assegnato ai dipendenti: " + i18n.Money(i18n.IT, allotted), "Credito restituito da dipendenti ritirati: Non mostrato",
			"Saldo finale: " + i18n.Money(i18n.IT, st.ClosingCents), "Numero: " + st.Invoice.Code, "Partita IVA " + seed.DemoCompany().VATNumber,
			"Importo: 3.000,00 €", "pagina 1"},
		"en": {"Statement of " + last, "Opening balance: €0.00", "Closing balance: " + i18n.Money(i18n.EN, st.ClosingCents),
			"Not shown", st.Invoice.Code, "page 1"},
	} {
		r := e.do("GET", path+"/"+last+"/pdf", "supervisore", nil, hdr{"Accept-Language": lang})
		if r.status != http.StatusOK || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
			t.Fatalf("pdf %s: %d %.200s", lang, r.status, r.body)
		}
		text := strings.Join(strings.Fields(testenv.PDFText(t, r.body)), " ")
		for _, w := range want {
			if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
				t.Errorf("pdf %s lacks %q:\n%s", lang, w, text)
			}
		}
		leaks := []string{i18n.Money(i18n.IT, returned), i18n.Money(i18n.EN, returned)}
		for _, res := range seed.Residents() {
			for _, c := range codes {
				if res.TaxCode() == c {
					leaks = append(leaks, c, res.LastName, res.FirstName+" "+res.LastName)
				}
			}
		}
		for _, l := range leaks {
			if strings.Contains(text, l) {
				t.Errorf("pdf %s shows %q:\n%s", lang, l, text)
			}
		}
	}
	if r := e.do("GET", path+"/1999-01/pdf", mgr, nil); r.status != http.StatusNotFound {
		t.Fatalf("a month without statement: %d", r.status)
	}
	if r := e.do("GET", path+"/"+last+"/pdf", "cittadino.tradate", nil); r.status != http.StatusForbidden {
		t.Fatalf("pdf as a citizen: %d", r.status)
	}
	if n := count(t, e, `SELECT count(*) FROM audit_log WHERE action = $1 AND detail->>'form' = 'pdf'`, company.AuditStatementDownload); n != 2 {
		t.Fatalf("%d audit rows of PDF downloads, want 2", n)
	}
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// cents writes an amount as the CSV does: 1234.50.
func cents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
