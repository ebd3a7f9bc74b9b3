package api_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"sportello/internal/seed"
	"sportello/internal/store"
)

type campaignJSON struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	RemainingCents int64  `json:"remaining_cents"`
	Shops          []struct {
		ID string `json:"id"`
	} `json:"shops"`
}

type applicationJSON struct {
	ID         string `json:"id"`
	MerchantID string `json:"merchant_id"`
	Status     string `json:"status"`
}

type creditJSON struct {
	ID          string `json:"id"`
	CreditCents int64  `json:"credit_cents"`
	Capped      bool   `json:"capped"`
	PersonLeft  int64  `json:"person_remaining_cents"`
}

// fieldPointers are the pointers (or parameters) of a 422's field problems.
func fieldPointers(t *testing.T, r resp) []string {
	t.Helper()
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %s", r.status, r.body)
	}
	var out []string
	for _, f := range r.errorBody(t).Fields {
		out = append(out, f.Pointer+f.Parameter)
	}
	return out
}

// A campaign through the API, every route and role: a commerce manager
// creates (422 field by field) and publishes it, a merchant of an admitted
// category joins and records purchases (idempotent, capped), the public
// reads the shops, a supervisor closes it; the books balance.
func TestCampaignJourneyThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	today := time.Now()
	draft := map[string]any{"municipality": "tradate", "name_it": "Prova API", "name_en": "API test",
		"starts_on": today.AddDate(0, 0, -1).Format(time.DateOnly), "ends_on": today.AddDate(0, 1, 0).Format(time.DateOnly),
		"budget_cents": 500_00, "rule": map[string]any{"percent": 10, "cap_per_person_cents": 15_00, "min_purchase_cents": 5_00},
		"categories": []string{"books", "clothing"}}

	// Bad input: one field problem per mistake.
	bad := map[string]any{"municipality": "limena", "name_it": "", "name_en": "x", "starts_on": "2026-13-01",
		"ends_on": "2020-01-01", "budget_cents": 0, "rule": map[string]any{"percent": 101, "cap_per_person_cents": 0},
		"categories": []string{"weapons"}}
	got := fieldPointers(t, e.do("POST", "/api/v1/campaigns", "commercio.tradate", bad))
	for _, want := range []string{"/name_it", "/starts_on", "/ends_on", "/budget_cents", "/rule/percent", "/rule/cap_per_person_cents", "/categories"} {
		if !slices.Contains(got, want) {
			t.Errorf("422 fields %v: %s missing", got, want)
		}
	}
	wrongMunicipality := map[string]any{}
	for k, v := range draft {
		wrongMunicipality[k] = v
	}
	wrongMunicipality["municipality"] = "limena"
	if got := fieldPointers(t, e.do("POST", "/api/v1/campaigns", "commercio.tradate", wrongMunicipality)); !slices.Equal(got, []string{"/municipality"}) {
		t.Errorf("another district's municipality: %v", got)
	}
	for user, want := range map[string]int{"": 401, "operatore.tradate": 403, "cittadino.tradate": 403, "esercente.tradate": 403, "coop.baobab": 403} {
		if r := e.do("POST", "/api/v1/campaigns", user, draft); r.status != want {
			t.Errorf("create as %q: %d, want %d", user, r.status, want)
		}
	}
	r := e.do("POST", "/api/v1/campaigns", "commercio.tradate", draft)
	expectStatus(t, r, http.StatusCreated)
	var c campaignJSON
	r.json(t, &c)
	if c.Status != "draft" || c.RemainingCents != 500_00 {
		t.Fatalf("created %+v", c)
	}
	path := "/api/v1/campaigns/" + c.ID

	// A draft: its district's managers only.
	for user, want := range map[string]int{"": 404, "supervisore.padova": 404, "libreria.tradate": 404, "supervisore": 200, "commercio.tradate": 200} {
		if r := e.do("GET", path, user, nil); r.status != want {
			t.Errorf("read draft as %q: %d, want %d", user, r.status, want)
		}
	}
	expectStatus(t, e.do("POST", path+"/publish", "supervisore.padova", nil), http.StatusNotFound)
	expectStatus(t, e.do("POST", path+"/applications", "libreria.tradate", nil), http.StatusNotFound)
	expectStatus(t, e.do("POST", path+"/close", "commercio.tradate", nil), http.StatusConflict)
	expectStatus(t, e.do("POST", path+"/publish", "commercio.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", path+"/publish", "supervisore", nil), http.StatusConflict)

	// Public list and status filter.
	r = e.do("GET", "/api/v1/campaigns?district=tradate&status=published", "", nil)
	expectStatus(t, r, http.StatusOK)
	var l list[campaignJSON]
	r.json(t, &l)
	if !slices.ContainsFunc(l.Items, func(x campaignJSON) bool { return x.ID == c.ID }) {
		t.Errorf("the published campaign is not in the public list")
	}
	fieldPointers(t, e.do("GET", "/api/v1/campaigns?status=bogus", "", nil))

	// Merchants apply; the pharmacy's category is not admitted.
	if got := fieldPointers(t, e.do("POST", path+"/applications", "esercente.tradate", nil)); !slices.Equal(got, []string{"/category"}) {
		t.Errorf("pharmacy applies: %v", got)
	}
	r = e.do("POST", path+"/applications", "libreria.tradate", nil)
	expectStatus(t, r, http.StatusCreated)
	var a applicationJSON
	r.json(t, &a)
	expectStatus(t, e.do("POST", path+"/applications", "libreria.tradate", nil), http.StatusConflict)
	for user, want := range map[string]int{"libreria.tradate": 1, "esercente.tradate": 0, "supervisore.padova": 0} {
		r := e.do("GET", "/api/v1/campaign-applications?campaign="+c.ID, user, nil)
		expectStatus(t, r, http.StatusOK)
		var l list[applicationJSON]
		r.json(t, &l)
		if len(l.Items) != want {
			t.Errorf("%s sees %d applications, want %d", user, len(l.Items), want)
		}
	}
	fieldPointers(t, e.do("GET", "/api/v1/campaign-applications?status=bogus", "commercio.tradate", nil))

	// Not yet approved: no credit.
	maria := seed.Residents()[0].TaxCode()
	buy := func(key string, cents int64, tax string) resp {
		return e.do("POST", "/api/v1/campaign-purchases", "libreria.tradate",
			map[string]any{"campaign_id": c.ID, "tax_code": tax, "purchase_cents": cents}, hdr{"Idempotency-Key": key})
	}
	expectStatus(t, buy("early", 80_00, maria), http.StatusConflict)

	decision := "/api/v1/campaign-applications/" + a.ID + "/decision"
	if got := fieldPointers(t, e.do("POST", decision, "commercio.tradate", map[string]string{"decision": "maybe"})); !slices.Equal(got, []string{"/decision"}) {
		t.Errorf("bad decision: %v", got)
	}
	expectStatus(t, e.do("POST", decision, "supervisore.padova", map[string]string{"decision": "approved"}), http.StatusNotFound)
	expectStatus(t, e.do("POST", decision, "libreria.tradate", map[string]string{"decision": "approved"}), http.StatusForbidden)
	expectStatus(t, e.do("POST", decision, "commercio.tradate", map[string]string{"decision": "approved"}), http.StatusOK)
	if got := fieldPointers(t, e.do("POST", decision, "supervisore", map[string]string{"decision": "rejected"})); !slices.Equal(got, []string{"/reason"}) {
		t.Errorf("a refusal without a reason: %v", got)
	}
	expectStatus(t, e.do("POST", decision, "supervisore", map[string]string{"decision": "rejected", "reason": "troppo tardi"}), http.StatusConflict)

	r = e.do("GET", path, "", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &c)
	if len(c.Shops) != 1 || c.Shops[0].ID != "tradate-libreria-del-corso" {
		t.Errorf("public shops = %+v", c.Shops)
	}

	// Purchases: input problems, then credits capped per person.
	if got := fieldPointers(t, e.do("POST", "/api/v1/campaign-purchases", "libreria.tradate",
		map[string]any{"campaign_id": c.ID, "tax_code": maria, "purchase_cents": 80_00})); !slices.Equal(got, []string{"Idempotency-Key"}) {
		t.Errorf("no key: %v", got)
	}
	if got := fieldPointers(t, buy("bad", 0, "NOTATAXCODE")); !slices.Equal(got, []string{"/tax_code", "/purchase_cents"}) {
		t.Errorf("bad purchase: %v", got)
	}
	if got := fieldPointers(t, buy("vedano", 80_00, seed.Residents()[1].TaxCode())); !slices.Equal(got, []string{"/tax_code"}) {
		t.Errorf("not a resident: %v", got)
	}
	if got := fieldPointers(t, buy("small", 4_99, maria)); !slices.Equal(got, []string{"/purchase_cents"}) {
		t.Errorf("below the minimum: %v", got)
	}
	expectStatus(t, e.do("POST", "/api/v1/campaign-purchases", "esercente.tradate",
		map[string]any{"campaign_id": c.ID, "tax_code": maria, "purchase_cents": 80_00}, hdr{"Idempotency-Key": "x"}), http.StatusConflict)
	r = buy("p1", 123_45, maria)
	expectStatus(t, r, http.StatusCreated)
	var cr creditJSON
	r.json(t, &cr)
	if cr.CreditCents != 12_34 || cr.PersonLeft != 2_66 || cr.Capped {
		t.Errorf("first credit %+v, want 12.34 with 2.66 left", cr)
	}
	r = buy("p1", 123_45, maria)
	expectStatus(t, r, http.StatusCreated)
	var again creditJSON
	r.json(t, &again)
	if r.header.Get("Idempotent-Replayed") != "true" || again.ID != cr.ID {
		t.Errorf("replay: %+v %v", again, r.header)
	}
	expectStatus(t, buy("p1", 100_00, maria), http.StatusConflict)
	r = buy("p2", 100_00, maria)
	expectStatus(t, r, http.StatusCreated)
	r.json(t, &cr)
	if cr.CreditCents != 2_66 || !cr.Capped || cr.PersonLeft != 0 {
		t.Errorf("capped credit %+v, want 2.66", cr)
	}
	expectStatus(t, buy("p3", 100_00, maria), http.StatusConflict)

	// Closing gives back the rest; no more credits.
	expectStatus(t, e.do("POST", path+"/close", "libreria.tradate", nil), http.StatusForbidden)
	r = e.do("POST", path+"/close", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &c)
	if c.Status != "closed" || c.RemainingCents != 0 {
		t.Errorf("closed %+v", c)
	}
	expectStatus(t, buy("p4", 100_00, seed.Residents()[2].TaxCode()), http.StatusConflict)

	// A supervisor creates and publishes one too (issue 15: "a supervisor
	// (or the Commerce District's manager)"); another district's may not.
	draft["name_it"], draft["name_en"] = "Prova del supervisore", "Supervisor's test"
	expectStatus(t, e.do("POST", "/api/v1/campaigns", "supervisore.padova", draft), http.StatusUnprocessableEntity)
	r = e.do("POST", "/api/v1/campaigns", "supervisore", draft)
	expectStatus(t, r, http.StatusCreated)
	var byStaff campaignJSON
	r.json(t, &byStaff)
	r = e.do("POST", "/api/v1/campaigns/"+byStaff.ID+"/publish", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &byStaff)
	if byStaff.Status != "published" || byStaff.RemainingCents != 500_00 {
		t.Errorf("the supervisor's campaign: %+v", byStaff)
	}
	if msg, err := store.LedgerCheck(ctx, e.st.Pool); err != nil || msg != "" {
		t.Fatalf("ledger check: %q, %v", msg, err)
	}
}
