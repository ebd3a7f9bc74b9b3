package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
	"sportello/internal/seed"
	"sportello/internal/store"
)

// count runs a count(*) query under scope.
func countAs(t *testing.T, st *store.Store, scope store.Scope, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.InTx(context.Background(), scope, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), q, args...).Scan(&n)
	}); err != nil {
		t.Fatalf("%s as %s: %v", q, scope.Kind, err)
	}
	return n
}

// otherCompany adds a second company of Tradate with its plan, funding and
// welfare manager, and returns the manager's scope.
func otherCompany(t *testing.T, st *store.Store) store.Scope {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		c := store.Company{ID: "altra-azienda", District: "tradate", Name: "Altra Azienda S.p.A.", VATNumber: "01234567897"}
		if err := store.UpsertCompany(ctx, tx, c); err != nil {
			return err
		}
		p := seed.DemoCompanyPlan(time.Now())
		p.ID, p.CompanyID = "altra-azienda-piano", c.ID
		if err := store.UpsertCompanyPlan(ctx, tx, c.District, p); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO users (username, role, display_name, district_id, password_hash)
			VALUES ('welfare.altra', 'welfare_manager', 'Welfare Altra', 'tradate', 'x')`); err != nil {
			return err
		}
		return store.SetCompanyManager(ctx, tx, "welfare.altra", c.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return userScope(t, st, "welfare.altra")
}

func TestCompanyRowLevelSecurity(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	api := st.API()
	manager := userScope(t, st, seed.DemoWelfareManager)
	other := otherCompany(t, st)
	maria := userScope(t, st, "cittadino.tradate")
	giovanni := userScope(t, st, "cittadino.vedano")
	supervisor := userScope(t, st, "supervisore")
	padova := userScope(t, st, "supervisore.padova")
	operator := userScope(t, st, "operatore.tradate")
	coop := userScope(t, st, "coop.baobab")
	today := time.Now()

	// The manager sees their company, plan and both employees.
	o, err := api.CompanyOverview(ctx, manager, today)
	if err != nil {
		t.Fatal(err)
	}
	if o.Company.ID != seed.DemoCompanyID || o.Enrolled != 2 || o.AllottedCents != 2*seed.DemoCompanyCreditCents ||
		o.BalanceCents != 300_000-2*seed.DemoCompanyCreditCents || o.Plan.ID != seed.DemoCompanyPlanID {
		t.Fatalf("overview: %+v", o)
	}
	emps, err := api.CompanyEmployees(ctx, manager)
	if err != nil || len(emps) != 2 {
		t.Fatalf("employees: %v %+v", err, emps)
	}
	// Each role reads exactly what migration 031 says.
	for _, c := range []struct {
		who                        string
		scope                      store.Scope
		companies, plans, employee int
	}{
		{"manager", manager, 1, 1, 2},
		{"another company's manager", other, 1, 1, 0},
		{"an enrolled citizen", maria, 1, 1, 1},
		{"a citizen not enrolled", giovanni, 0, 0, 0},
		{"the district's supervisor", supervisor, 2, 2, 0},
		{"another district's supervisor", padova, 0, 0, 0},
		{"an operator", operator, 0, 0, 0},
		{"a cooperative", coop, 0, 0, 0},
	} {
		got := [3]int{
			countAs(t, st, c.scope, `SELECT count(*) FROM companies WHERE id IN ($1, 'altra-azienda')`, seed.DemoCompanyID),
			countAs(t, st, c.scope, `SELECT count(*) FROM company_plans`),
			countAs(t, st, c.scope, `SELECT count(*) FROM company_employees`),
		}
		if want := [3]int{c.companies, c.plans, c.employee}; got != want {
			t.Errorf("%s reads companies/plans/employees %v, want %v", c.who, got, want)
		}
	}
	if n := countAs(t, st, other, `SELECT count(*) FROM companies WHERE id = $1`, seed.DemoCompanyID); n != 0 {
		t.Errorf("another company's manager reads the demo company")
	}
	// Another company's manager cannot write the demo company's employees.
	err = st.InTx(ctx, other, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO company_employees (id, plan_id, company_id, district_id, tax_code, status)
			VALUES ($1, $2, $3, 'tradate', 'RSSMRA80A41L319X', 'enrolled')`, uuid.NewString(), seed.DemoCompanyPlanID, seed.DemoCompanyID)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("another company's manager enrolled in the demo company: %v", err)
	}
	if tag := execAs(t, st, other, `UPDATE company_employees SET status = 'withdrawn', withdrawn_at = now()`); tag != 0 {
		t.Errorf("another company's manager withdrew %d employees of the demo company", tag)
	}

	// The employee sees their own credit; the supervisor aggregates only.
	credits, err := api.MyCompanyCredits(ctx, maria)
	if err != nil || len(credits) != 1 || credits[0].CreditCents != seed.DemoCompanyCreditCents || credits[0].CompanyName != "Meccanica Tradatese S.r.l." {
		t.Fatalf("Maria's credits: %v %+v", err, credits)
	}
	if credits, err := api.MyCompanyCredits(ctx, giovanni); err != nil || len(credits) != 0 {
		t.Fatalf("Giovanni's credits: %v %+v", err, credits)
	}
	aggs, err := api.CompanyAggregates(ctx, supervisor)
	if err != nil || len(aggs) != 2 {
		t.Fatalf("aggregates: %v %+v", err, aggs)
	}
	for _, a := range aggs {
		if a.CompanyID == seed.DemoCompanyID && (a.Enrolled != 2 || a.AllottedCents != 2*seed.DemoCompanyCreditCents) {
			t.Errorf("demo company aggregate: %+v", a)
		}
	}
	for _, s := range []store.Scope{padova, operator, manager, maria} {
		if aggs, err := api.CompanyAggregates(ctx, s); err != nil || len(aggs) != 0 {
			t.Errorf("%s reads company aggregates: %v %+v", s.Kind, err, aggs)
		}
	}
	// Another company's manager reaches nothing of the demo company through the API.
	if o, err := api.CompanyOverview(ctx, other, today); err != nil || o.Company.ID != "altra-azienda" || o.Enrolled != 0 {
		t.Errorf("other overview: %v %+v", err, o)
	}
	if _, err := api.WithdrawEmployee(ctx, other, emps[0].TaxCode); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another company's manager withdrew a demo employee: %v", err)
	}
}

// execAs runs a statement under scope and returns the rows it touched.
func execAs(t *testing.T, st *store.Store, scope store.Scope, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := st.InTx(context.Background(), scope, func(tx pgx.Tx) error {
		tag, err := tx.Exec(context.Background(), q, args...)
		n = tag.RowsAffected()
		return err
	}); err != nil {
		t.Fatalf("%s as %s: %v", q, scope.Kind, err)
	}
	return n
}

func TestCompanyEnrolmentMovesCredit(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	api := st.API()
	manager := userScope(t, st, seed.DemoWelfareManager)
	today := time.Now()
	balance := func() int64 {
		b, err := store.Balance(ctx, st.Pool, store.CompanyAccountID(seed.DemoCompanyID))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	start := balance() // 300,000 - 2 × 60,000

	// A tax code already enrolled: nothing enrolled, no money moved.
	codes := []string{seed.Residents()[3].TaxCode(), seed.DemoCompanyEmployees()[0]}
	if _, err := api.EnrolEmployees(ctx, manager, today, codes); !errors.Is(err, store.ErrAlreadyEnrolled) {
		t.Fatalf("enrol a duplicate: %v", err)
	}
	// More than the account holds: none enrolled.
	many := []string{seed.Residents()[1].TaxCode(), seed.Residents()[3].TaxCode(), seed.Residents()[4].TaxCode(), seed.Residents()[5].TaxCode()}
	if _, err := api.EnrolEmployees(ctx, manager, today, many); !errors.Is(err, store.ErrCompanyFunds) {
		t.Fatalf("enrol beyond the funds: %v", err)
	}
	if balance() != start {
		t.Fatalf("balance %d after refused enrolments, want %d", balance(), start)
	}
	if n := countAs(t, st, manager, `SELECT count(*) FROM company_employees`); n != 2 {
		t.Fatalf("%d employees after refused enrolments", n)
	}
	got, err := api.EnrolEmployees(ctx, manager, today, codes[:1])
	if err != nil || len(got) != 1 || balance() != start-seed.DemoCompanyCreditCents {
		t.Fatalf("enrol: %v %+v, balance %d", err, got, balance())
	}
	// Withdrawal returns what is left of the credit.
	if _, err := api.WithdrawEmployee(ctx, manager, codes[0]); err != nil || balance() != start {
		t.Fatalf("withdraw: %v, balance %d", err, balance())
	}
	if _, err := api.WithdrawEmployee(ctx, manager, codes[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("withdraw twice: %v", err)
	}

	// A top-up is booked only with the provider's confirmed amount, once.
	tu, err := api.CreateTopUp(ctx, manager, uuid.NewString(), 50_000)
	if err != nil || tu.Status != store.TopUpPending {
		t.Fatalf("top-up: %v %+v", err, tu)
	}
	if _, err := api.SetTopUpPayment(ctx, tu.ID, "pay_test_1", "http://pay.example/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ConfirmTopUp(ctx, tu.ID, "pay_test_1", 40_000); !errors.Is(err, store.ErrTopUpAmount) {
		t.Fatalf("confirm another amount: %v", err)
	}
	for range 2 {
		if tu, err = api.ConfirmTopUp(ctx, tu.ID, "pay_test_1", 50_000); err != nil || tu.Status != store.TopUpPaid {
			t.Fatalf("confirm: %v %+v", err, tu)
		}
	}
	if balance() != start+50_000 {
		t.Fatalf("balance %d after the top-up, want %d", balance(), start+50_000)
	}
	other := otherCompany(t, st)
	if _, err := api.TopUp(ctx, other, tu.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another company's manager reads the top-up: %v", err)
	}

	// Spending: a booking paid from Maria's credit shows as a sum of its
	// category and month, naming nobody.
	maria := employeeID(t, st, seed.DemoCompanyEmployees()[0])
	mariaCredit := store.CompanyCreditAccountID(maria)
	booking := uuid.NewString()
	err = st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		// A booking paid all from her credit, as a funders checkout writes
		// it (migration 033; multi_funder_test.go checks out for real).
		if _, err := tx.Exec(ctx, `INSERT INTO bookings (id, district_id, municipality_id, citizen_id, service_id, cooperative_id, service_name, category, unit,
				quantity, unit_price_cents, total_cents, voucher_id, voucher_cents, online_cents, status, workflow_id, company_employee_id, company_cents)
			SELECT $1, 'tradate', 'tradate', u.id, s.id, s.cooperative_id, s.name, 'childcare', s.unit, 1, 12345, 12345, NULL, 0, 0, 'requested', $2, $3, 12345
			FROM users u, services s WHERE u.username = 'cittadino.tradate' AND s.cooperative_id = 'baobab' ORDER BY s.id LIMIT 1`,
			booking, "company-test:"+booking, maria); err != nil {
			return err
		}
		if err := store.EnsureAccount(ctx, tx, store.BookingCompanyAccountID(booking), "tradate", store.AccountBookingCompany, false); err != nil {
			return err
		}
		_, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "company-test-hold", From: mariaCredit,
			To: store.BookingCompanyAccountID(booking), Amount: 12_345, Kind: store.TransferHold, BookingID: booking})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := api.CompanySpending(ctx, manager)
	if err != nil || len(rows) != 1 || rows[0].Category != "childcare" || rows[0].SpentCents != 12_345 || rows[0].Bookings != 1 ||
		rows[0].Month != time.Now().In(calendar.Rome()).Format("2006-01") {
		t.Fatalf("spending: %v %+v", err, rows)
	}
	for _, s := range []store.Scope{other, userScope(t, st, "supervisore"), userScope(t, st, "cittadino.tradate")} {
		if rows, err := api.CompanySpending(ctx, s); err != nil || len(rows) != 0 {
			t.Errorf("%s reads the demo company's spending: %v %+v", s.Kind, err, rows)
		}
	}
	if problem, err := store.LedgerCheck(ctx, st.Pool); err != nil || problem != "" {
		t.Fatalf("ledger: %v %s", err, problem)
	}
}

// employeeID is the enrolment id of taxCode.
func employeeID(t *testing.T, st *store.Store, taxCode string) string {
	t.Helper()
	var id string
	if err := st.Pool.QueryRow(context.Background(), `SELECT id::text FROM company_employees WHERE tax_code = $1 AND status = 'enrolled'`, taxCode).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
