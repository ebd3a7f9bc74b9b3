package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// foodVoucher awards a released food voucher of cents to cittadino.tradate
// straight in the store (the journey is tested elsewhere) and returns its code.
func foodVoucher(t *testing.T, st *store.Store, cents int64) string {
	t.Helper()
	ctx := context.Background()
	caseID := "BS-CAT-" + time.Now().Format("150405.000000")
	data, _ := json.Marshal(map[string]any{"household": map[string]any{"members": 3, "minors": 1}, "isee_euro": 8000})
	err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
				form_version, fund_id, data, status, workflow_id, request_hash)
			SELECT $1, 'tradate', 'tradate', u.id, 'RSSMRA80A41L319X', 'buoni-spesa', 1, f.id, $2, 'in_review', 'case:'||$1, 'h'
			FROM users u, funds f WHERE u.username = 'cittadino.tradate' AND f.municipality_id = 'tradate' AND f.form_id = 'buoni-spesa'`,
			caseID, data)
		return err
	})
	if err != nil {
		t.Fatalf("case: %v", err)
	}
	award, err := st.Award(ctx, store.AwardInput{DecisionInput: store.DecisionInput{TaskID: "00000000-0000-0000-0000-000000000000",
		CaseID: caseID, Actor: "operatore.tradate", At: time.Now()}, AmountCents: cents})
	if err != nil {
		t.Fatalf("award: %v", err)
	}
	if err := st.ReleaseTranche(ctx, store.TrancheInput{CaseID: caseID, VoucherID: award.VoucherID, Index: 0,
		AmountCents: cents, At: time.Now()}); err != nil {
		t.Fatalf("release: %v", err)
	}
	return award.Code
}

// A food voucher pays only at shops of a food-voucher category (food, and
// health for pharmacies): the campaign's bookshop, a merchant of the
// district with a till, is refused and nothing moves; the pharmacy is paid.
func TestFoodVoucherOnlyAtFoodShops(t *testing.T) {
	e := newEnv(t)
	code := foodVoucher(t, e.st, 50_00)
	redeem := func(user, key string) resp {
		return e.do("POST", "/api/v1/redemptions", user, map[string]any{"code": code, "amount_cents": 10_00}, hdr{"Idempotency-Key": key})
	}
	r := redeem("libreria.tradate", "book-1")
	expectStatus(t, r, http.StatusConflict)
	if got := r.errorBody(t).Code; got != store.ErrCodeShopCategory {
		t.Errorf("bookshop: code %q, want %s", got, store.ErrCodeShopCategory)
	}
	var n int
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM redemptions`).Scan(&n); err != nil || n != 0 {
		t.Errorf("redemptions after the refusal: %d, %v", n, err)
	}
	r = redeem("esercente.tradate", "pharmacy-1")
	expectStatus(t, r, http.StatusCreated)
	var res struct {
		RemainingCents int64 `json:"remaining_cents"`
	}
	r.json(t, &res)
	if res.RemainingCents != 40_00 {
		t.Errorf("pharmacy: remaining %d, want 40.00", res.RemainingCents)
	}
	// The public list of food-voucher shops leaves the bookshop out.
	r = e.do("GET", "/api/v1/shops?municipality=tradate", "", nil)
	expectStatus(t, r, http.StatusOK)
	var shops list[struct {
		ID string `json:"id"`
	}]
	r.json(t, &shops)
	for _, s := range shops.Items {
		if s.ID == "tradate-libreria-del-corso" {
			t.Errorf("the bookshop is listed among the food-voucher shops")
		}
	}
	if msg, err := store.LedgerCheck(context.Background(), e.st.Pool); err != nil || msg != "" {
		t.Fatalf("ledger check: %q, %v", msg, err)
	}
}
