package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// BookingTransferForTest runs bookingTransfer (the one-round-trip transfer
// of the booking saga) in a transaction of its own.
func (s *Store) BookingTransferForTest(ctx context.Context, district, bookingID string, in TransferInput) error {
	return MapError(s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		return bookingTransfer(ctx, tx, district, bookingID, in)
	}))
}
