package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// A booking's transfers in one round trip. Transfer takes four (lock the
// accounts, insert the transfer, debit, credit); a confirmation posts to
// the cooperative's account, which every booking it delivered posts to, so
// each round trip after the lock is time that account stays locked while
// other confirmations wait for it. queueBookingTransfer queues the same
// work in a batch: the accounts opened, then locked (in a statement of
// their own, so that the transfer's statement, which starts after the lock
// is held, sees their latest balances), then the transfer, the debit and
// the credit in one statement, each only when the step before it happened.
// The rules are Transfer's: the key applies once, a key seen before with
// other terms is a conflict, the debited account cannot go below zero
// unless allowed.

// bookingTransferSQL inserts the transfer (once per key) and moves the
// amount, in one statement; it answers whether the transfer is new and
// whether the debit and the credit happened.
const bookingTransferSQL = `WITH ins AS (
		INSERT INTO transfers (idempotency_key, from_account, to_account, amount_cents, kind, fund_id, voucher_id, booking_id)
		SELECT $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::text, $7::uuid, $8::uuid
		WHERE (SELECT count(*) FROM accounts WHERE id IN ($2, $3)) = 2
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
	), debit AS (
		UPDATE accounts SET balance_cents = balance_cents - $4
		WHERE id = $2 AND EXISTS (SELECT FROM ins) AND (allow_negative OR balance_cents >= $4) RETURNING id
	), credit AS (
		UPDATE accounts SET balance_cents = balance_cents + $4
		WHERE id = $3 AND EXISTS (SELECT FROM debit) RETURNING id
	)
	SELECT EXISTS (SELECT FROM ins), EXISTS (SELECT FROM debit), EXISTS (SELECT FROM credit)`

// queuedTransfer is one transfer queued by queueBookingTransfer; check
// reads its outcome once the batch has run.
type queuedTransfer struct {
	in                       TransferInput
	locked                   int
	created, debited, credit bool
}

// queueBookingTransfer queues the booking's transfer in (opening the
// accounts it needs) in b, to run inside a transaction (tx.SendBatch).
func queueBookingTransfer(b *pgx.Batch, district, bookingID string, in TransferInput) *queuedTransfer {
	queueAccounts(b, district, bookingTransferAccounts(district, bookingID, in))
	return queueTransfer(b, bookingID, in)
}

// queueTransfer is queueBookingTransfer for accounts that are open already
// or opened earlier in b (the checkout opens all of a booking's at once).
func queueTransfer(b *pgx.Batch, bookingID string, in TransferInput) *queuedTransfer {
	in.BookingID = bookingID
	q := &queuedTransfer{in: in}
	b.Queue(`SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE`, []string{in.From, in.To}).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			q.locked++
		}
		return rows.Err()
	})
	var fundID, voucherID any
	if in.FundID != "" {
		fundID = in.FundID
	}
	if in.VoucherID != "" {
		voucherID = in.VoucherID
	}
	b.Queue(bookingTransferSQL, in.Key, in.From, in.To, in.Amount, in.Kind, fundID, voucherID, bookingID).
		QueryRow(func(row pgx.Row) error { return row.Scan(&q.created, &q.debited, &q.credit) })
	return q
}

// check says what became of the transfer: nil when it was applied now or
// had been applied before with the same terms.
func (q *queuedTransfer) check(ctx context.Context, tx pgx.Tx) error {
	in := q.in
	switch {
	case q.locked != 2:
		return fmt.Errorf("transfer %s: unknown account %s or %s", in.Key, in.From, in.To)
	case !q.created:
		var from, to string
		var amount int64
		if err := tx.QueryRow(ctx, `SELECT from_account, to_account, amount_cents FROM transfers WHERE idempotency_key = $1`,
			in.Key).Scan(&from, &to, &amount); err != nil {
			return MapError(err)
		}
		if from != in.From || to != in.To || amount != in.Amount {
			return Conflict("idempotency_key_reused", "transfer "+in.Key+" was already applied with other terms")
		}
		return nil
	case !q.debited:
		return ErrInsufficient
	case !q.credit:
		return fmt.Errorf("transfer %s: account %s not credited", in.Key, in.To)
	}
	return nil
}

// bookingTransferAccounts are the accounts a booking's transfer may have to
// open (the booking's own, the district's payments account, a
// cooperative's), in the transfer's order.
func bookingTransferAccounts(district, bookingID string, in TransferInput) []accountSpec {
	kinds := map[string]accountSpec{}
	for _, a := range []accountSpec{
		{BookingVoucherAccountID(bookingID), AccountBookingVoucher, false},
		{BookingOnlineAccountID(bookingID), AccountBookingOnline, false},
		{BookingCompanyAccountID(bookingID), AccountBookingCompany, false},
		{PaymentsAccountID(district), AccountPayments, true},
	} {
		kinds[a.id] = a
	}
	var open []accountSpec
	for _, id := range []string{in.From, in.To} {
		k, ok := kinds[id]
		switch {
		case ok:
			open = append(open, k)
		case strings.HasSuffix(id, ":online") && strings.HasPrefix(id, "cooperative:"):
			open = append(open, accountSpec{id, AccountCooperativeOnline, false})
		case strings.HasPrefix(id, "cooperative:"):
			open = append(open, accountSpec{id, AccountCooperative, false})
		}
	}
	return open
}
