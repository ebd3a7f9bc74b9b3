package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/seed"
	"sportello/internal/store"
)

// Statements (migration 034): the schedule's run issues last month's once
// however often it runs; each role reads what the policies say; only the
// system scope issues or numbers invoices; a welfare manager keeps the
// hours of the point their company hosts and of no other point; the
// manager writes audit rows about themselves only.
func TestCompanyStatementsRowLevelSecurity(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	api := st.API()
	manager := userScope(t, st, seed.DemoWelfareManager)
	other := otherCompany(t, st)
	if _, err := st.Pool.Exec(ctx, `UPDATE companies SET created_at = created_at - interval '2 months'`); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := api.IssueDueStatements(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if n := countAs(t, st, store.System, `SELECT count(*) FROM company_statements`); n != 2 {
		t.Fatalf("%d statements after two runs for two companies, want 2", n)
	}
	for _, c := range []struct {
		who   string
		scope store.Scope
		n     int
	}{
		{"manager", manager, 1},
		{"another company's manager", other, 1},
		{"the district's supervisor", userScope(t, st, "supervisore"), 2},
		{"another district's supervisor", userScope(t, st, "supervisore.padova"), 0},
		{"an employee", userScope(t, st, "cittadino.tradate"), 0},
		{"an operator", userScope(t, st, "operatore.tradate"), 0},
	} {
		if n := countAs(t, st, c.scope, `SELECT count(*) FROM company_statements`); n != c.n {
			t.Errorf("%s reads %d statements, want %d", c.who, n, c.n)
		}
	}
	for _, q := range []string{
		`INSERT INTO company_invoice_counters (district_id, year, last_number) VALUES ('tradate', 2099, 1)`,
		`INSERT INTO company_statements (id, company_id, district_id, month, opening_cents, topups_cents, allotted_cents, revoked_cents,
			closing_cents, issued_by) VALUES (gen_random_uuid(), 'meccanica-tradatese', 'tradate', '2001-01-01', 0, 0, 0, 0, 0, 'x')`,
	} {
		err := st.InTx(ctx, manager, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, q); return err })
		if err == nil || !strings.Contains(err.Error(), "row-level security") {
			t.Errorf("a manager wrote %q: %v", q, err)
		}
	}
	hours := []store.OpeningHours{{Weekday: 5, Opens: "12:00", Closes: "13:00"}}
	if p, err := api.SetSocialPointHours(ctx, manager, seed.DemoCompanyPointID, hours); err != nil || len(p.Hours) != 1 || p.Hours[0].Weekday != 5 {
		t.Fatalf("hosted point's hours: %v %+v", err, p)
	}
	for _, c := range []struct {
		scope store.Scope
		point string
	}{{manager, "sp-tradate"}, {other, seed.DemoCompanyPointID}} {
		if _, err := api.SetSocialPointHours(ctx, c.scope, c.point, hours); err != store.ErrNotFound {
			t.Errorf("hours of %s: %v, want not found", c.point, err)
		}
		if n := execAs(t, st, c.scope, `DELETE FROM social_point_hours WHERE point_id = $1`, c.point); n != 0 {
			t.Errorf("deleted %d hours of %s", n, c.point)
		}
	}
	if err := api.Audit(ctx, manager, store.AuditEntry{Action: "company_enrol", ActorUsername: seed.DemoWelfareManager}); err != nil {
		t.Errorf("the manager's own audit row: %v", err)
	}
	if err := api.Audit(ctx, manager, store.AuditEntry{Action: "company_enrol", ActorUsername: "x", ActorID: other.UserID}); err == nil {
		t.Errorf("the manager wrote an audit row as another user")
	}
}

// Migration 034 goes down (with a statement, an invoice number and a
// hosted point in place) and up again.
func TestCompanyStatementsMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO company_invoice_counters VALUES ('tradate', 2026, 1)`); err != nil {
		t.Fatal(err)
	}
	goesDownAndUp(t, conn, 34, `SELECT to_regclass('company_statements') IS NOT NULL
		OR EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'social_points' AND column_name = 'host_company_id')`, "statements")
	upToLatest(t, conn)
}

// Migration 037 counts, for statements issued before it, the employees who
// returned credit in their month (the distinct credit accounts of the
// month's revoke transfers), goes down and up again.
func TestStatementReturnedCreditMigration(t *testing.T) {
	conn := seededConn(t)
	ctx := context.Background()
	m := migrator(t, conn)
	if err := m.MigrateTo(ctx, 36); err != nil {
		t.Fatal(err)
	}
	var employee string
	if err := conn.QueryRow(ctx, `SELECT id::text FROM company_employees WHERE company_id = $1 ORDER BY tax_code LIMIT 1`,
		seed.DemoCompanyID).Scan(&employee); err != nil {
		t.Fatal(err)
	}
	acct, credit := store.CompanyAccountID(seed.DemoCompanyID), store.CompanyCreditAccountID(employee)
	for i, at := range []string{"2026-03-10 10:00+01", "2026-03-31 23:30+02"} { // both in March, Italian time
		if _, err := conn.Exec(ctx, `INSERT INTO transfers (idempotency_key, from_account, to_account, amount_cents, kind, created_at)
			VALUES ($1, $2, $3, $4, 'revoke', $5)`, fmt.Sprintf("test-revoke:%d", i), credit, acct, 100*(i+1), at); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []struct {
		month            string
		opening, revoked int64
	}{{"2026-03-01", 0, 300}, {"2026-04-01", 300, 0}} {
		if _, err := conn.Exec(ctx, `INSERT INTO company_statements (id, company_id, district_id, month, opening_cents, topups_cents,
				allotted_cents, revoked_cents, closing_cents, customer, issued_by)
			VALUES (gen_random_uuid(), $1, 'tradate', $2::date, $3::bigint, 0, 0, $4::bigint, $3::bigint + $4::bigint, '{"name":"x"}', 'test')`,
			seed.DemoCompanyID, st.month, st.opening, st.revoked); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.MigrateTo(ctx, 37); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT revoked_employees FROM company_statements WHERE company_id = $1 ORDER BY month`, seed.DemoCompanyID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Fatalf("revoked_employees %v (%v), want [1 0]", got, err)
	}
	if _, err := conn.Exec(ctx, `UPDATE company_statements SET revoked_employees = 0 WHERE month = '2026-03-01'`); err == nil {
		t.Fatal("a statement with returned credit and no employee was accepted")
	}
	goesDownAndUp(t, conn, 37, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_name = 'company_statements' AND column_name = 'revoked_employees')`, "revoked_employees")
	upToLatest(t, conn)
}
