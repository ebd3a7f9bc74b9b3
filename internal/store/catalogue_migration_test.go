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
	conn := seededConn(t)
	goesDownAndUp(t, conn, 9, `SELECT to_regclass('cooperatives') IS NOT NULL OR EXISTS (SELECT 1 FROM users WHERE username = 'coop.baobab')`, "catalogue")
}

// seededConn connects to a new database of its own, migrated and seeded with
// the demo data; the connection is closed when t ends.
func seededConn(t *testing.T) *pgx.Conn {
	t.Helper()
	url, st := testenv.Postgres(t)
	ctx := context.Background()
	if err := seed.Run(ctx, st, seed.Options{Demo: true}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// goesDownAndUp migrates conn's database down below migration version,
// checks with left (a query of one boolean) that none of what (the
// migration's objects) is left, and migrates up to version again.
func goesDownAndUp(t *testing.T, conn *pgx.Conn, version int32, left, what string) {
	t.Helper()
	ctx := context.Background()
	m := migrator(t, conn)
	if err := m.MigrateTo(ctx, version-1); err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, left).Scan(&exists); err != nil || exists {
		t.Fatalf("after going down: %s left (%v, %v)", what, exists, err)
	}
	if err := m.MigrateTo(ctx, version); err != nil {
		t.Fatal(err)
	}
}

// upToLatest migrates conn to the newest migration again, after a
// goesDownAndUp that stopped at an older one (checks that read the tables
// of later migrations, such as the ledger check, need them).
func upToLatest(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	m := migrator(t, conn)
	if err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
}

// migrator is the schema's migrator on conn, with the migrations of this
// package loaded.
func migrator(t *testing.T, conn *pgx.Conn) *migrate.Migrator {
	t.Helper()
	m, err := migrate.NewMigrator(context.Background(), conn, "sportello_schema_version")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(os.DirFS("migrations")); err != nil {
		t.Fatal(err)
	}
	return m
}
