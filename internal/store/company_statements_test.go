package store_test

import (
	"context"
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
