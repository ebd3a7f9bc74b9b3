package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// The booking saga's transfers (one round trip each) keep Transfer's rules:
// a key applies once, a key reused with other terms is refused, an account
// that cannot cover the amount is refused with nothing written, and
// concurrent transfers to one account (every confirmation posts to its
// cooperative's) all land.
func TestBookingTransfersKeepTheLedgersRules(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	const district, coop, n, cents = "tradate", "cooperative:transfer-test", 16, 700
	balance := func(id string) int64 {
		t.Helper()
		b, err := store.Balance(ctx, st.Pool, id)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bookings := make([]string, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range bookings {
		bookings[i] = uuid.NewString()
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := bookings[i]
			if err := st.BookingTransferForTest(ctx, district, id, store.TransferInput{Key: "test:" + id + ":payment",
				From: store.PaymentsAccountID(district), To: store.BookingOnlineAccountID(id), Amount: cents, Kind: store.TransferPayment}); err != nil {
				errs[i] = err
				return
			}
			errs[i] = st.BookingTransferForTest(ctx, district, id, store.TransferInput{Key: "test:" + id + ":settle",
				From: store.BookingOnlineAccountID(id), To: coop, Amount: cents, Kind: store.TransferSettle})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("booking %d: %v", i, err)
		}
	}
	if got := balance(coop); got != n*cents {
		t.Fatalf("the cooperative's account holds %d cents after %d concurrent transfers of %d, want %d", got, n, cents, n*cents)
	}

	// The same key again: applied once.
	id := bookings[0]
	settle := store.TransferInput{Key: "test:" + id + ":settle", From: store.BookingOnlineAccountID(id), To: coop, Amount: cents, Kind: store.TransferSettle}
	if err := st.BookingTransferForTest(ctx, district, id, settle); err != nil {
		t.Fatalf("replayed transfer: %v", err)
	}
	if got := balance(coop); got != n*cents {
		t.Fatalf("a replayed key moved money again: %d cents, want %d", got, n*cents)
	}
	// The same key with another amount: refused.
	other := settle
	other.Amount = cents + 1
	var conflict *store.ConflictError
	if err := st.BookingTransferForTest(ctx, district, id, other); !errors.As(err, &conflict) || conflict.Code != "idempotency_key_reused" {
		t.Fatalf("a key reused with another amount: %v, want idempotency_key_reused", err)
	}
	// More than the account holds (it is empty now): refused, nothing written.
	over := store.TransferInput{Key: "test:" + id + ":over", From: store.BookingOnlineAccountID(id), To: coop, Amount: 1, Kind: store.TransferSettle}
	if err := st.BookingTransferForTest(ctx, district, id, over); !errors.Is(err, store.ErrInsufficient) {
		t.Fatalf("a transfer the account cannot cover: %v, want ErrInsufficient", err)
	}
	var written int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM transfers WHERE idempotency_key = $1`, over.Key).Scan(&written); err != nil {
		t.Fatal(err)
	}
	if written != 0 || balance(coop) != n*cents || balance(store.BookingOnlineAccountID(id)) != 0 {
		t.Fatalf("a refused transfer left %d rows, the cooperative %d cents, the booking %d cents", written, balance(coop),
			balance(store.BookingOnlineAccountID(id)))
	}
	// The books still balance: every account sums to zero.
	var sum int64
	if err := st.Pool.QueryRow(ctx, `SELECT coalesce(sum(balance_cents), 0) FROM accounts`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 0 {
		t.Fatalf("the accounts sum to %d cents, want 0", sum)
	}
}
