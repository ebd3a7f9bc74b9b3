package api_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"sportello/api"
	"sportello/deploy/districts"
	"sportello/internal/bookingtest"
	"sportello/internal/district"
	"sportello/internal/seed"
)

// Tenancy between the two districts (issue 15): every role of Welfare Bene
// Comune (its accounts come from deploy/districts/bene-comune.json) calls
// every route of the policy table on Tradate's records, and every role of
// Tradate on Bene Comune's (place P of the matrix world): another
// district's case, task, voucher, booking, service, shop, Social Point,
// invoice, team, fund... is 404 or 403, or answered exactly as a record
// that does not exist, and no list shows it. The matrix's own-place half
// (each role reaches its own records) is TestAuthorizationMatrix.
var districtActors = []struct {
	matrixActor
	other string // the other district's place in the matrix world
}{
	{matrixActor{"citizen", "cittadino.limena", ""}, "T"},
	{matrixActor{"operator", "operatrice.limena", ""}, "T"},
	{matrixActor{"supervisor", "supervisore.padova", ""}, "T"},
	{matrixActor{"merchant", "esercente.piazzola", ""}, "T"},
	{matrixActor{"cooperative", "coop.jonathan", ""}, "T"},
	{matrixActor{"citizen", "cittadino.tradate", ""}, "P"},
	{matrixActor{"operator", "operatore.tradate", ""}, "P"},
	{matrixActor{"merchant", "esercente.tradate", ""}, "P"},
	{matrixActor{"cooperative", "coop.baobab", ""}, "P"},
	{matrixActor{"welfare_manager", "welfare.meccanica", ""}, "P"},
	// Bene Comune's welfare and Commerce District managers (beneComuneManagers).
	{matrixActor{"welfare_manager", "welfare.padova", ""}, "T"},
	{matrixActor{"commerce_manager", "commercio.piazzola", ""}, "T"},
	// supervisore and commercio.tradate (Tradate) against P are in
	// TestAuthorizationMatrix.
}

// beneComuneManagers gives Welfare Bene Comune, through its district file,
// a company with its welfare manager and a Commerce District manager (its
// demo file has neither), so that these roles are tried against Tradate.
func beneComuneManagers(t *testing.T, e *env) {
	t.Helper()
	f, err := district.LoadFS(districts.Files, "bene-comune.json")
	if err != nil {
		t.Fatal(err)
	}
	f.Companies = []district.Company{{ID: "brenta-tenancy", Name: "Brenta Tenancy S.r.l.", VATNumber: "01234567890",
		Plans: []district.CompanyPlan{{ID: "brenta-tenancy-plan", Name: "Piano welfare", AnnualCreditCents: 100_00,
			Categories: []string{"childcare"}, ValidFrom: "-30d", ValidUntil: "+300d"}}}}
	f.Accounts = append(f.Accounts,
		district.Account{Username: "welfare.padova", Role: "welfare_manager", DisplayName: "Welfare Brenta", Email: "welfare@brenta.example.org",
			Company: "brenta-tenancy", DemoPassword: seed.DemoPassword},
		district.Account{Username: "commercio.piazzola", Role: "commerce_manager", DisplayName: "Commercio Piazzola",
			Municipality: "piazzola-sul-brenta", Email: "commercio@piazzola.example.org", DemoPassword: seed.DemoPassword})
	if _, err := district.Apply(context.Background(), e.st, f, district.Options{Demo: true}); err != nil {
		t.Fatal(err)
	}
}

func TestDistrictTenancyMatrix(t *testing.T) {
	e := newEnv(t)
	beneComuneManagers(t, e)
	w := buildMatrixWorld(t, e)
	for _, a := range districtActors {
		if _, ok := w.users[a.username]; !ok {
			w.users[a.username] = bookingtest.User(t, e.st, a.username)
		}
	}
	// Records of the other district a caller's "own place" lookups miss.
	tried, skipped := 0, map[string]bool{}
	for _, row := range api.Policy() {
		if row.Access != "session" {
			continue
		}
		for _, a := range districtActors {
			if !slices.Contains(row.Roles, a.role) {
				continue
			}
			name := row.Method + " " + row.Path + " as " + a.username
			switch row.Reach {
			case "own":
				other, ok := w.path(row.Path, a.other, a.role)
				if !ok {
					skipped[row.Path+" in "+a.other] = true
					continue
				}
				tried++
				st, body := w.call(t, row.Method, other, a.matrixActor)
				if st == http.StatusNotFound || st == http.StatusForbidden {
					continue
				}
				missing, _ := w.path(row.Path, "missing", a.role)
				ms, mbody := w.call(t, row.Method, missing, a.matrixActor)
				if st < 300 || st != ms {
					t.Errorf("%s: %d on the other district's record %s (%s), want 404 or 403, or the answer for no such record (%d %s)",
						name, st, other, body, ms, mbody)
				}
			case "list":
				kind := matrixListKinds[row.Path]
				if kind == "" || row.Method != "GET" {
					continue
				}
				tried++
				st, body := w.call(t, row.Method, row.Path, a.matrixActor)
				if st != http.StatusOK {
					t.Errorf("%s: %d on the list: %s", name, st, body)
					continue
				}
				for place, id := range w.ids[kind] {
					if strings.HasPrefix(place, a.other) && bytes.Contains(body, []byte(`"`+id+`"`)) {
						t.Errorf("%s: the list shows the other district's %s %s", name, kind, id)
					}
				}
			}
		}
	}
	t.Logf("district tenancy: %d calls on the other district's records; no record there for %d route/place pairs", tried, len(skipped))
	for k := range skipped {
		t.Logf("no record: %s", k)
	}
	if tried < 130 {
		t.Errorf("only %d calls: is the matrix world missing Bene Comune's records?", tried)
	}
}

// The same on the portal's pages: a user of one district opening another
// district's case, voucher, booking or appointment page, or claiming its
// task, gets an error page; its inbox and personal area list none of them.
func TestDistrictTenancyPages(t *testing.T) {
	e := newEnv(t)
	beneComuneManagers(t, e)
	w := buildMatrixWorld(t, e)
	pages := []struct{ method, path, kind string }{
		{"GET", "/cases/%s", "case"},
		{"GET", "/vouchers/%s", "voucher"},
		{"GET", "/vouchers/%s/pdf", "voucher"},
		{"GET", "/bookings/%s", "booking"},
		{"GET", "/appointments/%s", "appointment"},
		{"POST", "/tasks/%s/claim", "task"},
	}
	lists := map[string][]string{"citizen": {"/me", "/bookings", "/appointments"}, "operator": {"/inbox", "/agenda", "/desk/contacts"},
		"supervisor": {"/inbox", "/agenda", "/desk/contacts"}, "merchant": {"/invoices"}, "cooperative": {"/coop/bookings", "/invoices"}, "welfare_manager": {"/azienda"},
		"commerce_manager": {"/manage/campaigns"}}
	n := 0
	for _, a := range districtActors {
		b := e.browser()
		b.login(a.username)
		for _, pg := range pages {
			id := w.ids[pg.kind][a.other]
			if id == "" {
				t.Fatalf("no %s in %s", pg.kind, a.other)
			}
			path := strings.Replace(pg.path, "%s", id, 1)
			var p page
			if pg.method == "GET" {
				p = b.get(path)
			} else {
				p = b.post(path, nil, hdr{"Sec-Fetch-Site": "same-origin"})
			}
			n++
			if p.status != http.StatusNotFound && p.status != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 404 or 403", pg.method, path, a.username, p.status)
			}
		}
		for _, path := range lists[a.role] {
			p := b.get(path)
			n++
			if p.status != http.StatusOK {
				t.Errorf("GET %s as %s: %d", path, a.username, p.status)
				continue
			}
			for _, kind := range []string{"case", "task", "voucher", "booking", "appointment", "invoice", "contact"} {
				if id := w.ids[kind][a.other]; id != "" && strings.Contains(p.body, id) {
					t.Errorf("GET %s as %s shows the other district's %s %s", path, a.username, kind, id)
				}
			}
		}
	}
	t.Logf("district tenancy on pages: %d requests", n)
}
