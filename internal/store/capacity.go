package store

import (
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrCapacityCode is the conflict code of a checkout beyond the service's
// capacity for the period.
const ErrCapacityCode = "capacity_full"

// queueCapacity queues in b, the checkout's batch, the check that refuses,
// with a ConflictError capacity_full, a checkout whose quantity units of
// service, written by the transaction already (its booking row, queued
// before), go beyond the service's capacity for the period (migration 024:
// bookings of the period, cancelled ones excepted; the count includes the
// transaction's own booking). The function it returns gives the verdict
// once the batch has run.
//
// The first statement takes the service's advisory lock for the rest of
// the transaction, so that concurrent checkouts of one service count one
// after the other: each sees the bookings the ones before it committed
// (read committed: the count's statement, the next one, takes its
// snapshot after the lock is held). The checkout queues it last, after
// every other write and lock of its transaction: the lock is held for the
// count and the COMMIT only, and a checkout holding it never waits for
// another lock (checkouts of a popular service queued behind each other's
// whole transactions before; docs/benchmarks.md, booking saga, "Fourth
// pass").
func queueCapacity(b *pgx.Batch, service int64, quantity int) func() error {
	left := 0
	b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, fmt.Sprintf("service-capacity:%d", service))
	b.Queue(`SELECT coalesce(service_capacity_left($1), 0)`, service).QueryRow(func(row pgx.Row) error {
		return row.Scan(&left)
	})
	return func() error {
		if left < 0 {
			return &ConflictError{Code: ErrCapacityCode, Message: fmt.Sprintf(
				"the service has %d places left in this period and %d were asked: choose fewer, or book again in the next period", max(left+quantity, 0), quantity)}
		}
		return nil
	}
}
