package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a seeded database with one submitted case of cittadino.tradate.
type fixture struct {
	st       *store.Store
	caseID   string
	fundID   string
	merchant string
	citizen  int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	f := &fixture{st: st}
	err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE username = 'cittadino.tradate'`).Scan(&f.citizen); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT merchant_id FROM users WHERE username = 'esercente.tradate'`).Scan(&f.merchant); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM funds WHERE municipality_id = 'tradate' AND form_id = 'buoni-spesa'`).Scan(&f.fundID)
	})
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	f.caseID = f.newCase(t, "RSSMRA80A41L319X")
	return f
}

var caseSeq int

func (f *fixture) newCase(t *testing.T, taxCode string) string {
	t.Helper()
	caseSeq++
	id := fmt.Sprintf("BS-TEST-%06d", caseSeq)
	data, _ := json.Marshal(map[string]any{"household": map[string]any{"members": 3, "minors": 1}, "isee_euro": 8000})
	err := f.st.InTx(context.Background(), store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
			form_version, fund_id, data, status, workflow_id, request_hash)
			VALUES ($1, 'tradate', 'tradate', $2, $3, 'buoni-spesa', 1, $4, $5, 'in_review', 'case:'||$1, 'h')`,
			id, f.citizen, taxCode, f.fundID, data)
		return err
	})
	if err != nil {
		t.Fatalf("insert case: %v", err)
	}
	return id
}

func (f *fixture) award(t *testing.T, caseID string, cents int64) store.AwardResult {
	t.Helper()
	res, err := f.st.Award(context.Background(), store.AwardInput{
		DecisionInput: store.DecisionInput{TaskID: "00000000-0000-0000-0000-000000000000", CaseID: caseID, Actor: "operatore.tradate", At: time.Now()},
		AmountCents:   cents,
	})
	if err != nil {
		t.Fatalf("award: %v", err)
	}
	return res
}

func (f *fixture) release(t *testing.T, caseID, voucherID string, idx int, cents int64) {
	t.Helper()
	if err := f.st.ReleaseTranche(context.Background(), store.TrancheInput{CaseID: caseID, VoucherID: voucherID, Index: idx,
		AmountCents: cents, At: time.Now()}); err != nil {
		t.Fatalf("release: %v", err)
	}
}

func (f *fixture) merchantScope() store.Scope {
	return store.Scope{Kind: "merchant", District: "tradate", Municipality: "tradate"}
}

func assertBooksBalance(t *testing.T, st *store.Store) {
	t.Helper()
	problem, err := store.LedgerCheck(context.Background(), st.Pool)
	if err != nil {
		t.Fatal(err)
	}
	if problem != "" {
		t.Fatalf("ledger: %s", problem)
	}
}

func conflictCode(err error) string {
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

func TestConcurrentRedemptionsNeverOverspend(t *testing.T) {
	f := newFixture(t)
	v := f.award(t, f.caseID, 30000)
	f.release(t, f.caseID, v.VoucherID, 0, 30000)

	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = f.st.Redeem(context.Background(), f.merchantScope(), store.RedeemInput{
				MerchantID: f.merchant, Code: v.Code, AmountCents: 1000, IdempotencyKey: fmt.Sprintf("k-%d", i), RequestHash: "h"})
		}(i)
	}
	wg.Wait()
	ok, short := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case conflictCode(err) == "insufficient_balance":
			short++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 30 || short != 20 {
		t.Fatalf("got %d redemptions and %d refusals, want 30 and 20", ok, short)
	}
	if b := testenv.Balance(t, f.st, store.VoucherAccountID(v.VoucherID)); b != 0 {
		t.Fatalf("voucher balance %d, want 0", b)
	}
	if b := testenv.Balance(t, f.st, store.MerchantAccountID(f.merchant)); b != 30000 {
		t.Fatalf("merchant balance %d, want 30000", b)
	}
	assertBooksBalance(t, f.st)
}

func TestRedemptionIdempotencyAndRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.award(t, f.caseID, 20000)

	_, err := f.st.Redeem(ctx, f.merchantScope(), store.RedeemInput{MerchantID: f.merchant, Code: v.Code, AmountCents: 100, RequestHash: "a"})
	if conflictCode(err) != "not_released" {
		t.Fatalf("before any release: %v, want not_released", err)
	}
	f.release(t, f.caseID, v.VoucherID, 0, 10000)

	in := store.RedeemInput{MerchantID: f.merchant, Code: v.Code, AmountCents: 2500, IdempotencyKey: "till-1", RequestHash: "a"}
	first, err := f.st.Redeem(ctx, f.merchantScope(), in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.st.Redeem(ctx, f.merchantScope(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.ID != first.ID || again.RemainingCents != 7500 {
		t.Fatalf("replay = %+v, first = %+v", again, first)
	}
	in.RequestHash, in.AmountCents = "b", 3000
	if _, err := f.st.Redeem(ctx, f.merchantScope(), in); conflictCode(err) != "idempotency_key_reused" {
		t.Fatalf("reused key with another body: %v", err)
	}
	// Codes are accepted however they are typed.
	lower := []byte(v.Code)
	for i := range lower {
		if lower[i] >= 'A' && lower[i] <= 'Z' {
			lower[i] += 'a' - 'A'
		}
	}
	r, err := f.st.Redeem(ctx, f.merchantScope(), store.RedeemInput{MerchantID: f.merchant, Code: string(lower), AmountCents: 500, RequestHash: "c"})
	if err != nil || r.RemainingCents != 7000 {
		t.Fatalf("lower-case code: %+v %v", r, err)
	}
	if _, err := f.st.Redeem(ctx, f.merchantScope(), store.RedeemInput{MerchantID: f.merchant, Code: v.Code, AmountCents: 7001, RequestHash: "d"}); conflictCode(err) != "insufficient_balance" {
		t.Fatalf("overspend: %v", err)
	}
	if _, err := f.st.Redeem(ctx, f.merchantScope(), store.RedeemInput{MerchantID: f.merchant, Code: "AAAA-BBBB-CCCC-DDDD", AmountCents: 1, RequestHash: "e"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
	var count int
	if err := f.st.Pool.QueryRow(ctx, `SELECT count(*) FROM redemptions`).Scan(&count); err != nil || count != 2 {
		t.Fatalf("redemptions = %d (%v), want 2", count, err)
	}

	returned, err := f.st.ExpireVoucher(ctx, store.ExpireInput{CaseID: f.caseID, VoucherID: v.VoucherID, At: time.Now()})
	if err != nil || returned != 17000 {
		t.Fatalf("expiry returned %d (%v), want 17000 (7000 spendable + 10000 never released)", returned, err)
	}
	if again, err := f.st.ExpireVoucher(ctx, store.ExpireInput{CaseID: f.caseID, VoucherID: v.VoucherID, At: time.Now()}); err != nil || again != 17000 {
		t.Fatalf("second expiry: %d %v", again, err)
	}
	if _, err := f.st.Redeem(ctx, f.merchantScope(), store.RedeemInput{MerchantID: f.merchant, Code: v.Code, AmountCents: 1, RequestHash: "f"}); conflictCode(err) != "voucher_expired" {
		t.Fatalf("after expiry: %v", err)
	}
	assertBooksBalance(t, f.st)
}

func TestAwardIsIdempotentAndBoundedByTheBudget(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	budget := testenv.Balance(t, f.st, store.FundAccountID(f.fundID))
	if budget <= 0 {
		t.Fatalf("seeded fund has no budget")
	}
	a := f.award(t, f.caseID, 30000)
	b := f.award(t, f.caseID, 30000)
	if a.VoucherID != b.VoucherID || a.Code != b.Code {
		t.Fatalf("a retried award created another voucher: %+v %+v", a, b)
	}
	if got := testenv.Balance(t, f.st, store.FundAccountID(f.fundID)); got != budget-30000 {
		t.Fatalf("fund balance %d, want %d", got, budget-30000)
	}
	other := f.newCase(t, "VRDLGU75C12L319Z")
	_, err := f.st.Award(ctx, store.AwardInput{DecisionInput: store.DecisionInput{TaskID: "00000000-0000-0000-0000-000000000000",
		CaseID: other, Actor: "op", At: time.Now()}, AmountCents: budget})
	if conflictCode(err) != "insufficient_budget" {
		t.Fatalf("award above the budget: %v", err)
	}
	var vouchers int
	if err := f.st.Pool.QueryRow(ctx, `SELECT count(*) FROM vouchers WHERE case_id = $1`, other).Scan(&vouchers); err != nil || vouchers != 0 {
		t.Fatalf("a refused award left %d vouchers (%v)", vouchers, err)
	}
	if len(a.Code) != 19 || store.NormalizeVoucherCode(a.Code) != a.Code {
		t.Fatalf("voucher code %q not in canonical form", a.Code)
	}
	assertBooksBalance(t, f.st)
}

func TestRowLevelSecurityKeepsTenantsApart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	count := func(scope store.Scope, table string) int {
		var n int
		if err := f.st.InTx(ctx, scope, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n)
		}); err != nil {
			t.Fatalf("%s as %+v: %v", table, scope, err)
		}
		return n
	}
	tradateOp := store.Scope{Kind: "operator", District: "tradate", Municipality: "tradate"}
	vedanoOp := store.Scope{Kind: "operator", District: "tradate", Municipality: "vedano-olona"}
	padovaSup := store.Scope{Kind: "supervisor", District: "alta-padovana"}
	tradateSup := store.Scope{Kind: "supervisor", District: "tradate"}
	owner := store.Scope{Kind: "citizen", District: "tradate", UserID: f.citizen}
	stranger := store.Scope{Kind: "citizen", District: "tradate", UserID: f.citizen + 1000}

	for _, c := range []struct {
		name  string
		scope store.Scope
		want  int
	}{
		{"operator of the municipality", tradateOp, 1},
		{"operator of another municipality", vedanoOp, 0},
		{"supervisor of the district", tradateSup, 1},
		{"supervisor of another district", padovaSup, 0},
		{"the applicant", owner, 1},
		{"another citizen", stranger, 0},
		{"no scope", store.Scope{}, 0},
	} {
		if got := count(c.scope, "cases"); got != c.want {
			t.Errorf("%s sees %d cases, want %d", c.name, got, c.want)
		}
	}
	// Writes are fenced too: another municipality's operator cannot touch the case.
	err := f.st.InTx(ctx, vedanoOp, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE cases SET status = 'rejected' WHERE id = $1`, f.caseID)
		if err == nil && tag.RowsAffected() != 0 {
			return fmt.Errorf("updated %d rows", tag.RowsAffected())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A citizen cannot file a case in someone else's name.
	err = f.st.InTx(ctx, stranger, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id, form_version,
			fund_id, data, status, workflow_id, request_hash) VALUES ('X-1','tradate','tradate',$1,'T','buoni-spesa',1,$2,'{}','submitted','case:X-1','h')`,
			f.citizen, f.fundID)
		return err
	})
	if err == nil {
		t.Fatal("a citizen inserted a case for another applicant")
	}
}
