package store_test

import (
	"context"
	"testing"

	"sportello/internal/store"
)

// Migration 031 (company welfare) goes down and up on a seeded database
// (with the demo company, its manager, top-up and employees): its tables,
// functions, role and ledger kinds leave with it and come back.
func TestCompanyMigrationGoesDownAndUp(t *testing.T) {
	ctx := context.Background()
	conn := seededConn(t)
	const present = `SELECT to_regclass('companies') IS NOT NULL OR to_regprocedure('sportello_company()') IS NOT NULL
		OR EXISTS (SELECT 1 FROM accounts WHERE kind IN ('company', 'company_credit'))`
	goesDownAndUp(t, conn, 31, present, "company tables, functions or accounts")
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('company_employees') IS NOT NULL AND to_regprocedure('company_spending()') IS NOT NULL`).
		Scan(&ok); err != nil || !ok {
		t.Fatalf("after going up again: %v %v", ok, err)
	}
	// The books still balance: going down took the top-ups' source account
	// with the top-ups.
	upToLatest(t, conn)
	if msg, err := store.LedgerCheck(ctx, conn); err != nil || msg != "" {
		t.Fatalf("ledger check after down and up: %q, %v", msg, err)
	}
}
