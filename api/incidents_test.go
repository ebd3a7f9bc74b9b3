package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"sportello/internal/bookingtest"
	"sportello/internal/store"
)

// The supervisors' incidents, as a page (Italian first, English) and as
// JSON: a Tradate incident is listed for Tradate's supervisor only (row-level
// security), resolved ones are not on the page; other roles are refused.
func TestIncidentsPageAndAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b, err := bookingtest.Checkout(t, e.st, 2, 1_000)
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.st.RecordIncident(ctx, store.IncidentInput{Key: "test:refund:1", BookingID: b.ID, Kind: store.IncidentRefundFailed,
		AmountCents: 900, Details: "only a captured payment can be refunded"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.st.RecordIncident(ctx, store.IncidentInput{Key: "test:refund:1", BookingID: b.ID, Kind: store.IncidentRefundFailed,
		AmountCents: 900, Details: "again"})
	if err != nil || again.ID != x.ID || again.Details != x.Details {
		t.Fatalf("a repeat made %+v (%v), want the first %+v", again, err, x)
	}
	if _, err := e.st.RecordIncident(ctx, store.IncidentInput{Key: "test:refund:2", BookingID: b.ID, Kind: store.IncidentRefundFailed,
		AmountCents: 100, Details: "went through after all"}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.ResolveIncident(ctx, "test:refund:2"); err != nil {
		t.Fatal(err)
	}

	var l struct {
		Items []store.Incident `json:"items"`
	}
	r := e.do("GET", "/api/v1/incidents", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != x.ID || l.Items[0].MunicipalityName != "Tradate" || l.Items[0].AmountCents != 900 {
		t.Fatalf("open incidents %s", r.body)
	}
	r = e.do("GET", "/api/v1/incidents?status=all", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &l)
	if len(l.Items) != 2 {
		t.Fatalf("all incidents %s", r.body)
	}
	r = e.do("GET", "/api/v1/incidents?status=all", "supervisore.padova", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &l)
	if len(l.Items) != 0 {
		t.Fatalf("another district's supervisor sees %s", r.body)
	}
	for _, u := range []string{"operatore.tradate", "cittadino.tradate", "esercente.tradate"} {
		expectStatus(t, e.do("GET", "/api/v1/incidents", u, nil), http.StatusForbidden)
	}
	expectStatus(t, e.do("GET", "/api/v1/incidents?status=maybe", "supervisore", nil), http.StatusUnprocessableEntity)

	sv := e.browser()
	sv.login("supervisore")
	p := sv.get("/incidents")
	expectPage(t, p, http.StatusOK, "<h1>Incidenti aperti</h1>", `href="/incidents" aria-current="page"`, "Rimborso non riuscito",
		"Tradate", "9,00", "only a captured payment can be refunded")
	if strings.Contains(p.body, "went through after all") {
		t.Error("a resolved incident is on the page of open incidents")
	}
	sv.follow(sv.get("/lang/en?next=/incidents"))
	expectPage(t, sv.get("/incidents"), http.StatusOK, "<h1>Open incidents</h1>", "Refund failed")
	pd := e.browser()
	pd.login("supervisore.padova")
	expectPage(t, pd.get("/incidents"), http.StatusOK, "Nessun incidente aperto.")
	op := e.browser()
	op.login("operatore.tradate")
	expectPage(t, op.get("/incidents"), http.StatusForbidden)
}
