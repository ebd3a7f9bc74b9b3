package bookingtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"sportello/internal/store"
	"sportello/workflows"
)

// Service is the service the saga's tests book (Baobab's).
const Service = "Doposcuola e aiuto compiti"

// Booking is a booking made through the citizen's checkout.
type Booking struct {
	ID, VoucherID   string
	CitizenID       int64
	Quantity        int
	UnitPriceCents  int64
	Voucher, Online int64 // the parts of the total
	VoucherCredit   int64 // the voucher's balance before the hold
}

// UnitPrice is the list price of the booked service.
func UnitPrice(ctx context.Context, st *store.Store) (int64, error) {
	var price int64
	err := st.Pool.QueryRow(ctx, `SELECT price_cents FROM services WHERE cooperative_id = 'baobab' AND name = $1`, Service).Scan(&price)
	return price, err
}

// Checkout books quantity units of Service for cittadino.tradate through
// the store's own cart and checkout (list price: no ISEE given): voucher
// cents of the total from a new service voucher with credit to spare, the
// rest online (then the booking awaits payment). It does not start the
// workflow. It needs the demo seed.
func Checkout(t testing.TB, st *store.Store, quantity int, voucher int64) (Booking, error) {
	t.Helper()
	ctx := context.Background()
	price, err := UnitPrice(ctx, st)
	if err != nil {
		return Booking{}, err
	}
	total := price * int64(quantity)
	b := Booking{Quantity: quantity, UnitPriceCents: price, Voucher: voucher, Online: total - voucher}
	if voucher <= 0 || b.Online < 0 {
		return b, fmt.Errorf("voucher part %d: must be positive and at most the total %d", voucher, total)
	}
	var category string
	if err := st.Pool.QueryRow(ctx, `SELECT category FROM services WHERE cooperative_id = 'baobab' AND name = $1`, Service).Scan(&category); err != nil {
		return b, err
	}
	citizen := User(t, st, "cittadino.tradate")
	b.CitizenID = citizen.ID
	b.VoucherCredit = voucher + 10_000
	b.VoucherID = ServiceVoucher(t, st, VoucherSpec{Username: citizen.Username, Categories: []string{category}, Cents: b.VoucherCredit})
	scope := store.Scope{Kind: "citizen", District: citizen.District, Municipality: citizen.Municipality, UserID: citizen.ID}
	serviceID := ServiceID(t, st, Service)
	if _, err := st.API().AddToCart(ctx, scope, serviceID, quantity); err != nil {
		return b, fmt.Errorf("cart: %w", err)
	}
	in := store.CheckoutInput{BookingID: uuid.NewString(), ServiceID: serviceID, Mode: store.PayVoucher, VoucherID: b.VoucherID,
		WorkflowID: workflows.BookingWorkflowID}
	if b.Online > 0 {
		in.Mode, in.VoucherCents = store.PaySplit, voucher
	}
	res, err := st.API().Checkout(ctx, scope, in)
	if err != nil {
		return b, fmt.Errorf("checkout: %w", err)
	}
	b.ID = res.Booking.ID
	if res.Booking.UnitPriceCents != price || res.Booking.VoucherCents != voucher {
		return b, fmt.Errorf("checkout booked %d x %d with %d by voucher, want %d x %d with %d",
			res.Booking.Quantity, res.Booking.UnitPriceCents, res.Booking.VoucherCents, quantity, price, voucher)
	}
	return b, nil
}
