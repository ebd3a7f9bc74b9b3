package store_test

import (
	"context"
	"testing"
)

// Migration 012 goes down with an invoice in place, and up again; its
// constraints refuse an invoice without lines and a second invoice of a
// cooperative for the same municipality and month.
func TestBillingMigrationGoesDownAndUp(t *testing.T) {
	ctx := context.Background()
	conn := seededConn(t)
	const insert = `INSERT INTO invoices (id, kind, district_id, municipality_id, cooperative_id, period, status, total_cents, line_count, data)
		VALUES (gen_random_uuid(), 'cooperative', 'tradate', 'tradate', 'baobab', '2026-10-01', 'ready', $1, $2, '{}')`
	if _, err := conn.Exec(ctx, insert, 1000, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, insert, 1000, 1); err == nil {
		t.Fatal("a second invoice for the same cooperative, municipality and month")
	}
	if _, err := conn.Exec(ctx, `UPDATE invoices SET period = '2026-09-01', line_count = 0`); err == nil {
		t.Fatal("an invoice without lines")
	}
	goesDownAndUp(t, conn, 12, `SELECT to_regclass('invoices') IS NOT NULL OR to_regclass('invoice_lines') IS NOT NULL`, "billing tables")
}
