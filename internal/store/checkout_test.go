package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/bookingtest"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/workflows"
)

// checkoutFixture is a seeded database and cittadino.tradate.
type checkoutFixture struct {
	st      *store.Store
	api     store.API
	citizen store.UserView
	scope   store.Scope
}

func newCheckoutFixture(t *testing.T) *checkoutFixture {
	t.Helper()
	_, st := testenv.Postgres(t)
	if err := seed.Run(context.Background(), st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	u := bookingtest.User(t, st, "cittadino.tradate")
	return &checkoutFixture{st: st, api: st.API(), citizen: u, scope: u.Scope()}
}

func (f *checkoutFixture) add(t *testing.T, service string, qty int) int64 {
	t.Helper()
	id := bookingtest.ServiceID(t, f.st, service)
	if _, err := f.api.AddToCart(context.Background(), f.scope, id, qty); err != nil {
		t.Fatalf("add %s: %v", service, err)
	}
	return id
}

func (f *checkoutFixture) checkout(in store.CheckoutInput) (store.CheckoutResult, error) {
	if in.BookingID == "" {
		in.BookingID = uuid.NewString()
	}
	in.WorkflowID = workflows.BookingWorkflowID
	if in.RequestHash == "" {
		in.RequestHash = fmt.Sprintf("%d/%s/%s/%d", in.ServiceID, in.Mode, in.VoucherID, in.VoucherCents)
	}
	return f.api.Checkout(context.Background(), f.scope, in)
}

func problemCode(err error) string {
	var fp *store.FieldProblem
	if errors.As(err, &fp) {
		return fp.Pointer + " " + fp.Code
	}
	return ""
}

func intp(v int) *int { return &v }

func TestSplitSessionsSumExactly(t *testing.T) {
	for _, c := range []struct {
		n             int
		unit, voucher int64
	}{{1, 1800, 700}, {3, 1800, 2000}, {7, 999, 1}, {4, 250, 1000}, {5, 1234, 0}, {100, 9000, 899_999}} {
		v, o := store.SplitSessions(c.n, c.unit, c.voucher)
		var sv, so int64
		for i := range v {
			if v[i] < 0 || o[i] < 0 || v[i]+o[i] != c.unit {
				t.Fatalf("%+v: session %d has %d + %d", c, i, v[i], o[i])
			}
			if i > 0 && v[i] > v[i-1] {
				t.Fatalf("%+v: not deterministic largest-first: %v", c, v)
			}
			sv, so = sv+v[i], so+o[i]
		}
		if sv != c.voucher || so != int64(c.n)*c.unit-c.voucher {
			t.Fatalf("%+v: parts sum to %d + %d", c, sv, so)
		}
	}
}

// A split checkout writes the booking with the band price and how it was
// derived, one session per unit with shares summing to the parts, holds the
// voucher part in the booking's account and empties the cart item.
func TestCheckoutSplitHoldsTheVoucherPart(t *testing.T) {
	f := newCheckoutFixture(t)
	ctx := context.Background()
	voucher := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 20000})
	svcID := f.add(t, "Doposcuola e aiuto compiti", 2)
	f.add(t, "Doposcuola e aiuto compiti", 1) // adds up: 3

	sv, err := f.api.Service(ctx, f.scope, svcID)
	if err != nil {
		t.Fatal(err)
	}
	quote := sv.Quote("tradate", intp(12000))
	if quote.Basis != "band" {
		t.Fatalf("quote %+v: want a band price", quote)
	}
	offered, err := f.api.ServiceVouchers(ctx, f.scope, "childcare")
	if err != nil || len(offered) != 1 || offered[0].ID != voucher || offered[0].AvailableCents != 20000 {
		t.Fatalf("offered vouchers %+v, %v", offered, err)
	}

	total := quote.Cents * 3
	res, err := f.checkout(store.CheckoutInput{ServiceID: svcID, ISEEEuro: intp(12000), Mode: store.PaySplit,
		VoucherID: voucher, VoucherCents: 2001})
	if err != nil {
		t.Fatalf("checkout: %v", err)
	}
	b := res.Booking
	if b.Status != workflows.BookingAwaitingPayment || b.Quantity != 3 || b.UnitPriceCents != quote.Cents ||
		b.TotalCents != total || b.VoucherCents != 2001 || b.OnlineCents != total-2001 || b.VoucherID != voucher ||
		b.ServiceName != "Doposcuola e aiuto compiti" || b.WorkflowID != workflows.BookingWorkflowID(b.ID) || b.CooperativeID != "baobab" {
		t.Fatalf("booking %+v", b)
	}
	if b.PriceBasis == "" || b.VoucherHeldCents != 2001 || b.OnlineHeldCents != 0 {
		t.Fatalf("basis %q, held %d/%d", b.PriceBasis, b.VoucherHeldCents, b.OnlineHeldCents)
	}
	var sv0, so0 int64
	if len(b.Sessions) != 3 {
		t.Fatalf("sessions %+v", b.Sessions)
	}
	for i, s := range b.Sessions {
		if s.Seq != i+1 || s.Status != "planned" || s.VoucherCents+s.OnlineCents != quote.Cents {
			t.Fatalf("session %+v", s)
		}
		sv0, so0 = sv0+s.VoucherCents, so0+s.OnlineCents
	}
	if sv0 != 2001 || so0 != total-2001 {
		t.Fatalf("sessions sum to %d + %d", sv0, so0)
	}
	if got := testenv.Balance(t, f.st, store.VoucherAccountID(voucher)); got != 20000-2001 {
		t.Fatalf("voucher balance %d", got)
	}
	var holds int
	if err := f.st.Pool.QueryRow(ctx, `SELECT count(*) FROM transfers WHERE booking_id = $1 AND kind = 'hold'
		AND from_account = $2 AND to_account = $3 AND amount_cents = 2001`, b.ID, store.VoucherAccountID(voucher),
		store.BookingVoucherAccountID(b.ID)).Scan(&holds); err != nil || holds != 1 {
		t.Fatalf("hold transfers %d, %v", holds, err)
	}
	for _, acc := range []string{store.BookingOnlineAccountID(b.ID), store.PaymentsAccountID("tradate"),
		store.CooperativeAccountID("baobab"), store.CooperativeOnlineAccountID("baobab")} {
		var n int
		if err := f.st.Pool.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE id = $1`, acc).Scan(&n); err != nil || n != 1 {
			t.Fatalf("account %s: %d, %v", acc, n, err)
		}
	}
	assertBooksBalance(t, f.st)
	cart, err := f.api.Cart(ctx, f.scope)
	if err != nil || len(cart) != 0 {
		t.Fatalf("cart after checkout %+v, %v", cart, err)
	}
	// The citizen lists it; another citizen does not see it.
	list, n, err := f.api.Bookings(ctx, f.scope, 10, 0)
	if err != nil || n != 1 || len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("bookings %+v %d %v", list, n, err)
	}
	other := bookingtest.User(t, f.st, "cittadino.vedano")
	if _, err := f.api.Booking(ctx, other.Scope(), b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another citizen reads the booking: %v", err)
	}
	// Voucher only: requested, nothing online; online only: no voucher.
	f.add(t, "Centro estivo", 1)
	centro := bookingtest.ServiceID(t, f.st, "Centro estivo")
	res, err = f.checkout(store.CheckoutInput{ServiceID: centro, Mode: store.PayVoucher, VoucherID: voucher})
	if err != nil {
		t.Fatalf("voucher checkout: %v", err)
	}
	if res.Booking.Status != workflows.BookingRequested || res.Booking.OnlineCents != 0 || res.Booking.VoucherCents != res.Booking.TotalCents {
		t.Fatalf("voucher booking %+v", res.Booking)
	}
	robot := f.add(t, "Laboratorio di robotica per ragazzi", 2)
	res, err = f.checkout(store.CheckoutInput{ServiceID: robot, Mode: store.PayOnline})
	if err != nil || res.Booking.VoucherID != "" || res.Booking.OnlineCents != res.Booking.TotalCents || res.Booking.Status != workflows.BookingAwaitingPayment {
		t.Fatalf("online booking %+v, %v", res.Booking, err)
	}
	assertBooksBalance(t, f.st)
}

// The cart refuses what cannot be booked; checkout refuses vouchers that
// cannot pay (foreign, wrong category, food, other municipality, expired,
// too low) and leaves everything as it was.
func TestCartAndCheckoutRefusals(t *testing.T) {
	f := newCheckoutFixture(t)
	ctx := context.Background()
	doposcuola := f.add(t, "Doposcuola e aiuto compiti", 1)

	if _, err := f.api.AddToCart(ctx, f.scope, bookingtest.ServiceID(t, f.st, "Scuola di musica"), 1); problemCode(err) != "/service_id not_served" {
		t.Fatalf("service not offered in Tradate: %v", err)
	}
	if _, err := f.api.AddToCart(ctx, f.scope, 987654, 1); problemCode(err) != "/service_id unknown" {
		t.Fatalf("unknown service: %v", err)
	}
	for _, q := range []int{0, -1, 101} {
		if _, err := f.api.SetCartQuantity(ctx, f.scope, doposcuola, q); problemCode(err) != "/quantity out_of_range" {
			t.Fatalf("quantity %d: %v", q, err)
		}
	}
	if _, err := f.api.AddToCart(ctx, f.scope, doposcuola, 100); problemCode(err) != "/quantity out_of_range" {
		t.Fatalf("1 + 100 units: %v", err)
	}
	if it, err := f.api.SetCartQuantity(ctx, f.scope, doposcuola, 4); err != nil || it.Quantity != 4 {
		t.Fatalf("set quantity: %+v %v", it, err)
	}
	// Withdrawn after it was added: refused to add, shown unavailable, not booked.
	centro := f.add(t, "Centro estivo", 1)
	if _, err := f.st.Pool.Exec(ctx, `UPDATE services SET published = false WHERE id = $1`, centro); err != nil {
		t.Fatal(err)
	}
	if _, err := f.api.AddToCart(ctx, f.scope, centro, 1); conflictCode(err) != "service_unavailable" {
		t.Fatalf("withdrawn service: %v", err)
	}
	cart, err := f.api.Cart(ctx, f.scope)
	if err != nil || len(cart) != 2 || !cart[0].Available || cart[1].Available || cart[1].Service.Name != "Centro estivo" {
		t.Fatalf("cart %+v, %v", cart, err)
	}
	if _, err := f.checkout(store.CheckoutInput{ServiceID: centro, Mode: store.PayOnline}); conflictCode(err) != "service_unavailable" {
		t.Fatalf("checkout of a withdrawn service: %v", err)
	}

	good := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 1000})
	foreign := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.vedano", Cents: 100000})
	silver := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 100000,
		Categories: []string{"silvercare"}})
	food := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 100000, Kind: "food"})
	elsewhere := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 100000,
		Municipality: "vedano-olona"})
	expired := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 100000,
		ExpiresAt: time.Now().Add(-time.Hour)})
	offered, err := f.api.ServiceVouchers(ctx, f.scope, "childcare")
	if err != nil || len(offered) != 1 || offered[0].ID != good {
		t.Fatalf("only the good voucher may be offered: %+v %v", offered, err)
	}
	for name, c := range map[string]struct {
		in   store.CheckoutInput
		want string
	}{
		"foreign":       {store.CheckoutInput{Mode: store.PaySplit, VoucherID: foreign, VoucherCents: 500}, "/voucher_id unknown"},
		"not a uuid":    {store.CheckoutInput{Mode: store.PayVoucher, VoucherID: "x"}, "/voucher_id unknown"},
		"category":      {store.CheckoutInput{Mode: store.PayVoucher, VoucherID: silver}, "/voucher_id wrong_category"},
		"food":          {store.CheckoutInput{Mode: store.PayVoucher, VoucherID: food}, "/voucher_id not_a_service_voucher"},
		"municipality":  {store.CheckoutInput{Mode: store.PayVoucher, VoucherID: elsewhere}, "/voucher_id other_municipality"},
		"expired":       {store.CheckoutInput{Mode: store.PayVoucher, VoucherID: expired}, "409 voucher_expired"},
		"insufficient":  {store.CheckoutInput{Mode: store.PayVoucher, VoucherID: good}, "409 insufficient_balance"},
		"split too big": {store.CheckoutInput{Mode: store.PaySplit, VoucherID: good, VoucherCents: 1_000_000}, "/voucher_cents out_of_range"},
		"split zero":    {store.CheckoutInput{Mode: store.PaySplit, VoucherID: good}, "/voucher_cents out_of_range"},
		"no voucher":    {store.CheckoutInput{Mode: store.PayVoucher}, "/voucher_id required"},
		"bad mode":      {store.CheckoutInput{Mode: "cash"}, "/payment invalid"},
	} {
		c.in.ServiceID = doposcuola
		_, err := f.checkout(c.in)
		got := problemCode(err)
		if code := conflictCode(err); code != "" {
			got = "409 " + code
		}
		if got != c.want {
			t.Errorf("%s: got %q (%v), want %q", name, got, err, c.want)
		}
	}
	if _, err := f.checkout(store.CheckoutInput{ServiceID: bookingtest.ServiceID(t, f.st, "Cura del giardino"), Mode: store.PayOnline}); conflictCode(err) != "not_in_cart" {
		t.Fatalf("not in cart: %v", err)
	}
	var bookings int
	if err := f.st.Pool.QueryRow(ctx, `SELECT count(*) FROM bookings`).Scan(&bookings); err != nil || bookings != 0 {
		t.Fatalf("%d bookings after refusals (%v)", bookings, err)
	}
	if got := testenv.Balance(t, f.st, store.VoucherAccountID(good)); got != 1000 {
		t.Fatalf("voucher balance %d after refusals", got)
	}
	if err := f.api.RemoveFromCart(ctx, f.scope, doposcuola); err != nil {
		t.Fatal(err)
	}
	if err := f.api.RemoveFromCart(ctx, f.scope, doposcuola); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second removal: %v", err)
	}
	assertBooksBalance(t, f.st)
}

// Many checkouts racing on one voucher never spend more than it holds: each
// either holds its whole voucher part or is refused with 409.
func TestConcurrentCheckoutsNeverOverspend(t *testing.T) {
	f := newCheckoutFixture(t)
	ctx := context.Background()
	const start = 10_000
	voucher := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: start,
		Categories: store.ServiceCategories})
	var services []int64
	err := f.st.InTx(ctx, f.scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT s.id FROM services s JOIN service_municipalities m ON m.service_id = s.id
			WHERE m.municipality_id = 'tradate' AND s.published ORDER BY s.id`)
		if err != nil {
			return err
		}
		services, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err != nil || len(services) < 10 {
		t.Fatalf("services in Tradate: %d, %v", len(services), err)
	}
	for _, id := range services {
		if _, err := f.api.AddToCart(ctx, f.scope, id, 1); err != nil {
			t.Fatalf("add %d: %v", id, err)
		}
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		spent    int64
		ok, full int
	)
	for _, id := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.checkout(store.CheckoutInput{ServiceID: id, Mode: store.PayVoucher, VoucherID: voucher})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
				spent += res.Booking.VoucherCents
			case conflictCode(err) == "insufficient_balance":
				full++
			default:
				t.Errorf("checkout %d: %v", id, err)
			}
		}()
	}
	wg.Wait()
	if ok == 0 || full == 0 {
		t.Fatalf("%d booked, %d refused: the race did not exhaust the voucher", ok, full)
	}
	left := testenv.Balance(t, f.st, store.VoucherAccountID(voucher))
	if spent > start || left != start-spent {
		t.Fatalf("spent %d of %d, %d left", spent, start, left)
	}
	var held int64
	if err := f.st.Pool.QueryRow(ctx, `SELECT coalesce(sum(amount_cents), 0) FROM transfers WHERE kind = 'hold' AND from_account = $1`,
		store.VoucherAccountID(voucher)).Scan(&held); err != nil || held != spent {
		t.Fatalf("holds %d, spent %d (%v)", held, spent, err)
	}
	assertBooksBalance(t, f.st)
}

// The same Idempotency-Key and body return the first booking, even when
// sent concurrently; the key with another body is a conflict.
func TestCheckoutIdempotentReplay(t *testing.T) {
	f := newCheckoutFixture(t)
	ctx := context.Background()
	voucher := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 50_000})
	svc := f.add(t, "Doposcuola e aiuto compiti", 2)
	in := store.CheckoutInput{ServiceID: svc, Mode: store.PaySplit, VoucherID: voucher, VoucherCents: 1000,
		IdempotencyKey: "k-1", RequestHash: "h-1"}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[string]int{}
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.checkout(in)
			if err != nil {
				t.Errorf("checkout: %v", err)
				return
			}
			mu.Lock()
			ids[res.Booking.ID]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Fatalf("bookings %v: want one", ids)
	}
	res, err := f.checkout(in)
	if err != nil || !res.Replayed || ids[res.Booking.ID] != 8 {
		t.Fatalf("replay %+v %v", res, err)
	}
	in.RequestHash = "h-2"
	if _, err := f.checkout(in); conflictCode(err) != "idempotency_key_reused" {
		t.Fatalf("key reused: %v", err)
	}
	if got := testenv.Balance(t, f.st, store.VoucherAccountID(voucher)); got != 49_000 {
		t.Fatalf("voucher balance %d: held more than once", got)
	}
	assertBooksBalance(t, f.st)

	// A late payment refunded for this booking is recorded once.
	for i := range 2 {
		booked, err := f.st.RecordLateRefund(ctx, store.LateRefundInput{BookingID: res.Booking.ID, PaymentID: "pay_late", Cents: 2600})
		if err != nil {
			t.Fatalf("late refund: %v", err)
		}
		if booked != (i == 0) {
			t.Fatalf("late refund call %d booked=%v: only the first books it (and moves the refunds counter)", i, booked)
		}
	}
	b, err := f.api.Booking(ctx, f.scope, res.Booking.ID)
	if err != nil || b.PaymentStatus != "refunded" || b.PaymentID != "pay_late" || b.OnlineHeldCents != 0 {
		t.Fatalf("after the late refund %+v %v", b, err)
	}
	if taken, err := f.api.BookingPaymentTaken(ctx, b.ID); err != nil || !taken {
		t.Fatalf("payment taken %v %v", taken, err)
	}
	var n int
	if err := f.st.Pool.QueryRow(ctx, `SELECT count(*) FROM transfers WHERE booking_id = $1 AND kind IN ('payment','refund')`, b.ID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("late transfers %d %v", n, err)
	}
	assertBooksBalance(t, f.st)
}

// The checkout reads only the citizen's municipality's details of a service
// (bookableHere); it must refuse and price exactly as the full read the cart
// makes (bookableService), for every seeded service, every municipality of
// the district and ISEE values across the bands.
func TestCheckoutReadsTheServiceAsTheCart(t *testing.T) {
	f := newCheckoutFixture(t)
	ctx := context.Background()
	var ids []int64
	var munis []string
	if err := f.st.Pool.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM services`).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Pool.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM municipalities WHERE district_id = $1`,
		f.scope.District).Scan(&munis); err != nil {
		t.Fatal(err)
	}
	iseeValues := []*int{nil}
	for _, v := range []int{0, 5000, 8000, 10000, 15000, 20000, 30000, 40000, 1_000_000} {
		iseeValues = append(iseeValues, &v)
	}
	priced := 0
	for _, m := range append(munis, "nowhere") {
		scope := f.scope
		scope.Municipality = m
		for _, id := range append(ids, 999999) {
			cart, checkout, cartErr, checkoutErr := f.api.BookableForTest(ctx, scope, id)
			if fmt.Sprint(cartErr) != fmt.Sprint(checkoutErr) {
				t.Fatalf("service %d in %s: the cart says %v, the checkout %v", id, m, cartErr, checkoutErr)
			}
			if cartErr != nil {
				continue
			}
			if cart.ID != checkout.ID || cart.CooperativeID != checkout.CooperativeID || cart.District != checkout.District ||
				cart.Category != checkout.Category || cart.Name != checkout.Name || cart.PriceCents != checkout.PriceCents {
				t.Fatalf("service %d in %s: the cart reads %+v, the checkout %+v", id, m, cart, checkout)
			}
			for _, isee := range iseeValues {
				qa, qb := cart.Quote(m, isee), checkout.Quote(m, isee)
				if !reflect.DeepEqual(qa, qb) {
					a, _ := json.Marshal(qa)
					b, _ := json.Marshal(qb)
					t.Fatalf("service %d in %s, ISEE %v: the cart quotes %s, the checkout %s", id, m, isee, a, b)
				}
				if qa.Basis == "band" {
					priced++
				}
			}
		}
	}
	if priced == 0 {
		t.Fatal("no quote came from a price band: the comparison checked no band")
	}
}
