package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// Bookings lists the bookings the scope sees (a citizen: their own),
// newest first, without sessions and offers, and how many there are.
func (a API) Bookings(ctx context.Context, scope Scope, limit, offset int) ([]BookingView, int, error) {
	out := []BookingView{}
	total := 0
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM bookings`).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+bookingColumns+bookingFrom+`
			ORDER BY b.created_at DESC, b.number DESC LIMIT $1 OFFSET $2`, limit, offset)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BookingView, error) { return scanBooking(r) })
		return err
	})
	return out, total, MapError(err)
}

// BookingPaymentTaken says whether the ledger holds a payment for the
// booking (the payment transfer of its saga, or one recorded by
// RecordLateRefund).
func (a API) BookingPaymentTaken(ctx context.Context, bookingID string) (bool, error) {
	var taken bool
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM transfers WHERE booking_id = $1::uuid AND kind = $2)`,
			bookingID, TransferPayment).Scan(&taken)
	})
	return taken, MapError(err)
}

// LateRefundInput records a payment that arrived for a booking whose saga
// had already ended, and its refund.
type LateRefundInput struct {
	BookingID string
	PaymentID string
	Cents     int64 // captured and refunded
}

// RecordLateRefund books a late payment and its refund in one transaction:
// payments:<district> -> booking:<b>:online (payment), then back (refund),
// both keyed by the payment id so a repeat records nothing twice; the
// booking's payment becomes refunded. It reports whether this call booked
// the refund (false for a repeat: the provider's redelivered event counts
// once). ErrNotFound for an unknown booking.
func (s *Store) RecordLateRefund(ctx context.Context, in LateRefundInput) (bool, error) {
	booked := false
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		booked = false
		var district string
		if err := tx.QueryRow(ctx, `SELECT district_id FROM bookings WHERE id = $1::uuid FOR UPDATE`, in.BookingID).Scan(&district); err != nil {
			return err
		}
		if in.Cents > 0 {
			if err := EnsureAccount(ctx, tx, PaymentsAccountID(district), district, AccountPayments, true); err != nil {
				return err
			}
			if err := EnsureAccount(ctx, tx, BookingOnlineAccountID(in.BookingID), district, AccountBookingOnline, false); err != nil {
				return err
			}
			for _, t := range []TransferInput{
				{Key: "late-payment:" + in.PaymentID, From: PaymentsAccountID(district), To: BookingOnlineAccountID(in.BookingID),
					Amount: in.Cents, Kind: TransferPayment, BookingID: in.BookingID},
				{Key: "late-refund:" + in.PaymentID, From: BookingOnlineAccountID(in.BookingID), To: PaymentsAccountID(district),
					Amount: in.Cents, Kind: TransferRefund, BookingID: in.BookingID},
			} {
				_, created, err := Transfer(ctx, tx, t)
				if err != nil {
					return err
				}
				if t.Kind == TransferRefund {
					booked = created
				}
			}
		}
		_, err := tx.Exec(ctx, `UPDATE bookings SET payment_id = coalesce(payment_id, $2), payment_status = 'refunded', updated_at = now()
			WHERE id = $1::uuid`, in.BookingID, in.PaymentID)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, MapError(err)
	}
	return booked, nil
}
