package store_test

import (
	"context"
	"testing"
)

// Migration 024 (service capacity) goes down and up; the count of places
// left reads the seeded capacity of a service without bookings.
func TestCapacityMigrationGoesDownAndUp(t *testing.T) {
	ctx := context.Background()
	conn := seededConn(t)
	var capacity, left int
	if err := conn.QueryRow(ctx, `SELECT capacity, service_capacity_left(id) FROM services ORDER BY id LIMIT 1`).Scan(&capacity, &left); err != nil {
		t.Fatal(err)
	}
	if left != capacity {
		t.Errorf("%d places left of %d with no booking", left, capacity)
	}
	goesDownAndUp(t, conn, 24, `SELECT to_regprocedure('service_capacity_left(bigint)') IS NOT NULL`, "capacity function")
}
