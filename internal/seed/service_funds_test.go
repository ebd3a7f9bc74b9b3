package seed

import (
	"context"
	"slices"
	"testing"
	"time"

	"sportello/forms"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestServiceBudgetRule(t *testing.T) {
	for residents, want := range map[int]int64{1300: 5_000_00, 19000: 38_000_00, 7800: 15_333_33, 2200: 5_000_00} {
		if _, got := budgetCents(residents); got != want {
			t.Errorf("service budget of %d residents = %d, want %d", residents, got, want)
		}
	}
}

// TestDemoServiceVoucherIdempotent seeds the demo data with the service
// voucher twice: one approved case, one voucher of EUR 300 spendable on the
// fund's categories, one award and one release, the books balanced.
func TestDemoServiceVoucherIdempotent(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	now := time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)
	for i := range 2 {
		if err := Run(ctx, st, Options{Demo: true, DemoVouchers: true, Now: now.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatalf("seed run %d: %v", i+1, err)
		}
	}
	var (
		cases, vouchers, tasks, awards, releases int
		status, form, fund, kind, taskStatus     string
		categories                               []string
		voucherID                                string
	)
	err := st.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM cases), (SELECT count(*) FROM vouchers), (SELECT count(*) FROM tasks)`).
		Scan(&cases, &vouchers, &tasks)
	if err != nil || cases != 1 || vouchers != 1 || tasks != 1 {
		t.Fatalf("cases %d, vouchers %d, tasks %d (%v)", cases, vouchers, tasks, err)
	}
	err = st.Pool.QueryRow(ctx, `SELECT c.status, c.form_id, c.fund_id, f.kind, f.service_categories, v.id::text, t.status,
			(SELECT count(*) FROM transfers WHERE voucher_id = v.id AND kind = 'award'),
			(SELECT count(*) FROM transfers WHERE voucher_id = v.id AND kind = 'release')
		FROM cases c JOIN funds f ON f.id = c.fund_id JOIN vouchers v ON v.case_id = c.id JOIN tasks t ON t.case_id = c.id
		JOIN users u ON u.id = c.applicant_id WHERE u.username = $1`, DemoServiceVoucherHolder).
		Scan(&status, &form, &fund, &kind, &categories, &voucherID, &taskStatus, &awards, &releases)
	if err != nil {
		t.Fatal(err)
	}
	if status != "approved" || form != forms.ServiceVoucherForm || fund != ServiceFundID("tradate", 2026) || kind != "service" ||
		!slices.Equal(categories, ServiceFundCategories()) || taskStatus != "done" || awards != 1 || releases != 1 {
		t.Errorf("case %s %s %s %s %v, task %s, awards %d, releases %d", status, form, fund, kind, categories, taskStatus, awards, releases)
	}
	if b, _ := store.Balance(ctx, st.Pool, store.VoucherAccountID(voucherID)); b != DemoServiceVoucherCents {
		t.Errorf("voucher balance %d, want %d", b, DemoServiceVoucherCents)
	}
	var want int64
	tradate, err := DistrictFile("tradate")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range tradate.Funds {
		if fd.In(2026).ID == fund {
			want = fd.BudgetCents - DemoServiceVoucherCents
		}
	}
	if b, _ := store.Balance(ctx, st.Pool, store.FundAccountID(fund)); b != want {
		t.Errorf("service fund holds %d, want %d", b, want)
	}
	if msg, err := store.LedgerCheck(ctx, st.Pool); err != nil || msg != "" {
		t.Fatalf("LedgerCheck = %q, %v", msg, err)
	}

	// The application is valid for its form.
	var data []byte
	if err := st.Pool.QueryRow(ctx, `SELECT data FROM cases`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if _, problems, err := forms.MustRegistry().Validate(forms.ServiceVoucherForm, data, now); err != nil || len(problems) != 0 {
		t.Errorf("demo application: %v %v", problems, err)
	}

	// Without DemoVouchers (the tests' default) there is no demo case.
	_, bare := testenv.Postgres(t)
	if err := Run(ctx, bare, Options{Demo: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := bare.Pool.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&cases); err != nil || cases != 0 {
		t.Errorf("cases without DemoVouchers: %d (%v)", cases, err)
	}
}
