package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"sportello/internal/seed"
	"sportello/internal/testenv"
)

// Migration 012 goes down with an invoice in place, and up again; its
// constraints refuse an invoice without lines and a second invoice of a
// cooperative for the same municipality and month.
func TestBillingMigrationGoesDownAndUp(t *testing.T) {
	url, st := testenv.Postgres(t)
	ctx := context.Background()
	if err := seed.Run(ctx, st, seed.Options{Demo: true}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
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
	m, err := migrate.NewMigrator(ctx, conn, "sportello_schema_version")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(os.DirFS("migrations")); err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('invoices') IS NOT NULL OR to_regclass('invoice_lines') IS NOT NULL`).Scan(&exists); err != nil || exists {
		t.Fatalf("after going down: billing tables left (%v, %v)", exists, err)
	}
	if err := m.MigrateTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
}
