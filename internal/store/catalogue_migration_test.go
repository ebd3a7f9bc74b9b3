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

// Migration 009 goes down (with a cooperative user and services in place)
// and up again.
func TestCatalogueMigrationGoesDownAndUp(t *testing.T) {
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
	m, err := migrate.NewMigrator(ctx, conn, "sportello_schema_version")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(os.DirFS("migrations")); err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('cooperatives') IS NOT NULL OR EXISTS (SELECT 1 FROM users WHERE username = 'coop.baobab')`).Scan(&exists); err != nil || exists {
		t.Fatalf("after going down: catalogue left (%v, %v)", exists, err)
	}
	if err := m.MigrateTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
}
