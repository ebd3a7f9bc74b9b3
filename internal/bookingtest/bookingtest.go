// Package bookingtest builds marketplace fixtures for tests: service
// vouchers funded through the ledger exactly as an award and a release
// would fund them, and lookups of seeded users and services.
package bookingtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/seed"
	"sportello/internal/store"
)

// VoucherSpec describes a service voucher to create.
type VoucherSpec struct {
	Username     string   // the holder (a citizen)
	Municipality string   // of the fund and voucher; the holder's when empty
	Kind         string   // fund kind: "service" (default) or "food"
	Categories   []string // the fund's service categories (default childcare, youcare)
	Cents        int64    // released, spendable balance
	ExpiresAt    time.Time
}

var seq atomic.Int64

// ServiceVoucher creates a fund of spec's kind and categories, a case and a
// voucher of the holder, and funds the voucher through the ledger
// (funding -> fund -> voucher pending -> voucher). It returns the voucher id.
func ServiceVoucher(t testing.TB, st *store.Store, spec VoucherSpec) string {
	t.Helper()
	ctx := context.Background()
	if spec.Kind == "" {
		spec.Kind = "service"
	}
	if spec.Categories == nil && spec.Kind == "service" {
		spec.Categories = []string{"childcare", "youcare"}
	}
	if spec.Categories == nil {
		spec.Categories = []string{}
	}
	if spec.ExpiresAt.IsZero() {
		spec.ExpiresAt = time.Now().AddDate(1, 0, 0)
	}
	n := seq.Add(1)
	voucherID := uuid.NewString()
	err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		var (
			holder             int64
			district, taxCode  string
			userMun            *string
			fundID             = fmt.Sprintf("svc-test-%d-%s", n, voucherID[:8])
			caseID             = fmt.Sprintf("BSV-TEST-%d-%s", n, voucherID[:8])
			opens, closes, exp = time.Now().AddDate(0, -1, 0), time.Now().AddDate(0, 1, 0), spec.ExpiresAt
		)
		if err := tx.QueryRow(ctx, `SELECT id, district_id, municipality_id, coalesce(tax_code, '') FROM users WHERE username = $1`,
			spec.Username).Scan(&holder, &district, &userMun, &taxCode); err != nil {
			return fmt.Errorf("user %s: %w", spec.Username, err)
		}
		if spec.Municipality == "" && userMun != nil {
			spec.Municipality = *userMun
		}
		if closes.After(exp) {
			closes = exp
		}
		if !opens.Before(closes) {
			opens = closes.AddDate(0, -1, 0)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO funds (id, district_id, municipality_id, form_id, name, isee_threshold_cents, rule,
				tranches, opens_at, closes_at, expires_at, kind, service_categories)
			VALUES ($1, $2, $3, 'buono-servizi', 'Buono servizi di prova', 2500000, '{"base_cents":10000,"max_cents":100000}',
				'[{"percent":100,"after_days":0}]', $4, $5, $6, $7, $8)`,
			fundID, district, spec.Municipality, opens, closes, exp, spec.Kind, spec.Categories); err != nil {
			return fmt.Errorf("fund: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
				form_version, fund_id, data, status, workflow_id, request_hash)
			VALUES ($1, $2, $3, $4, $5, 'buono-servizi', 1, $6, '{}', 'approved', 'case:'||$1, 'h')`,
			caseID, district, spec.Municipality, holder, taxCode, fundID); err != nil {
			return fmt.Errorf("case: %w", err)
		}
		status := "active"
		if !exp.After(time.Now()) {
			status = "expired"
		}
		if _, err := tx.Exec(ctx, `INSERT INTO vouchers (id, code, case_id, fund_id, district_id, municipality_id, holder_id,
				tax_code, amount_cents, status, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			voucherID, fmt.Sprintf("SVT-%d-%s", n, voucherID[:8]), caseID, fundID, district, spec.Municipality, holder,
			taxCode, spec.Cents, status, exp); err != nil {
			return fmt.Errorf("voucher: %w", err)
		}
		for _, a := range []struct {
			id, kind string
			neg      bool
		}{
			{store.FundingAccountID(district), store.AccountFunding, true},
			{store.FundAccountID(fundID), store.AccountFund, false},
			{store.VoucherPendingAccountID(voucherID), store.AccountVoucherPending, false},
			{store.VoucherAccountID(voucherID), store.AccountVoucher, false},
		} {
			if err := store.EnsureAccount(ctx, tx, a.id, district, a.kind, a.neg); err != nil {
				return err
			}
		}
		for _, tr := range []store.TransferInput{
			{Key: "funding:" + fundID, From: store.FundingAccountID(district), To: store.FundAccountID(fundID), Kind: store.TransferFunding},
			{Key: "award:" + caseID, From: store.FundAccountID(fundID), To: store.VoucherPendingAccountID(voucherID), Kind: store.TransferAward},
			{Key: "release:" + caseID + ":0", From: store.VoucherPendingAccountID(voucherID), To: store.VoucherAccountID(voucherID), Kind: store.TransferRelease},
		} {
			tr.Amount, tr.FundID, tr.VoucherID = spec.Cents, fundID, voucherID
			if _, _, err := store.Transfer(ctx, tx, tr); err != nil {
				return fmt.Errorf("transfer %s: %w", tr.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("service voucher: %v", err)
	}
	return voucherID
}

// User reads a seeded user by username.
func User(t testing.TB, st *store.Store, username string) store.UserView {
	t.Helper()
	ctx := context.Background()
	u, _, err := st.API().UserForLogin(ctx, username)
	if err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return u
}

// ServiceID reads the id of a seeded service by name.
func ServiceID(t testing.TB, st *store.Store, name string) int64 {
	t.Helper()
	var id int64
	err := st.InTx(context.Background(), store.System, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT id FROM services WHERE name = $1`, name).Scan(&id)
	})
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return id
}

// CompanyCreditLeft leaves the demo company's first employee (the demo
// citizen cittadino.tradate, seed.DemoCompanyEmployees) exactly cents of
// company welfare credit, the rest given back to the company through the
// ledger, and returns the enrolment's id.
func CompanyCreditLeft(t testing.TB, st *store.Store, cents int64) string {
	t.Helper()
	ctx := context.Background()
	var employee string
	if err := st.Pool.QueryRow(ctx, `SELECT id::text FROM company_employees WHERE tax_code = $1 AND status = 'enrolled'`,
		seed.DemoCompanyEmployees()[0]).Scan(&employee); err != nil {
		t.Fatalf("the demo employee: %v", err)
	}
	if err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		have, err := store.Balance(ctx, tx, store.CompanyCreditAccountID(employee))
		if err != nil {
			return err
		}
		_, _, err = store.Transfer(ctx, tx, store.TransferInput{Key: "test-spend:" + employee, From: store.CompanyCreditAccountID(employee),
			To: store.CompanyAccountID(seed.DemoCompanyID), Amount: have - cents, Kind: store.TransferRevoke})
		return err
	}); err != nil {
		t.Fatalf("company credit of %s: %v", employee, err)
	}
	return employee
}
