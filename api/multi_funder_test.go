package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"testing"

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
	const cz = employeeCitizen
	employee, voucher, svc := multiFunderCart(t, e)

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

// employeeCitizen is the demo citizen who is also the demo company's
// employee.
const employeeCitizen = "cittadino.tradate"

// multiFunderCart leaves the demo employee (employeeCitizen) 10.01 of company credit, gives her a service voucher of
// 10.01 and puts 3 sessions of the after-school service in her cart (over
// the API). It returns her enrolment, the voucher and the service.
func multiFunderCart(t *testing.T, e *checkoutEnv) (employee, voucher string, svc int64) {
	t.Helper()
	employee = bookingtest.CompanyCreditLeft(t, e.st, 1001)
	voucher = bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: employeeCitizen, Cents: 1001})
	svc = bookingtest.ServiceID(t, e.st, "Doposcuola e aiuto compiti")
	expectStatus(t, e.do("POST", "/api/v1/cart/items", employeeCitizen, map[string]any{"service_id": svc, "quantity": 3}), 200)
	return employee, voucher, svc
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

// The split preview of a funders checkout (issue 15), over the API and the
// checkout page without JavaScript: what each funder would pay for the demo
// employee's cart item with the funders chosen, by the checkout's rule
// (company credit first, then the voucher, the rest online); 422 at the
// field for bad input; and it moves no money: the balances, the ledger's
// transfers, the bookings and the cart are as they were.
func TestSplitPreviewHTTP(t *testing.T) {
	e := newCheckoutEnv(t, false)
	ctx := context.Background()
	const cz = employeeCitizen
	employee, voucher, svc := multiFunderCart(t, e)
	var transfers, bookings int
	count := func() (int, int) {
		var tr, bk int
		if err := e.st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM transfers), (SELECT count(*) FROM bookings)`).Scan(&tr, &bk); err != nil {
			t.Fatal(err)
		}
		return tr, bk
	}
	transfers, bookings = count()

	var total int64
	for _, c := range []struct {
		body map[string]any
		want func(total int64) funding.Shares
	}{
		{map[string]any{"service_id": svc, "company_credit": true, "voucher_id": voucher},
			func(n int64) funding.Shares {
				return funding.Shares{CompanyCents: 1001, VoucherCents: 1001, OnlineCents: n - 2002}
			}},
		{map[string]any{"service_id": svc, "company_credit": true},
			func(n int64) funding.Shares { return funding.Shares{CompanyCents: 1001, OnlineCents: n - 1001} }},
		{map[string]any{"service_id": svc, "company_credit": true, "voucher_id": ""},
			func(n int64) funding.Shares { return funding.Shares{CompanyCents: 1001, OnlineCents: n - 1001} }},
		{map[string]any{"service_id": svc, "voucher_id": voucher},
			func(n int64) funding.Shares { return funding.Shares{VoucherCents: 1001, OnlineCents: n - 1001} }},
	} {
		r := e.do("POST", "/api/v1/bookings/split-preview", cz, c.body)
		expectStatus(t, r, 200)
		var p struct {
			ServiceID     int64          `json:"service_id"`
			Quantity      int            `json:"quantity"`
			TotalCents    int64          `json:"total_cents"`
			CompanyCredit bool           `json:"company_credit"`
			VoucherID     string         `json:"voucher_id"`
			Split         funding.Shares `json:"split"`
		}
		r.json(t, &p)
		total = p.TotalCents
		wantVoucher, _ := c.body["voucher_id"].(string)
		if p.ServiceID != svc || p.Quantity != 3 || total <= 2002 || p.Split != c.want(total) ||
			p.CompanyCredit != (c.body["company_credit"] == true) || p.VoucherID != wantVoucher {
			t.Fatalf("%v: %s", c.body, r.body)
		}
	}

	other := bookingtest.ServiceID(t, e.st, "Centro estivo")
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"company_credit": true}, "/service_id"},
		{map[string]any{"service_id": other, "company_credit": true}, "/service_id"},
		{map[string]any{"service_id": svc}, "/company_credit"},
		{map[string]any{"service_id": svc, "company_credit": true, "voucher_id": "00000000-0000-4000-8000-000000000000"}, "/voucher_id"},
		{map[string]any{"service_id": svc, "company_credit": true, "voucher_id": "not a voucher"}, "/voucher_id"},
		{map[string]any{"service_id": svc, "company_credit": true, "company_cents": 5000}, ""},
	} {
		r := e.do("POST", "/api/v1/bookings/split-preview", cz, c.body)
		expectStatus(t, r, 422)
		eb := r.errorBody(t)
		if c.field != "" && (len(eb.Fields) != 1 || eb.Fields[0].Pointer != c.field || eb.Fields[0].MessageIT == "") {
			t.Fatalf("%v: %s", c.body, r.body)
		}
	}
	// A citizen who is no company's employee: no company credit to use.
	expectStatus(t, e.do("POST", "/api/v1/cart/items", "cittadino.vedano", map[string]any{"service_id": svc, "quantity": 1}), 200)
	r := e.do("POST", "/api/v1/bookings/split-preview", "cittadino.vedano", map[string]any{"service_id": svc, "company_credit": true})
	expectStatus(t, r, 422)
	if eb := r.errorBody(t); len(eb.Fields) != 1 || eb.Fields[0].Pointer != "/company_credit" || eb.Fields[0].Code != "company_credit_unavailable" {
		t.Fatalf("no company credit: %s", r.body)
	}

	// The checkout page without JavaScript: "Recalculate" shows the split
	// of the voucher chosen (none here), books nothing; a voucher that is
	// not hers is refused at the field.
	b := e.browser()
	b.login(cz)
	path := "/cart/items/" + strconv.FormatInt(svc, 10) + "/checkout"
	expectPage(t, b.get(path), 200, `aria-live="polite"`, `id="split-voucher">10,01 €`, "Ricalcola la ripartizione")
	p := b.post(path, url.Values{"payment": {"funders"}, "voucher_id": {""}, "key": {"form-preview"}, "action": {"recalculate"},
		"split_company": {"1001"}, "split_voucher_cents": {"1001"}, "split_online": {strconv.FormatInt(total-2002, 10)}})
	expectPage(t, p, 200, `id="split-company">10,01 €`, `id="split-voucher">0,00 €`, `name="split_voucher_cents" value="0"`,
		`name="split_online" value="`+strconv.FormatInt(total-1001, 10)+`"`, `id="voucher-none" value="" checked`, `id="pay-funders" value="funders" checked`)
	p = b.post(path, url.Values{"payment": {"funders"}, "voucher_id": {"00000000-0000-4000-8000-000000000000"}, "key": {"form-preview"},
		"action": {"recalculate"}})
	expectPage(t, p, 422, "error-summary", `id="voucher-error"`)

	for acc, want := range map[string]int64{store.CompanyCreditAccountID(employee): 1001, store.VoucherAccountID(voucher): 1001} {
		if got := testenv.Balance(t, e.st, acc); got != want {
			t.Errorf("%s: %d after the previews, want %d", acc, got, want)
		}
	}
	if tr, bk := count(); tr != transfers || bk != bookings {
		t.Errorf("after the previews: %d transfers (was %d), %d bookings (was %d)", tr, transfers, bk, bookings)
	}
	r = e.do("GET", "/api/v1/cart", cz, nil)
	expectStatus(t, r, 200)
	var cart struct {
		Items []struct {
			ServiceID int64 `json:"service_id"`
			Quantity  int   `json:"quantity"`
		} `json:"items"`
	}
	r.json(t, &cart)
	if len(cart.Items) != 1 || cart.Items[0].ServiceID != svc || cart.Items[0].Quantity != 3 {
		t.Fatalf("cart after the previews: %s", r.body)
	}
}
