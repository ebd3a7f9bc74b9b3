package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/bookingtest"
	"sportello/internal/funding"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// leaveCredit brings an employee's company credit down to cents (the rest
// goes back to the company, as a withdrawal's revoke would).
func leaveCredit(t *testing.T, st *store.Store, employee string, cents int64) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		have, err := store.Balance(ctx, tx, store.CompanyCreditAccountID(employee))
		if err != nil || have == cents {
			return err
		}
		_, _, err = store.Transfer(ctx, tx, store.TransferInput{Key: "test-spend:" + employee, From: store.CompanyCreditAccountID(employee),
			To: store.CompanyAccountID(seed.DemoCompanyID), Amount: have - cents, Kind: store.TransferRevoke})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The demo employee (Maria Rossi, cittadino.tradate) pays a booking of 3
// sessions with company credit, a service voucher and online: the split
// follows funding.Split, each funder's part is held, spread over the
// sessions, posted to the cooperative for the delivered session, given back
// to its funder for the cancelled ones, and billed by funder; the books
// balance at every step.
func TestMultiFunderCheckoutKeepsEachShareToTheCent(t *testing.T) {
	f := newCheckoutFixture(t)
	ctx := context.Background()
	employee := employeeID(t, f.st, seed.DemoCompanyEmployees()[0])
	leaveCredit(t, f.st, employee, 1001)
	voucher := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 1001})
	svcID := f.add(t, "Doposcuola e aiuto compiti", 3)

	opt, err := f.api.CompanyCreditFor(ctx, f.scope, "childcare")
	if err != nil || opt == nil || opt.EmployeeID != employee || opt.AvailableCents != 1001 || opt.CompanyName != seed.DemoCompany().Name {
		t.Fatalf("company credit offered: %+v, %v", opt, err)
	}
	if opt, err := f.api.CompanyCreditFor(ctx, f.scope, "housepetcare"); err != nil || opt != nil {
		t.Fatalf("company credit offered for a category outside the plan: %+v, %v", opt, err)
	}
	sv, err := f.api.Service(ctx, f.scope, svcID)
	if err != nil {
		t.Fatal(err)
	}
	unit := sv.Quote("tradate", intp(12000)).Cents
	total := 3 * unit
	want, _ := funding.Split(total, funding.Available{CompanyCents: 1001, VoucherCents: 1001})
	if want.CompanyCents != 1001 || want.VoucherCents != 1001 || want.OnlineCents <= 0 {
		t.Fatalf("the test needs a price above the two credits: unit %d, split %+v", unit, want)
	}
	in := store.CheckoutInput{ServiceID: svcID, ISEEEuro: intp(12000), Mode: store.PayFunders, CompanyCredit: true, VoucherID: voucher}

	// Refusals first: nothing is held by them.
	for _, c := range []struct {
		name     string
		change   func(*store.CheckoutInput)
		problem  string
		conflict string
	}{
		{"no funder", func(x *store.CheckoutInput) { x.CompanyCredit, x.VoucherID = false, "" }, "/company_credit funder_required", ""},
		{"a split that does not add up", func(x *store.CheckoutInput) {
			x.Expected = &funding.Shares{CompanyCents: 1001, VoucherCents: 1001, OnlineCents: 1}
		}, "/expected does_not_add_up", ""},
		{"a negative part", func(x *store.CheckoutInput) {
			x.Expected = &funding.Shares{CompanyCents: -1, VoucherCents: 1003, OnlineCents: total - 1002}
		}, "/expected does_not_add_up", ""},
		{"a split shown before a balance changed", func(x *store.CheckoutInput) {
			x.Expected = &funding.Shares{CompanyCents: 2000, VoucherCents: 2, OnlineCents: total - 2002}
		}, "", "split_changed"},
	} {
		x := in
		c.change(&x)
		_, err := f.checkout(x)
		if got := problemCode(err); c.problem != "" && got != c.problem {
			t.Errorf("%s: %v (%q), want %s", c.name, err, got, c.problem)
		}
		if c.conflict != "" && conflictCode(err) != c.conflict {
			t.Errorf("%s: %v, want the conflict %s", c.name, err, c.conflict)
		}
	}
	if got := testenv.Balance(t, f.st, store.CompanyCreditAccountID(employee)); got != 1001 {
		t.Fatalf("refusals moved the credit: %d", got)
	}

	in.Expected = &want
	res, err := f.checkout(in)
	if err != nil {
		t.Fatalf("checkout: %v", err)
	}
	b := res.Booking
	if b.CompanyCents != 1001 || b.VoucherCents != 1001 || b.OnlineCents != total-2002 || b.CompanyEmployeeID != employee ||
		b.CompanyName != seed.DemoCompany().Name || b.CompanyHeldCents != 1001 || b.VoucherHeldCents != 1001 {
		t.Fatalf("booking %+v", b)
	}
	parts := funding.Sessions(3, unit, want)
	for i, s := range b.Sessions {
		if (funding.Shares{CompanyCents: s.CompanyCents, VoucherCents: s.VoucherCents, OnlineCents: s.OnlineCents}) != parts[i] {
			t.Fatalf("session %d: %+v, want %+v", s.Seq, s, parts[i])
		}
	}
	for acc, want := range map[string]int64{store.CompanyCreditAccountID(employee): 0, store.VoucherAccountID(voucher): 0} {
		if got := testenv.Balance(t, f.st, acc); got != want {
			t.Fatalf("%s: %d, want %d", acc, got, want)
		}
	}
	assertBooksBalance(t, f.st)

	// Nothing left: the company credit can no longer be promised.
	f.add(t, "Centro estivo", 1)
	centro := bookingtest.ServiceID(t, f.st, "Centro estivo")
	if _, err := f.checkout(store.CheckoutInput{ServiceID: centro, Mode: store.PayFunders, CompanyCredit: true,
		Expected: &funding.Shares{CompanyCents: 1, OnlineCents: -1}}); problemCode(err) != "/expected does_not_add_up" {
		t.Fatalf("an expected split with a negative part: %v", err)
	}

	// The saga: paid, accepted, session 1 delivered and confirmed, sessions
	// 2 and 3 cancelled and refunded.
	at := time.Now().Truncate(time.Millisecond)
	steps := []func() error{
		func() error { return f.st.SetBookingPayment(ctx, b.ID, "pay_mf", "http://psp/pay/pay_mf") },
		func() error { return f.st.RecordBookingPayment(ctx, b.ID, "pay_mf", b.OnlineCents) },
		func() error {
			_, err := f.st.OfferBooking(ctx, store.OfferInput{BookingID: b.ID, Attempt: 1, At: at})
			return err
		},
		func() error {
			return f.st.AcceptOffer(ctx, store.AcceptOfferInput{BookingID: b.ID, Attempt: 1, At: at,
				Dates: []time.Time{at.Add(24 * time.Hour), at.Add(48 * time.Hour), at.Add(72 * time.Hour)}})
		},
		func() error {
			return f.st.RecordSessionDelivery(ctx, store.DeliveryInput{BookingID: b.ID, Seq: 1, CooperativeID: "baobab", DeliveredAt: at})
		},
		func() error {
			return f.st.ConfirmSessions(ctx, store.ConfirmSessionsInput{BookingID: b.ID, Seqs: []int{1}, By: "citizen", At: at})
		},
		func() error {
			return f.st.CancelSessions(ctx, store.CancelSessionsInput{BookingID: b.ID, Seqs: []int{2, 3}, Reason: "Trasloco", At: at})
		},
		func() error { _, err := f.st.RecordBookingRefund(ctx, b.ID, []int{2, 3}); return err },
	}
	for i, step := range steps {
		for range 2 { // every step is idempotent
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i+1, err)
			}
		}
		assertBooksBalance(t, f.st)
	}
	back := funding.Refund(parts, []int{1, 2})
	kept := parts[0]
	if back.Add(kept) != want {
		t.Fatalf("refunded %+v + kept %+v != %+v", back, kept, want)
	}
	for acc, wantCents := range map[string]int64{
		store.CompanyCreditAccountID(employee):     back.CompanyCents,
		store.VoucherAccountID(voucher):            back.VoucherCents,
		store.BookingCompanyAccountID(b.ID):        0,
		store.BookingVoucherAccountID(b.ID):        0,
		store.BookingOnlineAccountID(b.ID):         0,
		store.CooperativeAccountID("baobab"):       kept.CompanyCents + kept.VoucherCents,
		store.CooperativeOnlineAccountID("baobab"): kept.OnlineCents,
	} {
		if got := testenv.Balance(t, f.st, acc); got != wantCents {
			t.Errorf("%s: %d, want %d", acc, got, wantCents)
		}
	}
	var refunded int64
	if err := f.st.Pool.QueryRow(ctx, `SELECT coalesce(sum(amount_cents), 0) FROM transfers WHERE booking_id = $1 AND kind = 'refund'`,
		b.ID).Scan(&refunded); err != nil || refunded != back.OnlineCents {
		t.Fatalf("online refunded %d (%v), want %d", refunded, err, back.OnlineCents)
	}
	// The company's spending shows what its credit paid for, net of
	// what came back.
	manager := bookingtest.User(t, f.st, seed.DemoWelfareManager)
	var spent int64
	if err := f.st.InTx(ctx, manager.Scope(), func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT coalesce(sum(spent_cents), 0) FROM company_spending()`).Scan(&spent)
	}); err != nil || spent != kept.CompanyCents {
		t.Fatalf("company spending %d (%v), want %d", spent, err, kept.CompanyCents)
	}

	// The cooperative's invoice bills session 1 once per funder: the
	// voucher's part to the municipality, the company's part named.
	month := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
	prep, err := f.st.PrepareInvoice(ctx, store.PrepareInvoiceInput{Kind: store.InvoiceCooperative, PayeeID: "baobab",
		Municipality: "tradate", Period: month, PeriodEnd: at.Add(time.Hour), WorkflowID: "billing-test"})
	if err != nil || prep.Empty {
		t.Fatalf("prepare invoice: %+v, %v", prep, err)
	}
	inv, err := f.st.InvoiceByID(ctx, prep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Lines) != 2 || inv.TotalCents != kept.CompanyCents+kept.VoucherCents {
		t.Fatalf("invoice lines %+v, total %d", inv.Lines, inv.TotalCents)
	}
	byFunder := map[string]store.InvoiceLine{}
	for _, l := range inv.Lines {
		byFunder[l.Funder] = l
	}
	if l := byFunder[store.FunderMunicipality]; l.AmountCents != kept.VoucherCents || l.CompanyID != "" {
		t.Errorf("the municipality's line %+v, want %d", l, kept.VoucherCents)
	}
	if l := byFunder[store.FunderCompany]; l.AmountCents != kept.CompanyCents || l.CompanyID != seed.DemoCompanyID ||
		l.CompanyName != seed.DemoCompany().Name || l.Reference == byFunder[store.FunderMunicipality].Reference {
		t.Errorf("the company's line %+v, want %d", l, kept.CompanyCents)
	}
	if len(inv.Funders) != 2 || inv.Funders[0].TotalCents+inv.Funders[1].TotalCents != inv.TotalCents {
		t.Errorf("funder totals %+v", inv.Funders)
	}
	assertBooksBalance(t, f.st)
}

// Company credit is refused with a field message where it cannot pay: for a
// citizen not enrolled, for a category the plan does not cover, outside the
// plan's validity.
func TestMultiFunderCheckoutRefusesUnusableCredit(t *testing.T) {
	f := newCheckoutFixture(t)
	ctx := context.Background()
	garden := f.add(t, "Dog sitting e passeggiate", 1)
	if _, err := f.checkout(store.CheckoutInput{ServiceID: garden, Mode: store.PayFunders, CompanyCredit: true}); problemCode(err) != "/company_credit category_not_in_plan" {
		t.Errorf("a category outside the plan: %v", err)
	}
	other := bookingtest.User(t, f.st, "cittadino.vedano")
	doposcuola := bookingtest.ServiceID(t, f.st, "Doposcuola e aiuto compiti")
	if _, err := f.api.AddToCart(ctx, other.Scope(), doposcuola, 1); err != nil {
		t.Fatal(err)
	}
	_, err := f.api.Checkout(ctx, other.Scope(), store.CheckoutInput{BookingID: "00000000-0000-4000-8000-000000000033",
		ServiceID: doposcuola, Mode: store.PayFunders, CompanyCredit: true, WorkflowID: func(id string) string { return "booking:" + id }})
	if problemCode(err) != "/company_credit not_enrolled" {
		t.Errorf("a citizen not enrolled: %v", err)
	}
	// The plan ended yesterday.
	if _, err := f.st.Pool.Exec(ctx, `UPDATE company_plans SET valid_from = current_date - 30, valid_until = current_date - 1`); err != nil {
		t.Fatal(err)
	}
	f.add(t, "Doposcuola e aiuto compiti", 1)
	if _, err := f.checkout(store.CheckoutInput{ServiceID: doposcuola, Mode: store.PayFunders, CompanyCredit: true}); problemCode(err) != "/company_credit plan_not_valid" {
		t.Errorf("a plan no longer valid: %v", err)
	}
	if opt, err := f.api.CompanyCreditFor(ctx, f.scope, "childcare"); err != nil || opt != nil {
		t.Errorf("credit offered outside the plan's validity: %+v, %v", opt, err)
	}
	var n int
	if err := f.st.Pool.QueryRow(ctx, `SELECT count(*) FROM bookings`).Scan(&n); err != nil || n != 0 {
		t.Errorf("bookings after refusals: %d, %v", n, err)
	}
}

// An employee withdrawn after booking with company credit: cancelling gives
// the company part back to the company's account (as the withdrawal did
// with what was left of the credit), never to a credit no one can spend.
func TestMultiFunderCancelAfterWithdrawalReturnsToTheCompany(t *testing.T) {
	f := newCheckoutFixture(t)
	ctx := context.Background()
	employee := employeeID(t, f.st, seed.DemoCompanyEmployees()[0])
	svcID := f.add(t, "Doposcuola e aiuto compiti", 2)
	res, err := f.checkout(store.CheckoutInput{ServiceID: svcID, ISEEEuro: intp(12000), Mode: store.PayFunders, CompanyCredit: true})
	if err != nil {
		t.Fatal(err)
	}
	b := res.Booking
	if b.CompanyCents != b.TotalCents || b.OnlineCents != 0 || b.VoucherCents != 0 {
		t.Fatalf("booking %+v", b)
	}
	company := testenv.Balance(t, f.st, store.CompanyAccountID(seed.DemoCompanyID))
	left := testenv.Balance(t, f.st, store.CompanyCreditAccountID(employee))
	manager := bookingtest.User(t, f.st, seed.DemoWelfareManager)
	if _, err := f.api.WithdrawEmployee(ctx, manager.Scope(), seed.DemoCompanyEmployees()[0]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.st.CancelSessions(ctx, store.CancelSessionsInput{BookingID: b.ID, Seqs: []int{1, 2}, Reason: "Trasloco",
			At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if got := testenv.Balance(t, f.st, store.CompanyCreditAccountID(employee)); got != 0 {
		t.Errorf("the withdrawn credit holds %d", got)
	}
	if got := testenv.Balance(t, f.st, store.CompanyAccountID(seed.DemoCompanyID)); got != company+left+b.CompanyCents {
		t.Errorf("company account %d, want %d", got, company+left+b.CompanyCents)
	}
	assertBooksBalance(t, f.st)
}
