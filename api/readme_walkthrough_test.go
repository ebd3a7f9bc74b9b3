package api_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sportello/internal/contract"
	"sportello/internal/seed"
	"sportello/internal/store"
)

// readmeAccount is one row of the README's demo account tables.
type readmeAccount struct {
	username, role, district, municipality, taxCode string
}

var (
	// "| `cittadino.tradate` | citizen | Maria Rossi (RSSMRA80A41L319S) | tradate / tradate |"
	readmeAccountRow = regexp.MustCompile("(?m)^\\| `([a-z][a-z0-9.]*)` \\| ([a-z_]+) \\| ([^|\\n]*) \\|(?: ([^|\\n]*) \\|)?$")
	readmeTaxCode    = regexp.MustCompile(`\(([A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}[A-Z])\)`)
	readmePassword   = regexp.MustCompile("The\\s+password\\s+of\\s+every\\s+account\\s+is\\s+`([^`]+)`")
	readmeDistrictID = regexp.MustCompile("\\(district\\s+id\\s+`([a-z0-9-]+)`\\)")
	readmeCode       = regexp.MustCompile("`([^`]+)`")
	readmePortalURL  = regexp.MustCompile(`http://127\.0\.0\.1:8080(/[^>\s)]*)`)
)

var platformRoles = []contract.Role{contract.RoleCitizen, contract.RoleOperator, contract.RoleSupervisor, contract.RoleMerchant,
	contract.RoleCooperative, contract.RoleCommerceManager, contract.RoleWelfareManager}

// readmeAccounts reads the README's demo accounts: the main table names
// each account's district (and municipality); the second district's table
// is under the heading that gives its district id.
func readmeAccounts(t *testing.T, readme string) []readmeAccount {
	t.Helper()
	second := ""
	if m := readmeDistrictID.FindStringSubmatch(readme); m != nil {
		second = m[1]
	}
	var out []readmeAccount
	for _, m := range readmeAccountRow.FindAllStringSubmatch(readme, -1) {
		if !slices.Contains(platformRoles, contract.Role(m[2])) {
			t.Fatalf("README: account %s has the role %q, which is none of the platform's", m[1], m[2])
		}
		a := readmeAccount{username: m[1], role: m[2]}
		if tc := readmeTaxCode.FindStringSubmatch(m[3]); tc != nil {
			a.taxCode = tc[1]
		}
		if place := strings.TrimSpace(m[4]); place != "" {
			place, _, _ = strings.Cut(place, " (")
			a.district, a.municipality, _ = strings.Cut(place, " / ")
		} else {
			a.district = second
		}
		out = append(out, a)
	}
	return out
}

// readmePaths are the portal's and the API's addresses the README names
// that a GET can open: every `/path` (or `GET /path`) in code spans and
// every http://127.0.0.1:8080/... link; not those with a placeholder, nor
// JSON pointers, nor other servers' paths.
func readmePaths(readme string) []string {
	notOurs := map[string]bool{
		"/api/messages": true, // the mail catcher's, on its own port
		"/api/v1":       true, // the API's base, not a resource
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p == "" || seen[p] || notOurs[p] || strings.ContainsAny(p, "{<") {
			return
		}
		seen[p] = true
		out = append(out, p)
	}
	for _, m := range readmeCode.FindAllStringSubmatch(readme, -1) {
		f := strings.Fields(m[1])
		switch {
		case len(f) == 0:
		case f[0] == "GET" && len(f) > 1:
			add(f[1])
		case strings.HasPrefix(f[0], "/"):
			add(f[0])
		}
	}
	for _, m := range readmePortalURL.FindAllStringSubmatch(readme, -1) {
		add(m[1])
	}
	return out
}

// TestReadmeWalkThrough keeps the README's front door honest: against a
// server seeded as `make run` seeds it, every demo account the README
// lists signs in with the password it gives, with the role, district,
// municipality and tax code it says; every address it names opens for a
// visitor or for one of those accounts; and the walk-throughs of issue 15
// (the company plan, the campaign, the second district) find what they
// promise.
func TestReadmeWalkThrough(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	pm := readmePassword.FindStringSubmatch(readme)
	if pm == nil {
		t.Fatal("README: no sentence gives the demo accounts' password")
	}
	password := pm[1]
	accounts := readmeAccounts(t, readme)
	if len(accounts) < 10 {
		t.Fatalf("README: only %d demo accounts found in its tables", len(accounts))
	}

	e := newEnv(t)
	// `sportello dev` seeds the demo vouchers too (cmd/sportello/dev.go).
	if err := seed.Run(context.Background(), e.st, seed.Options{Demo: true, DemoVouchers: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed as dev: %v", err)
	}

	// Every account: the README's password, role and place.
	tokens := map[string]string{}
	portal := map[string]*browser{}
	for _, a := range accounts {
		r := e.do("POST", "/api/v1/session", "", map[string]string{"username": a.username, "password": password})
		if r.status != http.StatusOK {
			t.Errorf("README account %s does not sign in with %q: %d %s", a.username, password, r.status, r.body)
			continue
		}
		var lr struct {
			Token string `json:"token"`
		}
		r.json(t, &lr)
		tokens[a.username] = lr.Token
		var me store.UserView
		e.do("GET", "/api/v1/me", "", nil, hdr{"Authorization": "Bearer " + lr.Token}).json(t, &me)
		if me.Role != a.role || me.District != a.district || (a.municipality != "" && me.Municipality != a.municipality) ||
			(a.taxCode != "" && me.TaxCode != a.taxCode) {
			t.Errorf("README says %s is %s of %s/%s (%s); the platform: %s of %s/%s (%s)", a.username, a.role, a.district,
				a.municipality, a.taxCode, me.Role, me.District, me.Municipality, me.TaxCode)
		}
		b := e.browser()
		p := b.post("/login", url.Values{"username": {a.username}, "password": {password}, "next": {"/"}})
		if p.status != http.StatusSeeOther {
			t.Errorf("README account %s does not sign in to the portal: %d", a.username, p.status)
			continue
		}
		portal[a.username] = b
	}

	// Every address: open for a visitor or for one of the accounts.
	for _, path := range readmePaths(readme) {
		var tried []string
		opened := false
		for _, who := range append([]string{""}, slices.Sorted(func(yield func(string) bool) {
			for u := range tokens {
				if !yield(u) {
					return
				}
			}
		})...) {
			status := 0
			if strings.HasPrefix(path, "/api/") {
				var h []hdr
				if who != "" {
					h = append(h, hdr{"Authorization": "Bearer " + tokens[who]})
				}
				status = e.do("GET", path, "", nil, h...).status
			} else {
				b := e.browser()
				if who != "" {
					b = portal[who]
				}
				status = b.get(path).status
			}
			if status == http.StatusOK {
				opened = true
				break
			}
			tried = append(tried, who+"="+http.StatusText(status))
		}
		if !opened {
			t.Errorf("README names %s, which opens for nobody (%v)", path, tried)
		}
	}

	t.Run("campaign", func(t *testing.T) {
		// "the six approved shops", "a budget of EUR 20,000", "adds 20%", "up to EUR 50 per person", "at least EUR 10"
		for _, claim := range []string{"six approved shops", "budget of EUR 20,000", "adds 20%", "up to EUR 50 per person",
			"at least EUR 10", "butcher's pending application", "**Campagne del commercio locale** (`/campaigns`)"} {
			if !strings.Contains(strings.Join(strings.Fields(readme), " "), claim) {
				t.Fatalf("README no longer says %q: update this test with it", claim)
			}
		}
		var list struct {
			Items []store.Campaign `json:"items"`
		}
		e.do("GET", "/api/v1/campaigns", "", nil).json(t, &list)
		id := ""
		for _, c := range list.Items {
			if c.NameIT == seed.DemoCampaignNameIT && c.Municipality == "tradate" && c.Status == "published" {
				id = c.ID
			}
		}
		if id == "" {
			t.Fatalf("no published %q in Tradate for a visitor: %+v", seed.DemoCampaignNameIT, list.Items)
		}
		var c store.Campaign
		e.do("GET", "/api/v1/campaigns/"+id, "", nil).json(t, &c)
		if len(c.Shops) != 6 || c.BudgetCents != 20_000_00 || c.Rule.Percent != 20 || c.Rule.CapPerPersonCents != 50_00 || c.Rule.MinPurchaseCents != 10_00 {
			t.Errorf("the campaign is not the README's: %d shops, budget %d, rule %+v", len(c.Shops), c.BudgetCents, c.Rule)
		}
		p := e.browser().get("/campaigns")
		expectPage(t, p, http.StatusOK, seed.DemoCampaignNameIT)
		var apps struct {
			Items []store.CampaignApplication `json:"items"`
		}
		e.do("GET", "/api/v1/campaign-applications", "", nil, hdr{"Authorization": "Bearer " + tokens["commercio.tradate"]}).json(t, &apps)
		pending := false
		for _, a := range apps.Items {
			pending = pending || (a.Status == "applied" && strings.Contains(strings.ToLower(a.MerchantName), "macelleria"))
		}
		if !pending {
			t.Errorf("commercio.tradate sees no pending application of a butcher: %+v", apps.Items)
		}
		expectPage(t, portal["commercio.tradate"].get("/manage/campaigns"), http.StatusOK, seed.DemoCampaignNameIT)
	})

	t.Run("company", func(t *testing.T) {
		for _, claim := range []string{"EUR 600 a year per employee", "balance EUR 1,800", "Meccanica Tradatese S.r.l.",
			"Luca Colombo", "open **Welfare aziendale** (`/azienda`)"} {
			if !strings.Contains(strings.Join(strings.Fields(readme), " "), claim) {
				t.Fatalf("README no longer says %q: update this test with it", claim)
			}
		}
		var o store.CompanyOverview
		e.do("GET", "/api/v1/company", "", nil, hdr{"Authorization": "Bearer " + tokens[seed.DemoWelfareManager]}).json(t, &o)
		if o.Company.Name != "Meccanica Tradatese S.r.l." || o.Plan.AnnualCreditCents != 600_00 || o.BalanceCents != 1_800_00 || o.Enrolled != 2 {
			t.Errorf("the company is not the README's: %+v", o)
		}
		r := e.do("GET", "/api/v1/me/company-credits", "", nil, hdr{"Authorization": "Bearer " + tokens["cittadino.tradate"]})
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "meccanica-tradatese") {
			t.Errorf("Maria has no company credit: %d %s", r.status, r.body)
		}
		expectPage(t, portal[seed.DemoWelfareManager].get("/azienda"), http.StatusOK, "Meccanica Tradatese S.r.l.", "Tradate")
	})

	t.Run("second district", func(t *testing.T) {
		for _, claim := range []string{"Piazzola sul Brenta's food-voucher call", "**Bandi aperti** (`/open-calls`, readable without signing in)",
			"`deploy/districts/bene-comune.json`", "F.A.I. Padova, Il Portico, Jonathan, Polis Nova and Progetto Now"} {
			if !strings.Contains(strings.Join(strings.Fields(readme), " "), claim) {
				t.Fatalf("README no longer says %q: update this test with it", claim)
			}
		}
		b := portal["cittadina.piazzola"]
		expectPage(t, b.get("/"), http.StatusOK, "Welfare Bene Comune", "background-color: #1b6b50")
		p := b.get("/open-calls")
		expectPage(t, p, http.StatusOK, "Piazzola sul Brenta")
		if strings.Contains(p.body, "Tradate") {
			t.Error("Bene Comune's open calls show Tradate")
		}
		p = b.get("/services")
		expectPage(t, p, http.StatusOK, "Tutoraggio compiti online")
		for _, coop := range []string{"F.A.I. Padova", "Il Portico", "Jonathan", "Polis Nova", "Progetto Now"} {
			if !strings.Contains(p.body, coop) && !strings.Contains(b.get("/services?q="+url.QueryEscape(coop)).body, coop) {
				t.Errorf("Servizi does not show the cooperative %s", coop)
			}
		}
		// "with her prices": by her ISEE band once she declares it (Polis
		// Nova's parents' counselling, EUR 45 a session: 20% up to EUR
		// 8,000 of ISEE).
		counselling := func() string {
			t.Helper()
			p := b.get("/services?q=" + url.QueryEscape("Consulenza educativa per genitori"))
			expectPage(t, p, http.StatusOK, "Consulenza educativa per genitori")
			return p.body
		}
		yours := regexp.MustCompile(`service-your-price">[^<]*<strong>([^<]*)</strong>`)
		if body := counselling(); !strings.Contains(body, "45,00") || yours.MatchString(body) {
			t.Errorf("not the list price alone before an ISEE is declared:\n%s", body)
		}
		expectStatus(t, e.do("PUT", "/api/v1/me/isee", "", map[string]any{"isee_euro": 7000},
			hdr{"Authorization": "Bearer " + tokens["cittadina.piazzola"]}), http.StatusOK)
		if m := yours.FindStringSubmatch(counselling()); m == nil || !regexp.MustCompile(`(^|[^0-9])9,00`).MatchString(m[1]) {
			t.Errorf("her price is %q, want EUR 9.00 (her ISEE band)", m)
		}
		expectPage(t, portal["operatore.piazzola"].get("/"), http.StatusOK, "Welfare Bene Comune")
	})
}
