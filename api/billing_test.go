package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"sportello/internal/store"
)

// insertInvoice writes an invoice row as a billing run would (its lines in
// the structured data only: these tests are about who sees what).
func insertInvoice(t *testing.T, st *store.Store, kind, payee, municipality, status string) store.InvoiceData {
	t.Helper()
	ctx := context.Background()
	d := store.InvoiceData{ID: uuid.NewString(), Kind: kind, District: "tradate", Municipality: municipality,
		MunicipalityName: "Tradate", PayeeID: payee, PayeeName: "Payee " + payee, Period: "2026-10",
		IssuedAt: time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC), TotalCents: 4500,
		Lines: []store.InvoiceLine{{Seq: 1, Description: "Prenotazione n. 1", Date: time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC), AmountCents: 4500, Reference: "session:1"}}}
	if err := st.Pool.QueryRow(ctx, `SELECT nextval('invoice_number_seq')`).Scan(&d.Number); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(d)
	var coop, merchant, accID any
	if status == store.InvoiceSent {
		accID = "acc-" + d.ID
	}
	if kind == store.InvoiceCooperative {
		coop = payee
	} else {
		merchant = payee
	}
	if _, err := st.Pool.Exec(ctx, `INSERT INTO invoices (id, number, kind, district_id, municipality_id, cooperative_id, merchant_id,
		period, status, total_cents, line_count, data, accounting_id, sent_at)
		VALUES ($1, $2, $3, 'tradate', $4, $5, $6, '2026-10-01', $7, 4500, 1, $8,
		        $9::text, CASE WHEN $9::text IS NOT NULL THEN now() END)`,
		d.ID, d.Number, kind, municipality, coop, merchant, status, data, accID); err != nil {
		t.Fatalf("insert invoice: %v", err)
	}
	return d
}

type invoiceList struct {
	Items []store.InvoiceView `json:"items"`
	Total int                 `json:"total"`
}

func (e *env) invoices(user, query string) invoiceList {
	e.t.Helper()
	r := e.do("GET", "/api/v1/invoices"+query, user, nil)
	expectStatus(e.t, r, http.StatusOK)
	var l invoiceList
	r.json(e.t, &l)
	return l
}

// Cooperatives see their own invoices, merchants their own claims,
// supervisors their district's (the read audited), nobody else any; bad
// filters are 422s.
func TestInvoicesWhoSeesWhat(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var other, merchant string
	if err := e.st.Pool.QueryRow(ctx, `SELECT id FROM cooperatives WHERE id <> 'baobab' AND district_id = 'tradate' ORDER BY id LIMIT 1`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Pool.QueryRow(ctx, `SELECT merchant_id FROM users WHERE username = 'esercente.tradate'`).Scan(&merchant); err != nil {
		t.Fatal(err)
	}
	own := insertInvoice(t, e.st, store.InvoiceCooperative, "baobab", "tradate", store.InvoiceSent)
	theirs := insertInvoice(t, e.st, store.InvoiceCooperative, other, "tradate", store.InvoiceReady)
	claim := insertInvoice(t, e.st, store.InvoiceMerchant, merchant, "tradate", store.InvoiceAwaitingDeclaration)

	if l := e.invoices("coop.baobab", ""); l.Total != 1 || l.Items[0].ID != own.ID || l.Items[0].Lines != nil {
		t.Fatalf("cooperative's list: %+v", l)
	}
	expectStatus(t, e.do("GET", "/api/v1/invoices/"+theirs.ID, "coop.baobab", nil), http.StatusNotFound)
	expectStatus(t, e.do("GET", "/api/v1/invoices/"+claim.ID, "coop.baobab", nil), http.StatusNotFound)
	expectStatus(t, e.do("GET", "/api/v1/invoices/not-a-uuid", "coop.baobab", nil), http.StatusNotFound)
	r := e.do("GET", "/api/v1/invoices/"+own.ID, "coop.baobab", nil)
	expectStatus(t, r, http.StatusOK)
	var got store.InvoiceView
	r.json(t, &got)
	if got.TotalCents != 4500 || len(got.Lines) != 1 || got.Status != store.InvoiceSent {
		t.Fatalf("invoice: %+v", got)
	}
	pdf := e.do("GET", "/api/v1/invoices/"+own.ID+"/pdf", "coop.baobab", nil)
	if pdf.status != http.StatusOK || pdf.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(pdf.body), "%PDF-") {
		t.Fatalf("pdf: %d %s", pdf.status, pdf.header.Get("Content-Type"))
	}

	if l := e.invoices("esercente.tradate", ""); l.Total != 1 || l.Items[0].ID != claim.ID {
		t.Fatalf("merchant's list: %+v", l)
	}
	if l := e.invoices("supervisore", ""); l.Total != 3 {
		t.Fatalf("supervisor's list: %d", l.Total)
	}
	if l := e.invoices("supervisore", "?kind=merchant&status=awaiting_declaration"); l.Total != 1 || l.Items[0].ID != claim.ID {
		t.Fatalf("supervisor's filtered list: %+v", l)
	}
	if l := e.invoices("supervisore.padova", ""); l.Total != 0 {
		t.Fatalf("another district's supervisor sees %d invoices", l.Total)
	}
	expectStatus(t, e.do("GET", "/api/v1/invoices/"+own.ID, "supervisore", nil), http.StatusOK)
	var audited int
	if err := e.st.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'read_invoice' AND actor_username = 'supervisore'
		AND detail->>'invoice_id' = $1`, own.ID).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("audit rows of the supervisor's read: %d %v", audited, err)
	}
	for _, u := range []string{"cittadino.tradate", "operatore.tradate"} {
		expectStatus(t, e.do("GET", "/api/v1/invoices", u, nil), http.StatusForbidden)
	}
	bad := e.do("GET", "/api/v1/invoices?kind=x&status=lost&limit=0", "supervisore", nil)
	expectStatus(t, bad, http.StatusUnprocessableEntity)
	if fields := bad.errorBody(t).Fields; len(fields) != 3 {
		t.Fatalf("field errors: %+v", fields)
	}
}

// The merchant signs the declaration of its own claim once, with every
// statement; other roles and other claims cannot.
func TestClaimDeclaration(t *testing.T) {
	e := newEnv(t)
	var merchant string
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT merchant_id FROM users WHERE username = 'esercente.tradate'`).Scan(&merchant); err != nil {
		t.Fatal(err)
	}
	claim := insertInvoice(t, e.st, store.InvoiceMerchant, merchant, "tradate", store.InvoiceAwaitingDeclaration)
	coop := insertInvoice(t, e.st, store.InvoiceCooperative, "baobab", "tradate", store.InvoiceReady)
	path := "/api/v1/invoices/" + claim.ID + "/declaration"
	all := map[string]bool{}
	for _, k := range store.DeclarationItems {
		all[k] = true
	}
	expectStatus(t, e.do("POST", path, "coop.baobab", all), http.StatusForbidden)
	r := e.do("POST", path, "esercente.tradate", map[string]bool{"essentials_only": true, "no_cash_or_change": false})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 3 || f[0].Pointer != "/no_alcohol_tobacco" || f[0].MessageIT == "" {
		t.Fatalf("fields: %+v", f)
	}
	withExtra := map[string]bool{"receipts_attached": true}
	for k := range all {
		withExtra[k] = true
	}
	expectStatus(t, e.do("POST", path, "esercente.tradate", withExtra), http.StatusUnprocessableEntity)
	expectStatus(t, e.do("POST", path, "esercente.tradate", "not json"), http.StatusUnprocessableEntity)
	expectStatus(t, e.do("POST", "/api/v1/invoices/"+coop.ID+"/declaration", "esercente.tradate", all), http.StatusNotFound)
	r = e.do("POST", path, "esercente.tradate", all)
	expectStatus(t, r, http.StatusOK)
	var v store.InvoiceView
	r.json(t, &v)
	if v.Status != store.InvoiceReady || v.DeclaredAt == nil || !v.Declaration["redemptions_genuine"] {
		t.Fatalf("declared claim: %+v", v)
	}
	expectStatus(t, e.do("POST", path, "esercente.tradate", all), http.StatusConflict)
	var rows int
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action IN ('declare_claim', 'declare_claim_refused') AND actor_username = 'esercente.tradate'`).Scan(&rows); err != nil || rows < 2 {
		t.Fatalf("declaration audit rows: %d %v", rows, err)
	}
}
