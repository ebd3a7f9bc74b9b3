package seed

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"sportello/internal/auth"
	"sportello/internal/district"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestTaxCode(t *testing.T) {
	cases := []struct {
		last, first string
		female      bool
		born        time.Time
		place       string
		want        string
	}{
		// The revenue agency's textbook example.
		{"Rossi", "Mario", false, date(1985, 12, 10), "A562", "RSSMRA85T10A562S"},
		{"Rossi", "Maria", true, date(1980, 1, 1), "L319", "RSSMRA80A41L319S"},
		// Name with four or more consonants: 1st, 3rd and 4th.
		{"Bianchi", "Gianfranco", false, date(1970, 5, 3), "L319", "BNCGFR70E03L319"},
		// Short surname padded with X, accents folded.
		{"Fo", "Nicolò", false, date(1999, 9, 9), "L733", "FOXNCL99P09L733"},
	}
	for _, c := range cases {
		got := TaxCode(c.last, c.first, c.female, c.born, c.place)
		if len(got) != 16 {
			t.Fatalf("TaxCode(%s %s) = %q, want 16 characters", c.first, c.last, got)
		}
		if len(c.want) == 16 && got != c.want {
			t.Errorf("TaxCode(%s %s) = %q, want %q", c.first, c.last, got, c.want)
		}
		if got[:15] != c.want[:15] {
			t.Errorf("TaxCode(%s %s) = %q, want prefix %q", c.first, c.last, got, c.want[:15])
		}
		if checkChar(got[:15]) != got[15] {
			t.Errorf("check character of %s is wrong", got)
		}
	}
}

// budgetCents is the rule tradate.json's food-voucher budgets follow:
// about EUR 3 per resident, rounded to EUR 1,000, at least EUR 5,000; the
// service-voucher budgets are two thirds of it, at least EUR 5,000.
func budgetCents(residents int) (food, service int64) {
	food = max(int64(math.Round(float64(residents)*3*100/1_000_00))*1_000_00, 5_000_00)
	return food, max(food*2/3, 5_000_00)
}

// TestTradateFileFunds: every Tradate municipality has its yearly food-
// and service-voucher call, budgeted by the rule, with the ids FundID and
// ServiceFundID give, the form version and the review time the tests use.
func TestTradateFileFunds(t *testing.T) {
	for residents, want := range map[int]int64{1300: 5_000_00, 19000: 57_000_00, 7800: 23_000_00, 7300: 22_000_00, 2200: 7_000_00} {
		if got, _ := budgetCents(residents); got != want {
			t.Errorf("budgetCents(%d) = %d, want %d", residents, got, want)
		}
	}
	f, err := DistrictFile("tradate")
	if err != nil {
		t.Fatal(err)
	}
	funds := map[string]district.Fund{}
	for _, fd := range f.Funds {
		funds[fd.In(2026).ID] = fd
	}
	if len(funds) != 2*len(f.Municipalities) {
		t.Errorf("%d funds for %d municipalities", len(funds), len(f.Municipalities))
	}
	for _, m := range f.Municipalities {
		food, service := budgetCents(m.Residents)
		fd, ok := funds[FundID(m.ID, 2026)]
		if !ok || fd.Kind != "food" || fd.BudgetCents != food || fd.FormVersion != FoodVoucherFormVersion ||
			fd.ReviewWorkingDays != ReviewWorkingDays || fd.In(2026).Name != "Buoni spesa 2026 - "+m.Name {
			t.Errorf("food-voucher fund of %s: %+v", m.ID, fd)
		}
		sd, ok := funds[ServiceFundID(m.ID, 2026)]
		if !ok || sd.Kind != "service" || sd.BudgetCents != service || !slices.Equal(sd.ServiceCategories, ServiceFundCategories()) {
			t.Errorf("service-voucher fund of %s: %+v", m.ID, sd)
		}
	}
}

type snapshot struct {
	counts   map[string]int
	balances map[string]int64
	hashes   map[string]string
}

func take(t *testing.T, st *store.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{counts: map[string]int{}, balances: map[string]int64{}, hashes: map[string]string{}}
	for _, table := range []string{"districts", "municipalities", "funds", "merchants", "residents", "users", "accounts", "transfers"} {
		var n int
		if err := st.Pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		s.counts[table] = n
	}
	rows, err := st.Pool.Query(ctx, `SELECT id, balance_cents FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var b int64
		if err := rows.Scan(&id, &b); err != nil {
			t.Fatal(err)
		}
		s.balances[id] = b
	}
	rows.Close()
	rows, err = st.Pool.Query(ctx, `SELECT username, password_hash FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u, h string
		if err := rows.Scan(&u, &h); err != nil {
			t.Fatal(err)
		}
		s.hashes[u] = h
	}
	rows.Close()
	return s
}

func TestRunIsIdempotent(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	now := time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC) // already 11 March in Rome

	if err := Run(ctx, st, Options{Demo: true, Now: now}); err != nil {
		t.Fatalf("first run: %v", err)
	}
	first := take(t, st)
	if err := Run(ctx, st, Options{Demo: true, Now: now.Add(2 * time.Hour)}); err != nil {
		t.Fatalf("second run: %v", err)
	}
	second := take(t, st)

	for table, n := range first.counts {
		if second.counts[table] != n {
			t.Errorf("%s: %d rows after the first run, %d after the second", table, n, second.counts[table])
		}
	}
	for id, b := range first.balances {
		if second.balances[id] != b {
			t.Errorf("account %s: balance %d then %d", id, b, second.balances[id])
		}
	}
	for u, h := range first.hashes {
		if second.hashes[u] != h {
			t.Errorf("user %s: password re-hashed by the second run", u)
		}
	}

	files, err := DistrictFiles(true)
	if err != nil {
		t.Fatal(err)
	}
	wantMunicipalities, wantFunds, wantShops, wantAccounts := 0, 0, 0, 0
	var bc district.File
	for _, f := range files {
		wantMunicipalities += len(f.Municipalities)
		wantFunds += len(f.Funds)
		wantShops += len(f.Shops)
		if f.ID != "tradate" {
			bc = f
			wantAccounts += len(f.Accounts) // Tradate's are among DemoUsers
		}
	}
	if first.counts["districts"] != 2 || first.counts["municipalities"] != wantMunicipalities || first.counts["funds"] != wantFunds {
		t.Errorf("counts = %v", first.counts)
	}
	// Every fund's funding, the demo campaign's budget (campaigns.go), and the
	// demo company's top-up and its employees' allotments (company.go).
	if first.counts["merchants"] != wantShops+len(CampaignShops()) || first.counts["users"] != len(DemoUsers())+wantAccounts ||
		first.counts["residents"] != len(Residents()) || first.counts["transfers"] != wantFunds+1+1+len(DemoCompanyEmployees()) {
		t.Errorf("counts = %v", first.counts)
	}

	if msg, err := store.LedgerCheck(ctx, st.Pool); err != nil || msg != "" {
		t.Fatalf("LedgerCheck = %q, %v", msg, err)
	}
	for _, f := range files {
		var total int64
		for _, fd := range f.Funds {
			id := fd.In(2026).ID
			b, err := store.Balance(ctx, st.Pool, store.FundAccountID(id))
			if err != nil {
				t.Fatal(err)
			}
			if b != fd.BudgetCents {
				t.Errorf("fund %s holds %d, want %d", id, b, fd.BudgetCents)
			}
			total += b
		}
		if f.ID == "tradate" {
			total += demoCampaignBudget
		}
		if b, _ := store.Balance(ctx, st.Pool, store.FundingAccountID(f.ID)); b != -total {
			t.Errorf("funding account of %s = %d, want %d", f.ID, b, -total)
		}
		for _, m := range f.Shops {
			var exists bool
			if err := st.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND kind = 'merchant')`,
				store.MerchantAccountID(m.ID)).Scan(&exists); err != nil || !exists {
				t.Errorf("merchant account of %s missing (%v)", m.ID, err)
			}
		}
	}

	// Fund dates: the start of the day in Rome, +60 and +120 days.
	var opens, closes, expires time.Time
	var name string
	if err := st.Pool.QueryRow(ctx, `SELECT name, opens_at, closes_at, expires_at FROM funds WHERE id = $1`,
		FundID("tradate", 2026)).Scan(&name, &opens, &closes, &expires); err != nil {
		t.Fatal(err)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	if want := time.Date(2026, 3, 11, 0, 0, 0, 0, rome); !opens.Equal(want) {
		t.Errorf("opens_at = %v, want %v", opens, want)
	}
	if !closes.Equal(time.Date(2026, 5, 10, 0, 0, 0, 0, rome)) || !expires.Equal(time.Date(2026, 7, 9, 0, 0, 0, 0, rome)) {
		t.Errorf("closes_at = %v, expires_at = %v", closes, expires)
	}
	if name != "Buoni spesa 2026 - Tradate" {
		t.Errorf("fund name = %q", name)
	}

	// Demo users log in with "demo"; citizens are in the registry.
	users := DemoUsers()
	for _, a := range bc.Accounts {
		users = append(users, DemoUser{Username: a.Username, Role: a.Role, Municipality: a.Municipality, TaxCode: a.TaxCode})
	}
	for _, u := range users {
		h := second.hashes[u.Username]
		if !auth.CheckPassword(h, DemoPassword) {
			t.Errorf("user %s: password %q does not verify", u.Username, DemoPassword)
		}
		if u.Role == "citizen" {
			var mun string
			if err := st.Pool.QueryRow(ctx, `SELECT municipality_id FROM residents WHERE tax_code = $1`, u.TaxCode).Scan(&mun); err != nil || mun != u.Municipality {
				t.Errorf("citizen %s (%s) not in the registry of %s: %q, %v", u.Username, u.TaxCode, u.Municipality, mun, err)
			}
		}
	}
}

func TestRunWithoutDemoCreatesNoUsers(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := Run(ctx, st, Options{}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d users without demo mode", n)
	}
	// A later demo run adds them on top.
	if err := Run(ctx, st, Options{Demo: true}); err != nil {
		t.Fatal(err)
	}
	if msg, err := store.LedgerCheck(ctx, st.Pool); err != nil || msg != "" {
		t.Fatalf("LedgerCheck = %q, %v", msg, err)
	}
}
