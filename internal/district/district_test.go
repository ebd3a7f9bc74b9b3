package district_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"sportello/deploy/districts"
	"sportello/internal/district"
)

func TestDeployedFilesAreValid(t *testing.T) {
	for _, name := range districts.Demo {
		f, err := district.LoadFS(districts.Files, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Logo.SVG == "" || f.Logo.Path != "" {
			t.Errorf("%s: logo not read inline: %+v", name, f.Logo)
		}
		// Every municipality has its ISTAT code and its patron saint, but
		// those whose feast no source gives as a fixed weekday: Campodoro's
		// (Santa Margherita) is the fourth Sunday of August; for
		// Castelseprio and Gornate Olona the sources name none.
		for _, m := range f.Municipalities {
			noPatron := slices.Contains([]string{"campodoro", "castelseprio", "gornate-olona"}, m.ID)
			if m.ISTATCode == "" || (m.Patron == nil) != noPatron {
				t.Errorf("%s: ISTAT code %q, patron %+v", m.Name, m.ISTATCode, m.Patron)
			}
		}
	}
	bc, err := district.LoadFS(districts.Files, "bene-comune.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range bc.Municipalities {
		names = append(names, m.Name)
	}
	if want := []string{"Piazzola sul Brenta", "Campodoro", "Campo San Martino", "Limena", "Villafranca Padovana"}; !slices.Equal(names, want) {
		t.Errorf("municipalities %v, want %v", names, want)
	}
	var coops []string
	for _, c := range bc.Cooperatives {
		coops = append(coops, c.Name)
	}
	if want := []string{"F.A.I. Padova", "Il Portico", "Jonathan", "Polis Nova", "Progetto Now"}; !slices.Equal(coops, want) {
		t.Errorf("cooperatives %v, want %v", coops, want)
	}
	food := false
	for _, fd := range bc.Funds {
		food = food || (fd.Kind == "food" && fd.Municipality == "piazzola-sul-brenta")
	}
	if !food || len(bc.SocialPoints) == 0 || len(bc.Shops) == 0 {
		t.Errorf("Bene Comune lacks Piazzola's food-voucher call, a Social Point or shops")
	}
}

// mutate returns the Bene Comune file changed by fn.
func mutate(t *testing.T, fn func(doc map[string]any)) []byte {
	t.Helper()
	raw, err := districts.Files.ReadFile("bene-comune.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["logo"] = map[string]any{"svg": `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"></svg>`,
		"alt": map[string]any{"it": "Logo", "en": "Logo"}}
	fn(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRefusedWithFieldPointers(t *testing.T) {
	at := func(doc map[string]any, section string, i int) map[string]any {
		return doc[section].([]any)[i].(map[string]any)
	}
	cases := []struct {
		name string
		fn   func(map[string]any)
		want []string // pointers
	}{
		{"valid", func(map[string]any) {}, nil},
		{"unknown top-level field", func(d map[string]any) { d["colour"] = "#000000" }, []string{""}},
		{"missing name", func(d map[string]any) { delete(d, "name") }, []string{""}},
		{"English name missing", func(d map[string]any) { d["name"] = map[string]any{"it": "X"} }, []string{"/name"}},
		{"bad id", func(d map[string]any) { d["id"] = "Bene Comune" }, []string{"/id"}},
		{"light colour", func(d map[string]any) { d["colours"].(map[string]any)["primary"] = "#ffcc00" }, []string{"/colours/primary"}},
		{"not a colour", func(d map[string]any) { d["colours"].(map[string]any)["dark"] = "green" }, []string{"/colours/dark"}},
		{"bad e-mail", func(d map[string]any) { d["contacts"].(map[string]any)["email"] = "no" }, []string{"/contacts/email"}},
		{"ISTAT code", func(d map[string]any) { at(d, "municipalities", 1)["istat_code"] = "28018" }, []string{"/municipalities/1/istat_code"}},
		{"30 February", func(d map[string]any) {
			at(d, "municipalities", 2)["patron"] = map[string]any{"saint": "X", "month": 2, "day": 30}
		}, []string{"/municipalities/2/patron/day"}},
		{"unknown municipality of a service", func(d map[string]any) {
			at(d, "services", 2)["municipalities"] = []any{"piazzola-sul-brenta", "vigonza"}
		}, []string{"/services/2/municipalities/1"}},
		{"unknown cooperative", func(d map[string]any) { at(d, "services", 0)["cooperative"] = "baobab" }, []string{"/services/0/cooperative"}},
		{"bands going down", func(d map[string]any) {
			at(d, "services", 0)["isee_bands"] = []any{map[string]any{"max_isee_euro": 9000, "percent": 20},
				map[string]any{"max_isee_euro": 8000, "percent": 50}, map[string]any{"percent": 100}}
		}, []string{"/services/0/isee_bands/1/max_isee_euro"}},
		{"tranches not 100%", func(d map[string]any) {
			at(d, "funds", 0)["tranches"] = []any{map[string]any{"percent": 50, "after_days": 0}}
		}, []string{"/funds/0/tranches"}},
		{"operator without municipality", func(d map[string]any) { delete(at(d, "accounts", 1), "municipality") }, []string{"/accounts/1/municipality"}},
		{"duplicate shop", func(d map[string]any) { at(d, "shops", 1)["id"] = at(d, "shops", 0)["id"] }, []string{"/shops/1/id"}},
		{"bands in a municipality not served", func(d map[string]any) {
			at(d, "services", 2)["isee_bands_in"] = []any{"campodoro", "limena"}
		}, []string{"/services/2/isee_bands_in/1"}},
		{"accreditation ends before it starts", func(d map[string]any) {
			at(d, "cooperatives", 0)["accredited_from"], at(d, "cooperatives", 0)["accredited_until"] = "+30d", "-30d"
		}, []string{"/cooperatives/0/accredited_until"}},
		{"not a day", func(d map[string]any) { at(d, "cooperatives", 1)["accredited_until"] = "in 3 years" }, []string{"/cooperatives/1/accredited_until"}},
		{"a yearly fund's id", func(d map[string]any) { at(d, "funds", 1)["id"] = "buoni-spesa-limena-{anno}" }, []string{"/funds/1/id"}},
		{"a team's member of another municipality", func(d map[string]any) {
			at(d, "teams", 1)["members"] = []any{"operatrice.limena", "operatore.piazzola"}
		}, []string{"/teams/1/members/1"}},
		{"a citizen in a team", func(d map[string]any) {
			at(d, "teams", 0)["members"] = []any{"cittadina.piazzola"}
		}, []string{"/teams/0/members/0"}},
		{"a team reviewing another municipality's fund", func(d map[string]any) {
			at(d, "teams", 1)["reviews"] = []any{"buoni-spesa-piazzola-sul-brenta", "buoni-spesa-altrove"}
		}, []string{"/teams/1/reviews/0", "/teams/1/reviews/1"}},
		{"two teams of one name", func(d map[string]any) { at(d, "teams", 1)["name"] = "servizio sociale – piazzola sul brenta" }, []string{"/teams/1/name"}},
		{"a welfare manager without a company", func(d map[string]any) {
			d["accounts"] = append(d["accounts"].([]any), map[string]any{"username": "welfare.x", "role": "welfare_manager",
				"display_name": "X", "email": "x@example.org"})
		}, []string{"/accounts/8/company"}},
		{"a company not in the file, on an operator", func(d map[string]any) {
			withCompany(d)
			at(d, "accounts", 1)["company"] = "altra-spa"
			at(d, "social_points", 0)["host_company"] = "altra-spa"
		}, []string{"/accounts/1/company", "/social_points/0/host_company"}},
		{"a plan ending before it starts, listed twice", func(d map[string]any) {
			withCompany(d)
			c := d["companies"].([]any)[0].(map[string]any)
			plan := c["plans"].([]any)[0].(map[string]any)
			plan["valid_from"], plan["valid_until"] = "2027-12-31", "2027-01-01"
			c["plans"] = append(c["plans"].([]any), plan)
		}, []string{"/companies/0/plans/0/valid_until", "/companies/0/plans/1/id"}},
		{"a plan on no category", func(d map[string]any) {
			withCompany(d)
			d["companies"].([]any)[0].(map[string]any)["plans"].([]any)[0].(map[string]any)["categories"] = []any{}
		}, []string{"/companies/0/plans/0/categories"}},
		{"a company, its welfare manager and its Social Point", func(d map[string]any) {
			withCompany(d)
			at(d, "social_points", 0)["host_company"] = "brenta-meccanica"
		}, nil},
		{"script in the logo", func(d map[string]any) {
			d["logo"].(map[string]any)["svg"] = `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`
		}, []string{"/logo"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := district.Parse(mutate(t, c.fn), nil)
			var inv *district.InvalidError
			if c.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v, want field errors at %v", err, c.want)
			}
			var got []string
			for _, e := range inv.Errors {
				got = append(got, e.Pointer)
				if e.Message == "" {
					t.Errorf("%s: no message", e.Pointer)
				}
			}
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("errors %v, want one at %q", inv.Errors, w)
				}
			}
		})
	}
}

// withCompany adds a company with a plan and its welfare manager.
func withCompany(d map[string]any) {
	d["companies"] = []any{map[string]any{"id": "brenta-meccanica", "name": "Brenta Meccanica S.p.A.", "vat_number": "01234567890",
		"plans": []any{map[string]any{"id": "brenta-meccanica-2027", "name": "Piano welfare 2027", "annual_credit_cents": 50000,
			"categories": []any{"childcare", "youcare"}, "valid_from": "2027-01-01", "valid_until": "2027-12-31"}}}}
	d["accounts"] = append(d["accounts"].([]any), map[string]any{"username": "welfare.brenta", "role": "welfare_manager",
		"display_name": "Welfare Brenta Meccanica", "email": "welfare@brenta.example.org", "company": "brenta-meccanica"})
}

func TestLogoPathNeedsAReader(t *testing.T) {
	raw, _ := districts.Files.ReadFile("bene-comune.json")
	_, err := district.Parse(raw, nil)
	if err == nil || !strings.Contains(err.Error(), "/logo/path") {
		t.Fatalf("err = %v, want a /logo/path error", err)
	}
}

func TestContrast(t *testing.T) {
	for colour, want := range map[string]float64{"#ffffff": 1, "#000000": 21, "#0066cc": 5.57} {
		if got := district.Contrast(colour); got < want-0.01 || got > want+0.01 {
			t.Errorf("Contrast(%s) = %.2f, want %.2f", colour, got, want)
		}
	}
}
