package api_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"

	"sportello/internal/bookingtest"
	"sportello/internal/funding"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// The multi-funder checkout over HTTP (issue 15): the cart offers the demo
// employee their company credit with the split a funders checkout makes;
// bad splits are 422 at the field, a split shown before a balance changed
// is 409 split_changed; the checkout holds each funder's part, the booking
// shows them, and paying online then cancelling gives each funder exactly
// its part back (the online part refunded through the provider).
func TestMultiFunderCheckoutHTTP(t *testing.T) {
	e := newCheckoutEnv(t, true)
	ctx := context.Background()
	const cz = "cittadino.tradate"
	var employee string
	if err := e.st.Pool.QueryRow(ctx, `SELECT id::text FROM company_employees WHERE tax_code = $1 AND status = 'enrolled'`,
		seed.DemoCompanyEmployees()[0]).Scan(&employee); err != nil {
		t.Fatal(err)
	}
	// 10.01 of company credit left, a voucher of 10.01.
	if err := e.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		have, err := store.Balance(ctx, tx, store.CompanyCreditAccountID(employee))
		if err != nil {
			return err
		}
		_, _, err = store.Transfer(ctx, tx, store.TransferInput{Key: "test-spend:" + employee, From: store.CompanyCreditAccountID(employee),
			To: store.CompanyAccountID(seed.DemoCompanyID), Amount: have - 1001, Kind: store.TransferRevoke})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	voucher := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: cz, Cents: 1001})
	svc := bookingtest.ServiceID(t, e.st, "Doposcuola e aiuto compiti")
	expectStatus(t, e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svc, "quantity": 3}), 200)

	r := e.do("GET", "/api/v1/cart", cz, nil)
	expectStatus(t, r, 200)
	var cart struct {
		Items []struct {
			TotalCents     int64                      `json:"total_cents"`
			CompanyCredit  *store.CompanyCreditOption `json:"company_credit"`
			SuggestedSplit *funding.Shares            `json:"suggested_split"`
		} `json:"items"`
	}
	r.json(t, &cart)
	if len(cart.Items) != 1 || cart.Items[0].CompanyCredit == nil || cart.Items[0].CompanyCredit.AvailableCents != 1001 ||
		cart.Items[0].SuggestedSplit == nil {
		t.Fatalf("cart %s", r.body)
	}
	total := cart.Items[0].TotalCents
	split := *cart.Items[0].SuggestedSplit
	if split != (funding.Shares{CompanyCents: 1001, VoucherCents: 1001, OnlineCents: total - 2002}) {
		t.Fatalf("suggested split %+v of %d", split, total)
	}

	for _, c := range []struct {
		body   map[string]any
		status int
		code   string
		field  string
	}{
		{map[string]any{"service_id": svc, "payment": "funders"}, 422, "validation", "/company_credit"},
		{map[string]any{"service_id": svc, "payment": "funders", "company_credit": true, "voucher_id": voucher,
			"expected": map[string]any{"company_cents": 1001, "voucher_cents": 1001, "online_cents": 1}}, 422, "validation", "/expected"},
		{map[string]any{"service_id": svc, "payment": "funders", "company_credit": true, "voucher_id": voucher,
			"expected": map[string]any{"company_cents": 2000, "voucher_cents": 2, "online_cents": total - 2002}}, 409, "split_changed", ""},
		{map[string]any{"service_id": svc, "payment": "funders", "company_credit": true, "company_cents": 5000}, 422, "", ""},
	} {
		r := e.do("POST", "/api/v1/bookings", cz, c.body)
		if r.status != c.status {
			t.Fatalf("%v: %d %s", c.body, r.status, r.body)
		}
		if c.code != "" {
			eb := r.errorBody(t)
			if eb.Code != c.code || (c.field != "" && (len(eb.Fields) != 1 || eb.Fields[0].Pointer != c.field || eb.Fields[0].MessageIT == "")) {
				t.Fatalf("%v: %s", c.body, r.body)
			}
		}
	}

	r, b := e.book(cz, "mf-1", map[string]any{"service_id": svc, "payment": "funders", "company_credit": true, "voucher_id": voucher,
		"expected": map[string]any{"company_cents": split.CompanyCents, "voucher_cents": split.VoucherCents, "online_cents": split.OnlineCents}})
	expectStatus(t, r, 201)
	if b.CompanyCents != 1001 || b.VoucherCents != 1001 || b.OnlineCents != total-2002 || b.CompanyHeldCents != 1001 ||
		b.CompanyName != seed.DemoCompany().Name || len(b.Sessions) != 3 {
		t.Fatalf("booking %s", r.body)
	}
	// Paid online, then cancelled: every funder gets its part back.
	_, page := e.paymentPage(b.ID)
	e.payOnPage(b.ID, page)
	e.waitOffer(b.ID, 1, "baobab")
	expectStatus(t, e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", cz, map[string]any{"reason": "Cambio di programma"}), 200)
	waitFor(t, "the online refund of booking "+b.ID, func() bool {
		v, err := e.st.API().Booking(ctx, store.System, b.ID)
		return err == nil && v.PaymentStatus == store.PaymentRefunded
	})
	for acc, want := range map[string]int64{
		store.CompanyCreditAccountID(employee): 1001,
		store.VoucherAccountID(voucher):        1001,
		store.BookingCompanyAccountID(b.ID):    0,
		store.BookingVoucherAccountID(b.ID):    0,
		store.BookingOnlineAccountID(b.ID):     0,
	} {
		if got := testenv.Balance(t, e.st, acc); got != want {
			t.Errorf("%s: %d, want %d", acc, got, want)
		}
	}
	r = e.do("GET", "/api/v1/bookings/"+b.ID, cz, nil)
	expectStatus(t, r, 200)
	if msg, err := store.LedgerCheck(ctx, e.st.Pool); err != nil || msg != "" {
		t.Fatalf("ledger: %q %v", msg, err)
	}
}

// A cooperative's invoice with a company's part (issue 15): the API shows
// each line's funder and the totals by funder (the contract validates
// them), and the PDF renders.
func TestInvoiceByFunderHTTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := insertInvoice(t, e.st, store.InvoiceCooperative, "baobab", "tradate", store.InvoiceSent)
	d.Lines = []store.InvoiceLine{
		{Seq: 1, Description: "Prenotazione n. 1, Doposcuola: unità 1 di 1", Date: d.IssuedAt, AmountCents: 3000,
			Reference: "session:1", Funder: store.FunderMunicipality},
		{Seq: 2, Description: "Prenotazione n. 1, Doposcuola: unità 1 di 1 (welfare aziendale Meccanica Tradatese S.r.l.)", Date: d.IssuedAt,
			AmountCents: 1500, Reference: "session:1:company", Funder: store.FunderCompany, CompanyID: seed.DemoCompanyID,
			CompanyName: seed.DemoCompany().Name},
	}
	d.Funders = store.FunderTotals(d.Lines)
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Pool.Exec(ctx, `UPDATE invoices SET data = $2, line_count = 2 WHERE id = $1`, d.ID, data); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/api/v1/invoices/"+d.ID, "coop.baobab", nil)
	expectStatus(t, r, 200)
	var v store.InvoiceView
	r.json(t, &v)
	if len(v.Funders) != 2 || v.Funders[0].Funder != store.FunderMunicipality || v.Funders[0].TotalCents != 3000 ||
		v.Funders[1].Funder != store.FunderCompany || v.Funders[1].CompanyID != seed.DemoCompanyID || v.Funders[1].TotalCents != 1500 ||
		v.Lines[1].Funder != store.FunderCompany {
		t.Fatalf("invoice %s", r.body)
	}
	expectStatus(t, e.do("GET", "/api/v1/invoices/"+d.ID+"/pdf", "coop.baobab", nil), 200)
}
