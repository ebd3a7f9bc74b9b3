package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"sportello/internal/seed"
	"sportello/internal/store"
)

var anon = store.Scope{Kind: "anonymous"}

func serviceNames(ss []store.Service) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

func serviceByName(t *testing.T, st *store.Store, name string) store.Service {
	t.Helper()
	ss, _, err := st.API().Services(context.Background(), store.System, store.ServiceFilter{Query: name, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %q", name)
	return store.Service{}
}

func TestCatalogueVisibilityFollowsAccreditationAndCertification(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	public, err := st.API().Cooperatives(ctx, anon, "tradate", false)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range public {
		ids = append(ids, c.ID)
	}
	if len(public) != 11 || slices.Contains(ids, "il-ponte") || slices.Contains(ids, "primavera") {
		t.Fatalf("visitors see %v, want the 11 accredited and certified cooperatives", ids)
	}
	// Staff of the district see all 13, with the reason for the hidden ones.
	all, err := st.API().Cooperatives(ctx, userScope(t, st, "supervisore"), "tradate", false)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, c := range all {
		reasons[c.ID] = c.HiddenReason
	}
	if len(all) != 13 || reasons["il-ponte"] != "suspended" || reasons["primavera"] != "certification_expired" || reasons["baobab"] != "" {
		t.Fatalf("supervisor sees %d cooperatives, reasons %v", len(all), reasons)
	}
	// Staff of another district see only the public ones.
	other, err := st.API().Cooperatives(ctx, userScope(t, st, "supervisore.padova"), "tradate", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(other) != 11 {
		t.Fatalf("the Padova supervisor sees %d Tradate cooperatives, want 11", len(other))
	}
	// A certification that expired yesterday hides the cooperative and its services.
	if _, err := st.Pool.Exec(ctx, `UPDATE cooperatives SET certification_expires = current_date - 1 WHERE id = 'koine'`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.API().Cooperative(ctx, anon, "koine"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired certification: visitor reads koine: %v", err)
	}
	ss, _, err := st.API().Services(ctx, anon, store.ServiceFilter{Cooperative: "koine"})
	if err != nil || len(ss) != 0 {
		t.Fatalf("expired certification: visitors see services %v (%v)", serviceNames(ss), err)
	}
	// Expiring today still counts as valid.
	if _, err := st.Pool.Exec(ctx, `UPDATE cooperatives SET certification_expires = current_date WHERE id = 'koine'`); err != nil {
		t.Fatal(err)
	}
	if c, err := st.API().Cooperative(ctx, anon, "koine"); err != nil || !c.Public {
		t.Fatalf("certification expiring today: %+v %v", c, err)
	}
}

func TestCatalogueRLSBetweenCooperatives(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	coop := userScope(t, st, "coop.baobab")
	// Baobab creates an unpublished service: only Baobab and district staff see it.
	in := store.ServiceInput{Category: "childcare", Name: "Pre-scuola del mattino", Description: "Accoglienza dalle 7:30.",
		Unit: "month", PriceCents: 4000, Capacity: 20, CapacityPeriod: "month", Municipalities: []string{"tradate"}}
	s, err := st.API().SaveService(ctx, coop, "baobab", 0, in)
	if err != nil {
		t.Fatal(err)
	}
	if s.Published || s.CooperativeID != "baobab" {
		t.Fatalf("new service %+v", s)
	}
	if _, err := st.API().Service(ctx, anon, s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("visitor reads an unpublished service: %v", err)
	}
	if _, err := st.API().Service(ctx, userScope(t, st, "supervisore"), s.ID); err != nil {
		t.Fatalf("district supervisor: %v", err)
	}
	if _, err := st.API().Service(ctx, userScope(t, st, "supervisore.padova"), s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another district's supervisor reads it: %v", err)
	}
	// Baobab can neither write another cooperative's service nor claim to be it.
	koine := serviceByName(t, st, "Sostegno psicologico")
	if _, err := st.API().SaveService(ctx, coop, "baobab", koine.ID, in); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("baobab edits koine's service: %v", err)
	}
	if _, err := st.API().SaveService(ctx, coop, "koine", koine.ID, in); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("baobab edits koine's service naming koine: %v", err)
	}
	if _, err := st.API().SaveService(ctx, coop, "koine", 0, in); err == nil {
		t.Fatal("baobab created a service for koine")
	}
	if _, err := st.API().PublishService(ctx, coop, "baobab", koine.ID, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("baobab unpublishes koine's service: %v", err)
	}
	// A citizen writes nothing.
	if _, err := st.API().PublishService(ctx, userScope(t, st, "cittadino.tradate"), "baobab", s.ID, true); err == nil {
		t.Fatal("a citizen published a service")
	}
	// Published, it is public.
	if _, err := st.API().PublishService(ctx, coop, "baobab", s.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, err := st.API().Service(ctx, anon, s.ID); err != nil || got.Municipalities[0] != "tradate" {
		t.Fatalf("visitor after publishing: %+v %v", got, err)
	}
	// Baobab sees its own unpublished and published services but not others' unpublished ones.
	mine, _, err := st.API().Services(ctx, coop, store.ServiceFilter{Cooperative: "baobab"})
	if err != nil || len(mine) != 3 {
		t.Fatalf("baobab's catalogue: %v %v", serviceNames(mine), err)
	}
}

func TestCatalogueSearchItalianAndFilters(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	search := func(f store.ServiceFilter) []string {
		t.Helper()
		f.PublicOnly = true
		ss, _, err := st.API().Services(ctx, anon, f)
		if err != nil {
			t.Fatal(err)
		}
		return serviceNames(ss)
	}
	// Stemming: "anziano" finds services described with "anziani" / "anziane".
	got := search(store.ServiceFilter{Query: "anziano"})
	if !slices.Contains(got, "Assistenza domiciliare anziani") || !slices.Contains(got, "Centro diurno per anziani") {
		t.Fatalf("'anziano' finds %v", got)
	}
	// The other way round finds the same; "anziana" finds the text saying "anziano".
	if got2 := search(store.ServiceFilter{Query: "anziani"}); !slices.Equal(got, got2) {
		t.Fatalf("'anziani' finds %v, 'anziano' %v", got2, got)
	}
	if got := search(store.ServiceFilter{Query: "anziana disabile"}); !slices.Equal(got, []string{"Sollievo per i caregiver"}) {
		t.Fatalf("'anziana disabile' finds %v", got)
	}
	// Hidden cooperatives' services are not found ("Compagnia ad anziani" is Primavera's).
	if slices.Contains(got, "Compagnia ad anziani") {
		t.Fatalf("a hidden cooperative's service is found: %v", got)
	}
	if got := search(store.ServiceFilter{Query: "giardini"}); !slices.Equal(got, []string{"Cura del giardino"}) {
		t.Fatalf("'giardini' finds %v", got)
	}
	if got := search(store.ServiceFilter{Query: "xylofono"}); len(got) != 0 {
		t.Fatalf("nonsense finds %v", got)
	}
	// Filters: category, municipality, cooperative, max price, combined with search.
	for _, n := range search(store.ServiceFilter{Category: "silvercare"}) {
		if !slices.Contains([]string{"Assistenza domiciliare anziani", "Pasti a domicilio", "Centro diurno per anziani", "Trasporto sociale"}, n) {
			t.Fatalf("silvercare lists %q", n)
		}
	}
	if got := search(store.ServiceFilter{Municipality: "castelseprio", Cooperative: "rembrandt"}); !slices.Equal(got, []string{"Laboratorio di teatro", "Scuola di musica"}) {
		t.Fatalf("rembrandt in castelseprio: %v", got)
	}
	if got := search(store.ServiceFilter{Cooperative: "rembrandt", Municipality: "tradate"}); !slices.Equal(got, []string{"Laboratorio di teatro"}) {
		t.Fatalf("rembrandt in tradate: %v", got)
	}
	for _, s := range mustServices(t, st, store.ServiceFilter{MaxPriceCents: 1500, PublicOnly: true, Limit: 100}) {
		if s.PriceCents > 1500 {
			t.Fatalf("max price 15 € lists %s at %d", s.Name, s.PriceCents)
		}
	}
	if got := search(store.ServiceFilter{MaxPriceCents: 1500, Query: "robotica"}); !slices.Equal(got, []string{"Laboratorio di robotica per ragazzi"}) {
		t.Fatalf("15 € robotica (exactly the limit): %v", got)
	}
	if got := search(store.ServiceFilter{MaxPriceCents: 1499, Query: "robotica"}); len(got) != 0 {
		t.Fatalf("14.99 € robotica: %v", got)
	}
	// Paging: pages do not overlap and the total is the whole match count.
	p1, total, err := st.API().Services(ctx, anon, store.ServiceFilter{District: "tradate", PublicOnly: true, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	p2, total2, err := st.API().Services(ctx, anon, store.ServiceFilter{District: "tradate", PublicOnly: true, Limit: 5, Offset: 5})
	if err != nil {
		t.Fatal(err)
	}
	if total != (store.Count{N: 20}) || total2 != (store.Count{N: 20}) || len(p1) != 5 || len(p2) != 5 || slices.Contains(serviceNames(p1), p2[0].Name) {
		t.Fatalf("paging: %v/%v, %v then %v", total, total2, serviceNames(p1), serviceNames(p2))
	}
}

// A search counts and ranks its matches in blocks (CountCap, newest first):
// the count says "more than" past the block, a full page always has a
// next one, and paging through every block lists each match once, the same
// set as one page of them all.
func TestCatalogueSearchCountCapAndBlocks(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	all, total, err := st.API().Services(ctx, anon, store.ServiceFilter{PublicOnly: true, Query: "anziani", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if total.More || total.N != len(all) || len(all) < 5 {
		t.Fatalf("'anziani' finds %d (%v): %v", len(all), total, serviceNames(all))
	}
	var paged []string
	for offset := 0; ; offset += 2 {
		page, count, err := st.API().Services(ctx, anon, store.ServiceFilter{PublicOnly: true, Query: "anziani", Limit: 2, Offset: offset, CountCap: 3})
		if err != nil {
			t.Fatal(err)
		}
		end := offset + len(page)
		// Exact, or a lower bound at least the end of the page; the first
		// page (3 matches read of more) cannot know them all.
		switch {
		case !count.More && count.N != len(all):
			t.Fatalf("offset %d: count %v, want %d", offset, count, len(all))
		case count.More && (count.N < end || count.N >= len(all)):
			t.Fatalf("offset %d: count %v, want more than at least %d", offset, count, end)
		case offset == 0 && count != (store.Count{N: 3, More: true}):
			t.Fatalf("first page: count %v, want more than 3", count)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, serviceNames(page)...)
	}
	want := serviceNames(all)
	slices.Sort(want)
	got := slices.Clone(paged)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("paging in blocks of 3 lists %v, want each of %v once", paged, want)
	}
}

func mustServices(t *testing.T, st *store.Store, f store.ServiceFilter) []store.Service {
	t.Helper()
	ss, _, err := st.API().Services(context.Background(), anon, f)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func TestCataloguePriceByISEEBand(t *testing.T) {
	st := seededStore(t)
	s := serviceByName(t, st, "Doposcuola e aiuto compiti") // 18 €, standard bands in Tradate and Vedano
	isee := func(v int) *int { return &v }
	cases := []struct {
		mun   string
		isee  *int
		cents int64
		basis string
		max   *int
	}{
		{"tradate", isee(0), 900, "band", isee(10000)},
		{"tradate", isee(10000), 900, "band", isee(10000)}, // the bound is inclusive
		{"tradate", isee(10001), 1350, "band", isee(20000)},
		{"tradate", isee(20000), 1350, "band", isee(20000)},
		{"tradate", isee(20001), 1800, "band", nil},
		{"tradate", nil, 1800, "list", nil},              // ISEE unknown
		{"gornate-olona", isee(5000), 1800, "list", nil}, // served, no bands there
		{"", isee(5000), 1800, "list", nil},              // no municipality
		{"limena", isee(5000), 1800, "not_served", nil},  // not offered there
	}
	for _, c := range cases {
		q := s.Quote(c.mun, c.isee)
		if q.Cents != c.cents || q.Basis != c.basis {
			t.Errorf("%s ISEE %v: %d %s, want %d %s", c.mun, c.isee, q.Cents, q.Basis, c.cents, c.basis)
			continue
		}
		if c.basis == "band" && ((q.Band.MaxISEEEuro == nil) != (c.max == nil) || c.max != nil && *q.Band.MaxISEEEuro != *c.max) {
			t.Errorf("%s ISEE %d: band %+v", c.mun, *c.isee, q.Band)
		}
	}
	// Fixed-price band and percentage with rounding.
	g := serviceByName(t, st, "Assistenza domiciliare anziani") // 22 €; Tradate: ≤10,000 5 €, ≤20,000 70%
	if q := g.Quote("tradate", isee(9999)); q.Cents != 500 || q.Band.PriceCents == nil {
		t.Fatalf("fixed band: %+v", q)
	}
	if q := g.Quote("tradate", isee(15000)); q.Cents != 1540 || q.LowerEuro == nil || *q.LowerEuro != 10000 {
		t.Fatalf("70%% band: %+v", q)
	}
	if got := (store.PriceBand{Percent: isee(33)}).Cents(1001); got != 330 {
		t.Fatalf("33%% of 10.01 = %d, want 330 (rounded)", got)
	}
	if got := (store.PriceBand{Percent: isee(50)}).Cents(1001); got != 501 {
		t.Fatalf("50%% of 10.01 = %d, want 501 (half up)", got)
	}
}

func TestCitizenISEEFromApplicationOrProfile(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	vedano := userScope(t, st, "cittadino.vedano")
	got, ok, err := st.API().CitizenISEE(ctx, vedano, vedano.UserID)
	if err != nil || !ok || got.Source != "profile" || got.Euro != seed.ProfileISEE {
		t.Fatalf("vedano: %+v %v %v", got, ok, err)
	}
	tradate := userScope(t, st, "cittadino.tradate")
	if _, ok, err := st.API().CitizenISEE(ctx, tradate, tradate.UserID); err != nil || ok {
		t.Fatalf("tradate without application or profile ISEE: %v %v", ok, err)
	}
	// An application with an ISEE wins over the profile.
	if _, err := st.Pool.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
			form_version, fund_id, data, status, workflow_id, request_hash)
		SELECT 'BS-TEST-1', 'tradate', 'vedano-olona', u.id, u.tax_code, 'buoni-spesa', 1, f.id,
			'{"isee_euro": 7200}', 'submitted', 'case:BS-TEST-1', 'x'
		FROM users u, funds f WHERE u.username = 'cittadino.vedano' AND f.municipality_id = 'vedano-olona' LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	got, ok, err = st.API().CitizenISEE(ctx, vedano, vedano.UserID)
	if err != nil || !ok || got.Source != "application" || got.Euro != 7200 || got.CaseID != "BS-TEST-1" {
		t.Fatalf("vedano after applying: %+v %v %v", got, ok, err)
	}
}

func TestCatalogueSeedIsIdempotentAndKeepsCooperativeEdits(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	coop := userScope(t, st, "coop.baobab")
	if coop.Kind != "cooperative" {
		t.Fatalf("coop.baobab scope %+v", coop)
	}
	if id, err := st.API().UserCooperative(ctx, coop.UserID); err != nil || id != "baobab" {
		t.Fatalf("coop.baobab's cooperative %q %v", id, err)
	}
	s := serviceByName(t, st, "Centro estivo")
	in := store.ServiceInput{Category: s.Category, Name: s.Name, Description: s.Description, Unit: s.Unit, PriceCents: 9900,
		Capacity: s.Capacity, CapacityPeriod: s.CapacityPeriod, Municipalities: s.Municipalities, Bands: s.Bands}
	if _, err := st.API().SaveService(ctx, coop, "baobab", s.ID, in); err != nil {
		t.Fatal(err)
	}
	var before int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM services WHERE district_id = 'tradate'`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if err := seed.Run(ctx, st, seed.Options{Demo: true}); err != nil {
		t.Fatal(err)
	}
	var after int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM services WHERE district_id = 'tradate'`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	tradate, err := seed.DistrictFile("tradate")
	if err != nil {
		t.Fatal(err)
	}
	if got := serviceByName(t, st, "Centro estivo"); before != after || before != len(tradate.Services) || got.PriceCents != 9900 {
		t.Fatalf("services %d → %d (the district file has %d); edited price %d", before, after, len(tradate.Services), got.PriceCents)
	}
}
