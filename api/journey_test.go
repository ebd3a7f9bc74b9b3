package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestVoucherJourney drives one case through the API: claim, a request for
// information and the reply, approval, the voucher, and redemptions.
func TestVoucherJourney(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	tk := e.waitTask("operatore.tradate", c.ID)

	// Deciding before claiming is a conflict; a claim by a second worker too.
	r := e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"})
	expectStatus(t, r, http.StatusConflict)
	if code := r.errorBody(t).Code; code != "task_not_claimed" {
		t.Errorf("decide unclaimed: %s", code)
	}
	r = e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	r = e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "supervisore", nil)
	expectStatus(t, r, http.StatusConflict)
	if code := r.errorBody(t).Code; code != "task_already_claimed" {
		t.Errorf("second claim: %s", code)
	}

	// Ask for information; the citizen replies with a correction.
	r = e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate",
		map[string]any{"outcome": "request_info", "reason": "Please confirm the household size."})
	expectStatus(t, r, http.StatusOK)
	r = e.do("POST", "/api/v1/applications/"+c.ID+"/information", "cittadino.tradate",
		map[string]any{"data": map[string]any{"message": "We are four.", "changes": map[string]any{"household": map[string]any{"members": 0}}}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 1 || f[0].Pointer != "/data/changes/household/members" {
		t.Errorf("invalid change: %s", r.body)
	}
	r = e.do("POST", "/api/v1/applications/"+c.ID+"/information", "cittadino.tradate",
		map[string]any{"data": map[string]any{"message": "x", "changes": map[string]any{"applicant": map[string]any{"tax_code": "X"}}}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	r = e.do("POST", "/api/v1/applications/"+c.ID+"/information", "cittadino.vedano",
		map[string]any{"data": map[string]any{"message": "not mine"}})
	expectStatus(t, r, http.StatusNotFound)
	r = e.do("POST", "/api/v1/applications/"+c.ID+"/information", "cittadino.tradate",
		map[string]any{"data": map[string]any{"message": "We are four.", "changes": map[string]any{"household": map[string]any{"members": 4}}}})
	expectStatus(t, r, http.StatusOK)
	r = e.do("POST", "/api/v1/applications/"+c.ID+"/information", "cittadino.tradate",
		map[string]any{"data": map[string]any{"message": "Again."}})
	expectStatus(t, r, http.StatusConflict)
	if code := r.errorBody(t).Code; code != "not_awaiting_info" {
		t.Errorf("second reply: %s", code)
	}
	r = e.do("GET", "/api/v1/applications/"+c.ID, "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"members":4`) {
		t.Errorf("the reply did not change the data: %s", r.body)
	}

	// Second review round: approve with the fund's rule.
	var tk2 taskView
	deadline := time.Now().Add(30 * time.Second)
	for tk2.ID == "" || tk2.ID == tk.ID {
		if time.Now().After(deadline) {
			t.Fatalf("no second task\n%s", e.workflowDiagnosis(c.ID))
		}
		tk2 = e.waitTask("operatore.tradate", c.ID)
		time.Sleep(50 * time.Millisecond)
	}
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk2.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	r = e.do("POST", "/api/v1/tasks/"+tk2.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"},
		hdr{"Idempotency-Key": "decide-1"})
	expectStatus(t, r, http.StatusOK)
	var dec struct {
		Status      string `json:"status"`
		AmountCents int64  `json:"amount_cents"`
		VoucherID   string `json:"voucher_id"`
	}
	r.json(t, &dec)
	if dec.Status != "approved" || dec.AmountCents <= 0 || dec.VoucherID == "" {
		t.Fatalf("decision %s", r.body)
	}

	// The voucher: half released at once.
	var v struct {
		ID             string `json:"id"`
		Code           string `json:"code"`
		AmountCents    int64  `json:"amount_cents"`
		AvailableCents int64  `json:"available_cents"`
		PendingCents   int64  `json:"pending_cents"`
		Movements      []struct {
			Kind      string `json:"kind"`
			Direction string `json:"direction"`
			Merchant  string `json:"merchant"`
		} `json:"movements"`
	}
	e.waitVoucher("cittadino.tradate", c.ID, dec.VoucherID, &v, func() bool { return v.AvailableCents > 0 })
	if v.AmountCents != dec.AmountCents || v.AvailableCents+v.PendingCents != dec.AmountCents {
		t.Errorf("voucher balances %+v", v)
	}
	r = e.do("GET", "/api/v1/vouchers", "cittadino.vedano", nil)
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), v.ID) {
		t.Error("another citizen sees the voucher")
	}
	expectStatus(t, e.do("GET", "/api/v1/vouchers/"+v.ID, "cittadino.vedano", nil), http.StatusNotFound)

	// Redemptions: idempotent, never more than the balance, no identity leaks.
	code := strings.ToLower(strings.ReplaceAll(v.Code, "-", " "))
	key := hdr{"Idempotency-Key": "till-1"}
	r = e.do("POST", "/api/v1/redemptions", "esercente.tradate", map[string]any{"code": code, "amount_cents": 1000}, key)
	expectStatus(t, r, http.StatusCreated)
	var red struct {
		ID             string `json:"id"`
		AmountCents    int64  `json:"amount_cents"`
		RemainingCents int64  `json:"remaining_cents"`
	}
	r.json(t, &red)
	if red.RemainingCents != v.AvailableCents-1000 {
		t.Errorf("redemption %s, available was %d", r.body, v.AvailableCents)
	}
	for _, secret := range []string{"Maria", "Rossi", demoUser(t, "cittadino.tradate").TaxCode, c.ID} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("the merchant sees %q: %s", secret, r.body)
		}
	}
	r = e.do("POST", "/api/v1/redemptions", "esercente.tradate", map[string]any{"code": v.Code, "amount_cents": 1000}, key)
	expectStatus(t, r, http.StatusCreated)
	if r.header.Get("Idempotent-Replayed") != "true" || !strings.Contains(string(r.body), red.ID) {
		t.Errorf("replayed redemption: %s", r.body)
	}
	r = e.do("POST", "/api/v1/redemptions", "esercente.tradate", map[string]any{"code": v.Code, "amount_cents": 2000}, key)
	expectStatus(t, r, http.StatusConflict)
	r = e.do("POST", "/api/v1/redemptions", "esercente.tradate", map[string]any{"code": v.Code, "amount_cents": red.RemainingCents + 1})
	expectStatus(t, r, http.StatusConflict)
	if code := r.errorBody(t).Code; code != "insufficient_balance" {
		t.Errorf("overspend: %s", code)
	}
	r = e.do("GET", "/api/v1/redemptions", "esercente.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"total":1`) {
		t.Errorf("merchant history %s", r.body)
	}

	r = e.do("GET", "/api/v1/vouchers/"+v.ID, "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &v)
	last := v.Movements[len(v.Movements)-1]
	if last.Kind != "redemption" || last.Direction != "out" || last.Merchant == "" {
		t.Errorf("movements %+v", v.Movements)
	}

	// The fund's totals add up.
	r = e.do("GET", "/api/v1/funds", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var funds struct {
		Items []struct {
			ID             string `json:"id"`
			Municipality   string `json:"municipality"`
			BudgetCents    int64  `json:"budget_cents"`
			AwardedCents   int64  `json:"awarded_cents"`
			ReleasedCents  int64  `json:"released_cents"`
			RedeemedCents  int64  `json:"redeemed_cents"`
			AvailableCents int64  `json:"available_cents"`
		} `json:"items"`
	}
	r.json(t, &funds)
	if len(funds.Items) != 2 { // the food and the service fund of Tradate
		t.Fatalf("operator funds: %s", r.body)
	}
	f := funds.Items[0]
	if f.ID != c.FundID {
		f = funds.Items[1]
	}
	if f.ID != c.FundID || f.AwardedCents != dec.AmountCents || f.RedeemedCents != 1000 ||
		f.ReleasedCents != v.AvailableCents+1000 || f.AvailableCents != f.BudgetCents-f.AwardedCents {
		t.Errorf("fund %+v", f)
	}
	r = e.do("GET", "/api/v1/funds", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &funds)
	if len(funds.Items) != 16 {
		t.Errorf("supervisor sees %d funds, want the district's 16 (food and service)", len(funds.Items))
	}

	// The timeline tells the story.
	r = e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	for _, ev := range []string{"submitted", "approved"} {
		if !strings.Contains(string(r.body), `"type":"`+ev+`"`) {
			t.Errorf("timeline lacks %s: %s", ev, r.body)
		}
	}
}
