package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// serviceVoucher seeds the demo data with cittadino.tradate's service
// voucher and returns it as the citizen sees it.
func serviceVoucher(t *testing.T) (*store.Store, store.UserView, store.VoucherView) {
	t.Helper()
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, DemoVouchers: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	citizen, _, err := st.API().UserForLogin(ctx, seed.DemoServiceVoucherHolder)
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := st.API().Vouchers(ctx, citizen.Scope(), store.VoucherFilter{Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("vouchers %+v, %v", list, err)
	}
	return st, citizen, list[0]
}

func TestMerchantCannotRedeemServiceVoucher(t *testing.T) {
	st, _, v := serviceVoucher(t)
	ctx := context.Background()
	if v.Kind != store.FundKindService || !slices.Equal(v.Categories, seed.ServiceFundCategories()) ||
		v.AvailableCents != seed.DemoServiceVoucherCents {
		t.Fatalf("voucher %+v", v)
	}
	merchant := store.Scope{Kind: "merchant", District: "tradate", Municipality: "tradate"}
	_, err := st.Redeem(ctx, merchant, store.RedeemInput{MerchantID: "tradate-farmacia-comunale", Code: v.Code,
		AmountCents: 1000, RequestHash: "h"})
	if conflictCode(err) != store.ErrCodeServiceVoucher {
		t.Fatalf("redeeming a service voucher: %v, want conflict %s", err, store.ErrCodeServiceVoucher)
	}
	// Nothing moved.
	if b := testenv.Balance(t, st, store.VoucherAccountID(v.ID)); b != seed.DemoServiceVoucherCents {
		t.Errorf("voucher balance %d after a refused redemption", b)
	}
	var n int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM redemptions`).Scan(&n); err != nil || n != 0 {
		t.Errorf("redemptions %d (%v)", n, err)
	}
	assertBooksBalance(t, st)

	// A food voucher of the same citizen still pays at the merchant.
	f := &fixture{st: st, merchant: "tradate-farmacia-comunale", citizen: 0}
	if err := st.Pool.QueryRow(ctx, `SELECT id FROM users WHERE username = 'cittadino.tradate'`).Scan(&f.citizen); err != nil {
		t.Fatal(err)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT id FROM funds WHERE municipality_id = 'tradate' AND kind = 'food'`).Scan(&f.fundID); err != nil {
		t.Fatal(err)
	}
	caseID := f.newCase(t, "RSSMRA80A41L319Z")
	food := f.award(t, caseID, 5000)
	f.release(t, caseID, food.VoucherID, 0, 5000)
	res, err := st.Redeem(ctx, merchant, store.RedeemInput{MerchantID: f.merchant, Code: food.Code, AmountCents: 1000, RequestHash: "h"})
	if err != nil || res.RemainingCents != 4000 {
		t.Fatalf("food redemption: %+v, %v", res, err)
	}
	assertBooksBalance(t, st)
}

func TestProfileISEEAuditedAndNewestDeclarationWins(t *testing.T) {
	st, citizen, _ := serviceVoucher(t)
	ctx := context.Background()
	api := st.API()

	// The demo application declares EUR 8,500: the catalogue uses it.
	used, ok, err := api.CitizenISEE(ctx, citizen.Scope(), citizen.ID)
	if err != nil || !ok || used.Source != "application" || used.Euro != seed.DemoServiceVoucherISEE {
		t.Fatalf("before: %+v %v %v", used, ok, err)
	}
	// A newer declaration in the profile wins, and is audited.
	euro := 21000
	p, err := api.SetProfileISEE(ctx, citizen, &euro, "req-1")
	if err != nil || p.Euro == nil || *p.Euro != euro || p.UpdatedAt == nil {
		t.Fatalf("set: %+v %v", p, err)
	}
	used, ok, err = api.CitizenISEE(ctx, citizen.Scope(), citizen.ID)
	if err != nil || !ok || used.Source != "profile" || used.Euro != euro || used.CaseID != "" {
		t.Fatalf("after: %+v %v %v", used, ok, err)
	}
	// The same value again writes no second audit row; removing it does.
	if _, err := api.SetProfileISEE(ctx, citizen, &euro, "req-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetProfileISEE(ctx, citizen, nil, "req-3"); err != nil {
		t.Fatal(err)
	}
	rows, err := st.Pool.Query(ctx, `SELECT actor_username, actor_role, detail, request_id FROM audit_log
		WHERE action = $1 ORDER BY id`, store.AuditISEEDeclared)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var who, role, req string
		var detail json.RawMessage
		if err := rows.Scan(&who, &role, &detail, &req); err != nil {
			t.Fatal(err)
		}
		got = append(got, who+" "+role+" "+req+" "+string(detail))
	}
	want := []string{
		`cittadino.tradate citizen req-1 {"after": 21000, "before": null}`,
		`cittadino.tradate citizen req-3 {"after": null, "before": 21000}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit rows\n%q\nwant\n%q", got, want)
	}
	// Without a profile value the application's counts again.
	used, _, _ = api.CitizenISEE(ctx, citizen.Scope(), citizen.ID)
	if used.Source != "application" {
		t.Errorf("after removal: %+v", used)
	}
	// Staff and out-of-range values are refused by the store too.
	bad := store.MaxISEEEuro + 1
	if _, err := api.SetProfileISEE(ctx, citizen, &bad, ""); err == nil {
		t.Error("an ISEE above the maximum was stored")
	}
	op, _, _ := api.UserForLogin(ctx, "operatore.tradate")
	if _, err := api.SetProfileISEE(ctx, op, &euro, ""); err == nil {
		t.Error("an operator declared an ISEE")
	}
}
