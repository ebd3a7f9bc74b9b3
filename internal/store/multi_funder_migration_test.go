package store_test

import (
	"context"
	"testing"

	"sportello/internal/store"
)

// Migration 033 (multi-funder checkout) goes down and up on a seeded
// database: the company parts of bookings, sessions and invoice lines
// leave with it and come back, and the books still balance.
func TestMultiFunderMigrationGoesDownAndUp(t *testing.T) {
	ctx := context.Background()
	conn := seededConn(t)
	const present = `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name IN ('bookings', 'booking_sessions', 'invoice_lines')
		AND column_name IN ('company_cents', 'company_employee_id', 'funder'))`
	goesDownAndUp(t, conn, 33, present, "company parts of bookings or funders of invoice lines")
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'booking_sessions'
		AND column_name = 'company_cents')`).Scan(&ok); err != nil || !ok {
		t.Fatalf("after going up again: %v %v", ok, err)
	}
	upToLatest(t, conn)
	if msg, err := store.LedgerCheck(ctx, conn); err != nil || msg != "" {
		t.Fatalf("ledger check after down and up: %q, %v", msg, err)
	}
}
