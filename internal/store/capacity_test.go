package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sportello/internal/bookingtest"
	"sportello/internal/store"
)

// The capacity is counted last in the checkout, with the checkout's own
// booking already written: 2 of 3 places booked, a checkout of 2 more is
// refused with the places left before it (1) and what it asked (2), and
// writes nothing (no booking, the voucher's balance whole, the item still
// in the cart); 1 more is booked, and then none.
func TestCheckoutCapacityCountsItsOwnBooking(t *testing.T) {
	f := newCheckoutFixture(t)
	ctx := context.Background()
	svcID := bookingtest.ServiceID(t, f.st, bookingtest.Service)
	if _, err := f.st.Pool.Exec(ctx, `UPDATE services SET capacity = 3 WHERE id = $1`, svcID); err != nil {
		t.Fatal(err)
	}
	voucher := bookingtest.ServiceVoucher(t, f.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 1_000_000})
	book := func(qty int) error {
		f.add(t, bookingtest.Service, qty)
		_, err := f.checkout(store.CheckoutInput{ServiceID: svcID, Mode: store.PayVoucher, VoucherID: voucher})
		return err
	}
	units := func() int {
		var n int
		if err := f.st.Pool.QueryRow(ctx, `SELECT coalesce(sum(quantity), 0) FROM bookings WHERE service_id = $1`, svcID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := book(2); err != nil {
		t.Fatalf("2 of 3 places: %v", err)
	}
	before, err := store.Balance(ctx, f.st.Pool, store.VoucherAccountID(voucher))
	if err != nil {
		t.Fatal(err)
	}
	err = book(2)
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Code != store.ErrCapacityCode ||
		!strings.Contains(ce.Message, "has 1 places left") || !strings.Contains(ce.Message, "2 were asked") {
		t.Fatalf("2 more with 1 place left: %v", err)
	}
	after, err := store.Balance(ctx, f.st.Pool, store.VoucherAccountID(voucher))
	if err != nil {
		t.Fatal(err)
	}
	if n := units(); n != 2 || after != before {
		t.Fatalf("after the refusal: %d units booked (want 2), voucher %d (was %d)", n, after, before)
	}
	var inCart int
	if err := f.st.Pool.QueryRow(ctx, `SELECT quantity FROM cart_items WHERE user_id = $1 AND service_id = $2`,
		f.citizen.ID, svcID).Scan(&inCart); err != nil || inCart != 2 {
		t.Fatalf("the refused item in the cart: %d, %v", inCart, err)
	}
	if _, err := f.api.SetCartQuantity(ctx, f.scope, svcID, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.checkout(store.CheckoutInput{ServiceID: svcID, Mode: store.PayVoucher, VoucherID: voucher}); err != nil {
		t.Fatalf("the last place: %v", err)
	}
	if err := book(1); !errors.As(err, &ce) || ce.Code != store.ErrCapacityCode || !strings.Contains(ce.Message, "has 0 places left") {
		t.Fatalf("a fourth unit of 3: %v", err)
	}
	if n := units(); n != 3 {
		t.Fatalf("%d units booked, want 3", n)
	}
}

// Migration 042 (the count's plan kept) goes down to 024's SQL function and
// up to PL/pgSQL again.
func TestCapacityPlanMigrationGoesDownAndUp(t *testing.T) {
	ctx := context.Background()
	conn := seededConn(t)
	lang := func() string {
		var l string
		if err := conn.QueryRow(ctx, `SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
			WHERE p.oid = 'service_capacity_left(bigint)'::regprocedure`).Scan(&l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := lang(); l != "plpgsql" {
		t.Fatalf("service_capacity_left in %s", l)
	}
	goesDownAndUp(t, conn, 42, `SELECT l.lanname = 'plpgsql' FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
		WHERE p.oid = 'service_capacity_left(bigint)'::regprocedure`, "the PL/pgSQL count")
	if l := lang(); l != "plpgsql" {
		t.Fatalf("after down and up: service_capacity_left in %s", l)
	}
}
