package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrCapacityCode is the conflict code of a checkout beyond the service's
// capacity for the period.
const ErrCapacityCode = "capacity_full"

// checkCapacity refuses, with a ConflictError capacity_full, a checkout of
// quantity units of service beyond the units left in the service's
// capacity period (migration 024: bookings of the period, cancelled ones
// excepted). It first takes the service's advisory lock for the rest of
// the transaction, so that concurrent checkouts of one service count one
// after the other: each sees the bookings the ones before it committed
// (read committed: the count's statement runs after the lock is held).
func checkCapacity(ctx context.Context, tx pgx.Tx, service int64, quantity int) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
		fmt.Sprintf("service-capacity:%d", service)); err != nil {
		return err
	}
	var left int
	if err := tx.QueryRow(ctx, `SELECT coalesce(service_capacity_left($1), 0)`, service).Scan(&left); err != nil {
		return err
	}
	if quantity > left {
		return &ConflictError{Code: ErrCapacityCode, Message: fmt.Sprintf(
			"the service has %d places left in this period and %d were asked: choose fewer, or book again in the next period", max(left, 0), quantity)}
	}
	return nil
}
