package district_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/deploy/districts"
	"sportello/internal/district"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func benecomune(t *testing.T) district.File {
	t.Helper()
	f, err := district.LoadFS(districts.Files, "bene-comune.json")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestApplyIsIdempotent: the first apply creates everything, the second
// changes nothing (no row, no transfer, no password hash), a changed file
// updates just what changed.
func TestApplyIsIdempotent(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	f := benecomune(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

	first, err := district.Apply(ctx, st, f, district.Options{Demo: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := 1 + len(f.Municipalities) + len(f.Cooperatives) + len(f.Services) + len(f.SocialPoints) + len(f.Shops) + len(f.Funds) + len(f.Accounts) + len(f.Teams)
	if first.Count("created") != want || first.Count("updated") != 0 || first.Unchanged != 0 {
		t.Fatalf("first apply: created %d (want %d), updated %d, unchanged %d", first.Count("created"), want, first.Count("updated"), first.Unchanged)
	}
	var hash string
	if err := st.Pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE username = 'operatore.piazzola'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	var transfers int
	count := func() int {
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM transfers`).Scan(&transfers); err != nil {
			t.Fatal(err)
		}
		return transfers
	}
	before := count()
	if before != len(f.Funds) {
		t.Errorf("%d transfers, want one per fund (%d)", before, len(f.Funds))
	}

	second, err := district.Apply(ctx, st, f, district.Options{Demo: true, Now: now.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Changes) != 0 || second.Unchanged != want {
		t.Fatalf("second apply changed %v (unchanged %d, want %d)", second.Changes, second.Unchanged, want)
	}
	var again string
	if err := st.Pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE username = 'operatore.piazzola'`).Scan(&again); err != nil || again != hash {
		t.Errorf("password hashed again (%v)", err)
	}
	if count() != before {
		t.Errorf("the second apply moved money: %d transfers, then %d", before, transfers)
	}
	if msg, err := store.LedgerCheck(ctx, st.Pool); err != nil || msg != "" {
		t.Fatalf("LedgerCheck = %q, %v", msg, err)
	}

	// A change: new colour, a renamed shop, Limena's patron.
	f.Colours.Primary = "#14533e"
	f.Shops[0].Name = "Alimentari Camerini snc"
	f.Municipalities[3].Patron.Day = 23
	third, err := district.Apply(ctx, st, f, district.Options{Demo: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range third.Changes {
		got[c.Kind+" "+c.ID] = c.Result
	}
	if len(got) != 3 || got["district alta-padovana"] != "updated" || got["shop "+f.Shops[0].ID] != "updated" ||
		got["municipality limena"] != "updated" {
		t.Errorf("third apply changed %v", third.Changes)
	}
	var day int
	var istat string
	if err := st.Pool.QueryRow(ctx, `SELECT patron_day, istat_code FROM municipalities WHERE id = 'limena'`).Scan(&day, &istat); err != nil || day != 23 || istat != "028045" {
		t.Errorf("Limena: patron day %d, ISTAT %q, %v", day, istat, err)
	}
}

func TestApplyRefusesForeignRecordsAndPasswordsOutsideDemo(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	f := benecomune(t)
	var inv *district.InvalidError
	if _, err := district.Apply(ctx, st, f, district.Options{}); !errors.As(err, &inv) || inv.Errors[0].Pointer != "/accounts/0/demo_password" {
		t.Fatalf("a password outside demo mode: %v", err)
	}
	if _, err := district.Apply(ctx, st, f, district.Options{Demo: true}); err != nil {
		t.Fatal(err)
	}
	// Another district's file naming Limena and supervisore.padova moves nothing.
	other := f
	other.ID = "altro-ambito"
	other.Municipalities = f.Municipalities[3:4]
	other.Cooperatives, other.Services, other.SocialPoints, other.Shops, other.Funds, other.Teams = nil, nil, nil, nil, nil, nil
	other.Accounts = f.Accounts[:1]
	_, err := district.Apply(ctx, st, other, district.Options{Demo: true})
	if !errors.As(err, &inv) || len(inv.Errors) != 2 || inv.Errors[0].Pointer != "/municipalities/0/id" || inv.Errors[1].Pointer != "/accounts/0/username" {
		t.Fatalf("foreign records: %v", err)
	}
	var n int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM districts WHERE id = 'altro-ambito'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused file left its district (%d, %v)", n, err)
	}
	// Without demo and without accounts, new accounts would have no usable password.
	f.Accounts = nil
	if _, err := district.Apply(ctx, st, f, district.Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestDistrictsRowLevelSecurity: everybody reads districts, only the
// system scope writes them.
func TestDistrictsRowLevelSecurity(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if _, err := district.Apply(ctx, st, benecomune(t), district.Options{Demo: true}); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []store.Scope{{Kind: "citizen", District: "tradate", Municipality: "tradate", UserID: 1},
		{Kind: "supervisor", District: "alta-padovana"}, {Kind: "anonymous"}} {
		err := st.InTx(ctx, scope, func(tx pgx.Tx) error {
			var name string
			if err := tx.QueryRow(ctx, `SELECT name FROM districts WHERE id = 'alta-padovana'`).Scan(&name); err != nil || name != "Welfare Bene Comune" {
				t.Errorf("%s reads %q, %v", scope.Kind, name, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", scope.Kind, err)
		}
		// Refused: no row to update, or the guard's error (the district's own supervisor).
		_ = st.InTx(ctx, scope, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE districts SET name = 'x' WHERE id = 'alta-padovana'`)
			return err
		})
		err = st.InTx(ctx, scope, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO districts (id, name) VALUES ('intruso', 'Intruso')`)
			return err
		})
		if err == nil {
			t.Errorf("%s created a district", scope.Kind)
		}
	}
	// The district's supervisor still shares its desk (and nothing else).
	err := st.InTx(ctx, store.Scope{Kind: "supervisor", District: "alta-padovana"}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE districts SET desk_shared = true WHERE id = 'alta-padovana'`)
		if err == nil && tag.RowsAffected() != 1 {
			t.Errorf("the supervisor could not share the desk")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := st.Pool.QueryRow(ctx, `SELECT name FROM districts WHERE id = 'alta-padovana'`).Scan(&name); err != nil || name != "Welfare Bene Comune" {
		t.Fatalf("the district is now %q (%v)", name, err)
	}
}

// TestApplyTradate: Tradate's file (yearly calls, relative cooperative
// and plan dates, a suspended cooperative, bands in some municipalities,
// teams, the demo company with its welfare manager) applied twice on a day
// changes nothing the second time; in a new year it makes that year's
// calls, which its teams review, and the company's plan still runs.
func TestApplyTradate(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	f, err := district.LoadFS(districts.Files, "tradate.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	first, err := district.Apply(ctx, st, f, district.Options{Demo: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := 1 + len(f.Municipalities) + len(f.Cooperatives) + len(f.Services) + len(f.Companies) + len(f.SocialPoints) + len(f.Shops) +
		len(f.Funds) + len(f.Accounts) + len(f.Teams)
	if first.Count("created") != want || first.Count("updated") != 0 {
		t.Fatalf("first apply: created %d (want %d), updated %d", first.Count("created"), want, first.Count("updated"))
	}
	// The demo company's plan runs on the day of the apply (relative dates).
	plan := func(day string) (id, manager string) {
		t.Helper()
		err := st.Pool.QueryRow(ctx, `SELECT coalesce((SELECT p.id FROM company_plans p WHERE p.company_id = 'meccanica-tradatese'
				AND p.valid_from <= $1::date AND p.valid_until >= $1::date), ''),
			coalesce((SELECT u.username FROM company_managers m JOIN users u ON u.id = m.user_id WHERE m.company_id = 'meccanica-tradatese'), '')`,
			day).Scan(&id, &manager)
		if err != nil {
			t.Fatal(err)
		}
		return id, manager
	}
	if id, manager := plan("2026-03-10"); id != "meccanica-tradatese-piano" || manager != "welfare.meccanica" {
		t.Errorf("on the day of the apply the demo company's plan is %q, its manager %q", id, manager)
	}
	second, err := district.Apply(ctx, st, f, district.Options{Demo: true, Now: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Changes) != 0 || second.Unchanged != want {
		t.Fatalf("second apply changed %v (unchanged %d, want %d)", second.Changes, second.Unchanged, want)
	}
	var (
		name, team, status, category string
		budget                       int64
		version                      int
		from, certExpires            time.Time
		banded                       []string
	)
	err = st.Pool.QueryRow(ctx, `SELECT f.name, f.team_id, f.form_version, a.balance_cents FROM funds f
		JOIN accounts a ON a.id = 'fund:' || f.id WHERE f.id = 'buoni-spesa-tradate-2026'`).Scan(&name, &team, &version, &budget)
	if err != nil || name != "Buoni spesa 2026 - Tradate" || team != "istruttoria-buoni-spesa-tradate" || version != 1 || budget != 57_000_00 {
		t.Errorf("Tradate's 2026 call: %q, team %q, form version %d, budget %d (%v)", name, team, version, budget, err)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT accreditation_status FROM cooperatives WHERE id = 'il-ponte'`).Scan(&status); err != nil || status != "suspended" {
		t.Errorf("il-ponte: %q (%v)", status, err)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT accredited_from, certification_expires FROM cooperatives WHERE id = 'il-girasole'`).
		Scan(&from, &certExpires); err != nil || from.Format(time.DateOnly) != "2023-09-22" || certExpires.Format(time.DateOnly) != "2026-04-24" {
		t.Errorf("il-girasole accredited from %v, certified until %v (%v)", from, certExpires, err)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT array_agg(DISTINCT b.municipality_id) FROM service_price_bands b
		JOIN services s ON s.id = b.service_id WHERE s.cooperative_id = 'il-girasole' AND s.name = 'Assistenza domiciliare anziani'`).
		Scan(&banded); err != nil || len(banded) != 1 || banded[0] != "tradate" {
		t.Errorf("bands of home care in %v (%v)", banded, err)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT category FROM merchants WHERE id = 'tradate-farmacia-comunale'`).Scan(&category); err != nil || category != "health" {
		t.Errorf("the pharmacy's category is %q (%v)", category, err)
	}

	// A new year: its calls, reviewed by the teams; last year's stay.
	next, err := district.Apply(ctx, st, f, district.Options{Demo: true, Now: time.Date(2027, 1, 15, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, c := range next.Changes {
		kinds[c.Kind+" "+c.Result]++
	}
	if kinds["fund created"] != len(f.Funds) || kinds["team updated"] != len(f.Teams) || kinds["company updated"] != len(f.Companies) {
		t.Errorf("the new year's apply: %v", kinds)
	}
	if id, _ := plan("2027-01-15"); id != "meccanica-tradatese-piano" {
		t.Errorf("in the new year the demo company's plan is %q", id)
	}
	var calls int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*), max(team_id) FILTER (WHERE id = 'buoni-spesa-vedano-olona-2027') FROM funds`).
		Scan(&calls, &team); err != nil || calls != 2*len(f.Funds) || team != "istruttoria-buoni-spesa-vedano-olona" {
		t.Errorf("%d calls, Vedano's 2027 reviewed by %q (%v)", calls, team, err)
	}
	if msg, err := store.LedgerCheck(ctx, st.Pool); err != nil || msg != "" {
		t.Fatalf("LedgerCheck = %q, %v", msg, err)
	}
}

// TestApplyCompanies (issue 15, part 1): a company joins a district through
// its file: the company, its plan, its welfare manager and the Social Point
// it hosts; its ledger account opened empty (money comes only from
// top-ups the provider confirms); applied again nothing changes, a changed
// plan updates the company; another district's company or another
// company's plan is refused at its field.
func TestApplyCompanies(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	f := benecomune(t)
	f.Companies = []district.Company{{ID: "brenta-meccanica", Name: "Brenta Meccanica S.p.A.", VATNumber: "01234567890",
		Plans: []district.CompanyPlan{{ID: "brenta-meccanica-2027", Name: "Piano welfare 2027", AnnualCreditCents: 500_00,
			Categories: []string{"childcare", "youcare"}, ValidFrom: "2027-01-01", ValidUntil: "2027-12-31"}}}}
	f.Accounts = append(f.Accounts, district.Account{Username: "welfare.brenta", Role: "welfare_manager", DisplayName: "Welfare Brenta",
		Email: "welfare@brenta.example.org", Company: "brenta-meccanica", DemoPassword: "demo"})
	f.SocialPoints[0].HostCompany = "brenta-meccanica"
	rep, err := district.Apply(ctx, st, f, district.Options{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rep.Changes, district.Change{Kind: "company", ID: "brenta-meccanica", Result: "created"}) {
		t.Errorf("first apply: %v", rep.Changes)
	}
	var (
		dist, manager, host string
		credit, balance     int64
		cats                []string
	)
	if err := st.Pool.QueryRow(ctx, `SELECT c.district_id, p.annual_credit_cents, p.categories,
			(SELECT u.username FROM company_managers m JOIN users u ON u.id = m.user_id WHERE m.company_id = c.id),
			(SELECT host_company_id FROM social_points WHERE id = $1), a.balance_cents
		FROM companies c JOIN company_plans p ON p.company_id = c.id JOIN accounts a ON a.id = $2
		WHERE c.id = 'brenta-meccanica'`, f.SocialPoints[0].ID, store.CompanyAccountID("brenta-meccanica")).
		Scan(&dist, &credit, &cats, &manager, &host, &balance); err != nil {
		t.Fatal(err)
	}
	if dist != "alta-padovana" || credit != 500_00 || !slices.Equal(cats, []string{"childcare", "youcare"}) || manager != "welfare.brenta" ||
		host != "brenta-meccanica" || balance != 0 {
		t.Errorf("company: %s, credit %d on %v, manager %q, hosting %q, balance %d", dist, credit, cats, manager, host, balance)
	}
	again, err := district.Apply(ctx, st, f, district.Options{Demo: true})
	if err != nil || len(again.Changes) != 0 {
		t.Fatalf("second apply: %v, %v", again.Changes, err)
	}
	f.Companies[0].Plans[0].AnnualCreditCents = 600_00
	changed, err := district.Apply(ctx, st, f, district.Options{Demo: true})
	if err != nil || !slices.Equal(changed.Changes, []district.Change{{Kind: "company", ID: "brenta-meccanica", Result: "updated"}}) {
		t.Fatalf("changed plan: %v, %v", changed.Changes, err)
	}

	var inv *district.InvalidError
	stolen := f
	stolen.Companies = append(slices.Clone(f.Companies), district.Company{ID: "altra-spa", Name: "Altra S.p.A.", VATNumber: "09876543210",
		Plans: []district.CompanyPlan{f.Companies[0].Plans[0]}})
	if _, err := district.Apply(ctx, st, stolen, district.Options{Demo: true}); !errors.As(err, &inv) || inv.Errors[0].Pointer != "/companies/1/plans/0/id" {
		t.Fatalf("another company's plan: %v", err)
	}
	other := district.File{ID: "altro-ambito", Name: f.Name, ShortName: "Altro", Logo: f.Logo, Colours: f.Colours, Contacts: f.Contacts,
		Municipalities: []district.Municipality{{ID: "altrove", Name: "Altrove", CadastralCode: "X999", Residents: 10}},
		Companies:      f.Companies[:1]}
	if _, err := district.Apply(ctx, st, other, district.Options{Demo: true}); !errors.As(err, &inv) || inv.Errors[0].Pointer != "/companies/0/id" {
		t.Fatalf("another district's company: %v", err)
	}
	if msg, err := store.LedgerCheck(ctx, st.Pool); err != nil || msg != "" {
		t.Fatalf("LedgerCheck = %q, %v", msg, err)
	}
}
