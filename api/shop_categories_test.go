package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/seed"
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
	// The till says why, in the merchant's language.
	till := e.browserAs("libreria.tradate")
	pg := till.post("/till", url.Values{"code": {code}, "amount": {"10,00"}, "key": {"web-book-1"}})
	if pg.status != http.StatusConflict || !strings.Contains(pg.body, "I buoni spesa si usano solo nei negozi di alimentari e nelle farmacie") {
		t.Errorf("the till at the bookshop: %d\n%s", pg.status, pg.body)
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

// The managers' campaign pages: the district's managers only; another
// district's campaign is not found, even published; a decision without a
// reason to refuse is shown again with the problem (422).
func TestWebCampaignManagePagesReach(t *testing.T) {
	e := newEnv(t)
	id := seed.DemoCampaignID(demoSeasonYear())
	path := "/manage/campaigns/" + id
	for user, want := range map[string]int{"commercio.tradate": 200, "supervisore": 200, "supervisore.padova": 404,
		"libreria.tradate": 403, "operatore.tradate": 403, "cittadino.tradate": 403} {
		if pg := e.browserAs(user).get(path); pg.status != want {
			t.Errorf("%s opens %s: %d, want %d", user, path, pg.status, want)
		}
	}
	if pg := e.browser().get(path); pg.status != http.StatusSeeOther {
		t.Errorf("anonymous: %d, want a redirect to the login", pg.status)
	}
	m := e.browserAs("commercio.tradate")
	pg := m.get("/manage/campaigns/new")
	if pg.status != http.StatusOK {
		t.Fatalf("new campaign page: %d", pg.status)
	}
	pg = m.post("/manage/campaigns/new", url.Values{"municipality": {"limena"}, "name_it": {"x"}, "name_en": {"x"},
		"starts_on": {"2020-01-01"}, "ends_on": {"2020-01-02"}, "budget": {"100"}, "percent": {"10"}, "cap": {"5"},
		"categories": {"books"}})
	if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, `id="campaign-ends-on-error"`) {
		t.Errorf("a campaign ending in the past: %d", pg.status)
	}
	r := e.do("GET", "/api/v1/campaign-applications?campaign="+id+"&status=applied", "commercio.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var apps list[applicationJSON]
	r.json(t, &apps)
	if len(apps.Items) == 0 {
		t.Fatal("the demo campaign has no pending application")
	}
	pg = m.post("/manage/applications/"+apps.Items[0].ID+"/decision", url.Values{"campaign": {id}, "decision": {"rejected"}})
	if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, "per rifiutare scrivi il motivo") {
		t.Errorf("a refusal without a reason: %d", pg.status)
	}
	pg = e.browserAs("supervisore.padova").post("/manage/applications/"+apps.Items[0].ID+"/decision",
		url.Values{"campaign": {id}, "decision": {"approved"}})
	if pg.status != http.StatusNotFound {
		t.Errorf("another district's supervisor decides: %d", pg.status)
	}
}

// demoSeasonYear is the year the running (or next) demo campaign starts.
func demoSeasonYear() int {
	now := time.Now()
	if now.Month() == time.January && now.Day() <= 6 {
		return now.Year() - 1
	}
	return now.Year()
}
