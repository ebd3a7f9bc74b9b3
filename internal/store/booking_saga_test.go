package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"sportello/internal/bookingtest"
	"sportello/internal/contract"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// Every saga step applied twice (an activity retried) moves money once:
// the payment, the offer, the confirmation of a session (post and settle),
// the cancellation of the others (void) and their refund. The ledger sums
// to zero after each step and the booking's accounts end empty.
func TestBookingSagaStepsAreIdempotent(t *testing.T) {
	ctx := context.Background()
	st := seededStore(t)
	b, err := bookingtest.Checkout(t, st, 3, 2_000)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Truncate(time.Millisecond) // PostgreSQL keeps microseconds
	twice := func(what string, f func() error) {
		t.Helper()
		for i := 0; i < 2; i++ {
			if err := f(); err != nil {
				t.Fatalf("%s (call %d): %v", what, i+1, err)
			}
		}
		assertBooksBalance(t, st)
	}
	// status checks the booking's status as the store derived it.
	status := func(after, want string) {
		t.Helper()
		v, err := st.API().Booking(ctx, store.System, b.ID)
		if err != nil || v.Status != want {
			t.Errorf("after the %s: status %q (%v), want %q", after, v.Status, err, want)
		}
	}
	status("checkout", contract.BookingAwaitingPayment)
	twice("payment id", func() error { return st.SetBookingPayment(ctx, b.ID, "pay_1", "http://psp/pay/pay_1") })
	if err := st.SetBookingPayment(ctx, b.ID, "pay_2", "http://psp/pay/pay_2"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second payment: %v, want a conflict", err)
	}
	twice("payment", func() error { return st.RecordBookingPayment(ctx, b.ID, "pay_1", b.Online) })
	status("payment", contract.BookingRequested)
	if err := st.RecordBookingPayment(ctx, b.ID, "pay_1", b.Online+1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a payment of another amount: %v, want a conflict", err)
	}
	var offers []store.Offer
	twice("offer", func() error {
		o, err := st.OfferBooking(ctx, store.OfferInput{BookingID: b.ID, Attempt: 1, At: at})
		offers = append(offers, o)
		return err
	})
	if offers[0] != offers[1] || !offers[0].Found || offers[0].CooperativeID != "baobab" ||
		!offers[0].RespondBy.Equal(at.Add(48*time.Hour)) {
		t.Fatalf("offers %+v", offers)
	}
	dates := []time.Time{at.Add(24 * time.Hour), at.Add(48 * time.Hour), at.Add(72 * time.Hour)}
	twice("accept", func() error {
		return st.AcceptOffer(ctx, store.AcceptOfferInput{BookingID: b.ID, Attempt: 1, Dates: dates, At: at})
	})
	status("accept", contract.BookingConfirmed)
	twice("delivery", func() error {
		return st.RecordSessionDelivery(ctx, store.DeliveryInput{BookingID: b.ID, Seq: 1, CooperativeID: "baobab", DeliveredAt: at})
	})
	status("delivery", contract.BookingConfirmed)
	twice("confirmation", func() error {
		return st.ConfirmSessions(ctx, store.ConfirmSessionsInput{BookingID: b.ID, Seqs: []int{1}, By: "auto", At: at})
	})
	status("confirmation", contract.BookingConfirmed)
	twice("cancellation", func() error {
		return st.CancelSessions(ctx, store.CancelSessionsInput{BookingID: b.ID, Seqs: []int{2, 3}, Reason: "Trasloco", At: at})
	})
	// The refund is booked by the first call only: a retried activity
	// counts it once (observe.Refunds moves on booked alone).
	var booked []bool
	twice("refund", func() error {
		ok, err := st.RecordBookingRefund(ctx, b.ID, []int{2, 3})
		booked = append(booked, ok)
		return err
	})
	if len(booked) != 2 || !booked[0] || booked[1] {
		t.Fatalf("refund booked by call: %v, want the first only", booked)
	}

	vp, op := store.SplitSessions(3, b.UnitPriceCents, b.Voucher)
	v1, o1 := vp[0], op[0]
	for acc, want := range map[string]int64{
		store.CooperativeAccountID("baobab"):       v1,
		store.CooperativeOnlineAccountID("baobab"): o1,
		store.VoucherAccountID(b.VoucherID):        b.VoucherCredit - v1,
		store.BookingVoucherAccountID(b.ID):        0,
		store.BookingOnlineAccountID(b.ID):         0,
		store.PaymentsAccountID("tradate"):         -o1,
	} {
		if got := testenv.Balance(t, st, acc); got != want {
			t.Errorf("%s: %d, want %d", acc, got, want)
		}
	}
	v, err := st.API().Booking(ctx, store.System, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "completed" || v.PaymentStatus != store.PaymentPartiallyRefunded || v.CancelReason != "Trasloco" {
		t.Errorf("booking %s, payment %s, reason %q", v.Status, v.PaymentStatus, v.CancelReason)
	}
	if err := st.ConfirmSessions(ctx, store.ConfirmSessionsInput{BookingID: b.ID, Seqs: []int{2}, By: "citizen", At: at}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("confirming a cancelled session: %v, want a conflict", err)
	}
}

// Row-level security of bookings for cooperatives: the one holding a
// booking and one it was offered to before read it (no endless recursion
// through the offers' policy); another cooperative does not; only the
// holder's inbox lists it as pending.
func TestCooperativesSeeTheBookingsTheyHoldOrWereOffered(t *testing.T) {
	ctx := context.Background()
	st := seededStore(t)
	b, err := bookingtest.Checkout(t, st, 1, 1_000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.OfferBooking(ctx, store.OfferInput{BookingID: b.ID, Attempt: 1, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	baobab := userScope(t, st, "coop.baobab")
	items, err := st.API().CoopBookings(ctx, baobab, store.CoopRequests)
	if err != nil || len(items) != 1 || items[0].ID != b.ID || items[0].RespondBy == nil {
		t.Fatalf("Baobab's requests: %+v %v", items, err)
	}
	// The booking moves to another cooperative (as after a decline).
	if _, err := st.Pool.Exec(ctx, `UPDATE booking_offers SET outcome = 'declined' WHERE booking_id = $1`, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE bookings SET cooperative_id = 'eureka' WHERE id = $1`, b.ID); err != nil {
		t.Fatal(err)
	}
	d, err := st.API().CoopBooking(ctx, baobab, "baobab", b.ID)
	if err != nil {
		t.Fatalf("Baobab reading a booking it was offered: %v", err)
	}
	if d.Holder || d.Pending != nil || d.CitizenName != "" {
		t.Errorf("Baobab no longer holds it but reads %+v", d)
	}
	if items, err := st.API().CoopBookings(ctx, baobab, store.CoopRequests); err != nil || len(items) != 0 {
		t.Errorf("Baobab's requests after the decline: %+v %v", items, err)
	}
	other := store.Scope{Kind: "cooperative", District: "tradate", UserID: -1}
	if _, err := st.API().Booking(ctx, other, b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a cooperative never offered the booking: %v, want not found", err)
	}
}
