package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"sportello/internal/store"
)

type serviceList struct {
	Items []struct {
		store.Service
		CallerPrice store.PriceQuote `json:"caller_price"`
	} `json:"items"`
	Total int                `json:"total"`
	ISEE  *store.CitizenISEE `json:"isee"`
}

func (e *env) services(user, query string) serviceList {
	e.t.Helper()
	r := e.do("GET", "/api/v1/services?"+query, user, nil)
	expectStatus(e.t, r, http.StatusOK)
	var l serviceList
	r.json(e.t, &l)
	return l
}

// problems lists a 422's problems as "<pointer or parameter> <code>".
func problems(t *testing.T, r resp) []string {
	t.Helper()
	expectStatus(t, r, http.StatusUnprocessableEntity)
	var out []string
	for _, f := range r.errorBody(t).Fields {
		out = append(out, f.Pointer+f.Parameter+" "+f.Code)
	}
	return out
}

func TestCatalogueAPIBrowseSearchAndCallerPrice(t *testing.T) {
	e := newEnv(t)
	// A visitor: list prices, no ISEE.
	l := e.services("", "q=doposcuola")
	if len(l.Items) != 1 || l.ISEE != nil || l.Items[0].CallerPrice.Basis != "list" || l.Items[0].CallerPrice.Cents != 1800 {
		t.Fatalf("visitor: %+v", l)
	}
	// Giovanni (Vedano Olona, ISEE 18,500 € in his profile): the 75% band.
	l = e.services("cittadino.vedano", "q=doposcuola")
	q := l.Items[0].CallerPrice
	if l.ISEE == nil || l.ISEE.Source != "profile" || q.Basis != "band" || q.Cents != 1350 || *q.Band.Percent != 75 || *q.LowerEuro != 10000 {
		t.Fatalf("citizen: isee %+v quote %+v", l.ISEE, q)
	}
	// Maria (no ISEE known): list prices.
	if l := e.services("cittadino.tradate", "q=doposcuola"); l.ISEE != nil || l.Items[0].CallerPrice.Basis != "list" {
		t.Fatalf("citizen without ISEE: %+v", l)
	}
	// Filters and paging.
	l = e.services("", "category=silvercare&municipality=lonate-ceppino&limit=1")
	if l.Total != 3 || len(l.Items) != 1 || l.Items[0].Category != "silvercare" {
		t.Fatalf("silvercare in Lonate Ceppino: %+v", l)
	}
	if got := problems(t, e.do("GET", "/api/v1/services?category=gardening&max_price_cents=-1&limit=0", "", nil)); !slices.Equal(got,
		[]string{"category unknown_category", "max_price_cents invalid", "limit invalid"}) {
		t.Fatalf("bad filters: %v", got)
	}
	// Cooperatives: visitors see 11, the district's supervisor 13 with reasons.
	var coops struct{ Items []store.Cooperative }
	r := e.do("GET", "/api/v1/cooperatives?district=tradate", "", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &coops)
	if len(coops.Items) != 11 {
		t.Fatalf("visitor sees %d cooperatives", len(coops.Items))
	}
	r = e.do("GET", "/api/v1/cooperatives", "supervisore", nil)
	r.json(t, &coops)
	if len(coops.Items) != 13 {
		t.Fatalf("supervisor sees %d cooperatives", len(coops.Items))
	}
	expectStatus(t, e.do("GET", "/api/v1/cooperatives/il-ponte", "", nil), http.StatusNotFound)
	r = e.do("GET", "/api/v1/cooperatives/il-ponte", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	var ponte store.Cooperative
	r.json(t, &ponte)
	if ponte.Public || ponte.HiddenReason != "suspended" {
		t.Fatalf("il-ponte for the supervisor: %+v", ponte)
	}
	expectStatus(t, e.do("GET", "/api/v1/services/999999", "", nil), http.StatusNotFound)
	expectStatus(t, e.do("GET", "/api/v1/services/abc", "", nil), http.StatusNotFound)
}

func validService() map[string]any {
	return map[string]any{
		"category": "childcare", "name": "Pre-scuola del mattino", "description": "Accoglienza dalle 7:30 prima delle lezioni.",
		"unit": "month", "price_cents": 4000, "capacity": 20, "capacity_period": "month",
		"municipalities": []string{"tradate", "vedano-olona"},
		"price_bands": map[string]any{"tradate": []map[string]any{
			{"max_isee_euro": 10000, "price_cents": 1000}, {"max_isee_euro": 20000, "percent": 60}, {"max_isee_euro": nil, "percent": 100}}},
	}
}

func TestCatalogueAPICooperativeWrites(t *testing.T) {
	e := newEnv(t)
	// Other roles may not write: 401 without a token, 403 for the others.
	expectStatus(t, e.do("POST", "/api/v1/services", "", validService()), http.StatusUnauthorized)
	for _, u := range []string{"cittadino.tradate", "operatore.tradate", "supervisore", "esercente.tradate"} {
		expectStatus(t, e.do("POST", "/api/v1/services", u, validService()), http.StatusForbidden)
	}
	r := e.do("POST", "/api/v1/services", "coop.baobab", validService())
	expectStatus(t, r, http.StatusCreated)
	var sv store.Service
	r.json(t, &sv)
	if sv.Published || sv.CooperativeID != "baobab" || len(sv.Bands["tradate"]) != 3 {
		t.Fatalf("created %+v", sv)
	}
	path := fmt.Sprintf("/api/v1/services/%d", sv.ID)
	expectStatus(t, e.do("GET", path, "", nil), http.StatusNotFound) // unpublished
	expectStatus(t, e.do("POST", path+"/publish", "supervisore", nil), http.StatusForbidden)
	expectStatus(t, e.do("POST", path+"/publish", "coop.baobab", nil), http.StatusOK)
	expectStatus(t, e.do("GET", path, "", nil), http.StatusOK)
	// Field-level 422s.
	bad := func(mut func(b map[string]any)) []string {
		b := validService()
		mut(b)
		return problems(t, e.do("PUT", path, "coop.baobab", b))
	}
	if got := bad(func(b map[string]any) { b["price_cents"] = -1 }); !slices.Contains(got, "/price_cents negative") {
		t.Fatalf("negative price: %v", got)
	}
	if got := bad(func(b map[string]any) { b["category"] = "gardening" }); !slices.Equal(got, []string{"/category unknown_category"}) {
		t.Fatalf("unknown category: %v", got)
	}
	if got := bad(func(b map[string]any) { b["municipalities"] = []string{"tradate", "limena"} }); !slices.Equal(got, []string{"/municipalities/1 outside_district"}) {
		t.Fatalf("outside the district: %v", got)
	}
	if got := bad(func(b map[string]any) {
		b["price_bands"] = map[string]any{"tradate": []map[string]any{{"max_isee_euro": 10000, "percent": 80}, {"max_isee_euro": nil, "percent": 50}}}
	}); !slices.Equal(got, []string{"/price_bands/tradate/1 inconsistent"}) {
		t.Fatalf("cheaper band above: %v", got)
	}
	if got := bad(func(b map[string]any) {
		b["price_bands"] = map[string]any{"tradate": []map[string]any{{"max_isee_euro": 20000, "percent": 50}, {"max_isee_euro": 10000, "percent": 60}, {"max_isee_euro": 30000, "price_cents": 9000, "percent": 10}}}
	}); !slices.Equal(got, []string{"/price_bands/tradate/1/max_isee_euro not_rising", "/price_bands/tradate/2 price_or_percent", "/price_bands/tradate/2/max_isee_euro last_not_open"}) {
		t.Fatalf("bands out of order: %v", got)
	}
	if got := bad(func(b map[string]any) {
		b["price_bands"] = map[string]any{"castelseprio": []map[string]any{{"max_isee_euro": nil, "percent": 50}}}
	}); !slices.Equal(got, []string{"/price_bands/castelseprio not_served"}) {
		t.Fatalf("bands where not served: %v", got)
	}
	if got := bad(func(b map[string]any) { b["price_cents"] = 500 }); !slices.Equal(got, []string{"/price_bands/tradate/0/price_cents above_list"}) {
		t.Fatalf("band above the list price: %v", got)
	}
	// A cooperative cannot touch another's service: 404, and it is unchanged.
	var koine serviceList = e.services("", "cooperative=koine&q=psicologico")
	other := fmt.Sprintf("/api/v1/services/%d", koine.Items[0].ID)
	expectStatus(t, e.do("PUT", other, "coop.baobab", validService()), http.StatusNotFound)
	expectStatus(t, e.do("POST", other+"/unpublish", "coop.baobab", nil), http.StatusNotFound)
	r = e.do("GET", other, "", nil)
	expectStatus(t, r, http.StatusOK)
	var still store.Service
	r.json(t, &still)
	if still.Name != "Sostegno psicologico" || !still.Published {
		t.Fatalf("koine's service after baobab's attempts: %+v", still)
	}
	// An edit of the price shows at once; the same name twice is a 422.
	b := validService()
	b["price_cents"] = 4500
	r = e.do("PUT", path, "coop.baobab", b)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &sv)
	if sv.PriceCents != 4500 || !sv.Published {
		t.Fatalf("after edit: %+v", sv)
	}
	if got := problems(t, e.do("POST", "/api/v1/services", "coop.baobab", validService())); !slices.Equal(got, []string{"/name duplicate"}) {
		t.Fatalf("duplicate name: %v", got)
	}
	// The cooperative sees its unpublished services when it filters on itself.
	expectStatus(t, e.do("POST", path+"/unpublish", "coop.baobab", nil), http.StatusOK)
	if l := e.services("coop.baobab", "cooperative=baobab"); l.Total != 3 {
		t.Fatalf("baobab's own catalogue: %d", l.Total)
	}
	if l := e.services("", "cooperative=baobab"); l.Total != 2 {
		t.Fatalf("baobab's public catalogue: %d", l.Total)
	}
}
