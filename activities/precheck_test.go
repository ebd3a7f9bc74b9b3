package activities

import (
	"testing"

	"sportello/internal/store"
)

func TestEvaluatePrecheck(t *testing.T) {
	c := store.CaseInfo{DistrictID: "tradate", MunicipalityID: "tradate",
		Fund: store.FundTerms{ISEEThresholdCents: 1500000}}
	facts := func(isee float64) store.ApplicationFacts {
		var f store.ApplicationFacts
		f.ISEEEuro = isee
		return f
	}
	resident := store.PrecheckFacts{RegistryMunicipality: "tradate", RegistryDistrict: "tradate", Household: "F1"}
	cases := []struct {
		name  string
		facts store.ApplicationFacts
		reg   store.PrecheckFacts
		want  map[string]string
	}{
		{"all clear", facts(7200.5), resident, map[string]string{"residence": "pass", "isee": "pass", "other_awards": "pass", "household": "pass"}},
		{"not in any registry", facts(100), store.PrecheckFacts{}, map[string]string{"residence": "fail", "isee": "pass", "other_awards": "pass",
			"household": "warn"}},
		{"registered in another district", facts(100), store.PrecheckFacts{RegistryMunicipality: "limena", RegistryDistrict: "alta-padovana"},
			map[string]string{"residence": "fail"}},
		{"registered in another town of the district", facts(100), store.PrecheckFacts{RegistryMunicipality: "vedano-olona", RegistryDistrict: "tradate"},
			map[string]string{"residence": "warn"}},
		{"ISEE one cent under the threshold", facts(14999.99), resident, map[string]string{"isee": "pass"}},
		{"ISEE at the threshold", facts(15000), resident, map[string]string{"isee": "fail"}},
		{"already awarded", facts(100), store.PrecheckFacts{RegistryMunicipality: "tradate", RegistryDistrict: "tradate", OtherAwards: 1},
			map[string]string{"other_awards": "fail"}},
		{"household already awarded", facts(100), store.PrecheckFacts{RegistryMunicipality: "tradate", RegistryDistrict: "tradate",
			Household: "F1", HouseholdAwards: 1}, map[string]string{"other_awards": "pass", "household": "fail"}},
		{"household member's application pending", facts(100), store.PrecheckFacts{RegistryMunicipality: "tradate",
			RegistryDistrict: "tradate", Household: "F1", HouseholdPending: 1}, map[string]string{"household": "warn"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			for _, ch := range EvaluatePrecheck(c, tc.facts, tc.reg) {
				if ch.Detail == "" || ch.DetailIT == "" {
					t.Errorf("check %s lacks a detail in English or Italian", ch.Name)
				}
				got[ch.Name] = ch.Outcome
			}
			if len(got) != 4 {
				t.Fatalf("got %d checks, want 4: %v", len(got), got)
			}
			for name, outcome := range tc.want {
				if got[name] != outcome {
					t.Errorf("%s = %s, want %s", name, got[name], outcome)
				}
			}
		})
	}
}

func TestDefaultAwardRule(t *testing.T) {
	r := store.AwardRule{BaseCents: 15000, PerExtraMemberCents: 10000, PerMinorCents: 5000, MaxCents: 55000}
	for _, tc := range []struct {
		members, minors int
		want            int64
	}{
		{1, 0, 15000}, {3, 1, 40000}, {4, 2, 55000}, {20, 19, 55000}, {0, -1, 15000},
	} {
		if got := r.Amount(tc.members, tc.minors); got != tc.want {
			t.Errorf("Amount(%d, %d) = %d, want %d", tc.members, tc.minors, got, tc.want)
		}
	}
}

func TestEuroFormatting(t *testing.T) {
	for cents, want := range map[int64]string{0: "0,00", 720050: "7.200,50", 1500000: "15.000,00", 123456789: "1.234.567,89"} {
		if got := euro(cents); got != want {
			t.Errorf("euro(%d) = %q, want %q", cents, got, want)
		}
	}
}

// Issue 16: the pre-check names municipalities by their names, counts in
// the singular or the plural, and names the other cases (the staff's page
// links them).
func TestPrecheckWording(t *testing.T) {
	c := store.CaseInfo{ID: "BS-2026-000200", DistrictID: "tradate", MunicipalityID: "tradate",
		Fund: store.FundTerms{ISEEThresholdCents: 1500000}}
	detail := func(reg store.PrecheckFacts, name string) (string, string) {
		for _, ch := range EvaluatePrecheck(c, store.ApplicationFacts{}, reg) {
			if ch.Name == name {
				return ch.DetailIT, ch.Detail
			}
		}
		t.Fatalf("no check %s", name)
		return "", ""
	}
	reg := store.PrecheckFacts{RegistryMunicipality: "tradate", RegistryMunicipalityName: "Tradate", RegistryDistrict: "tradate",
		DeclaredMunicipalityName: "Tradate", Household: "F1"}
	if it, en := detail(reg, "residence"); it != "residente in anagrafe a Tradate" || en != "resident in Tradate" {
		t.Errorf("residence: %q %q", it, en)
	}
	other := reg
	other.RegistryMunicipality, other.RegistryMunicipalityName = "vedano-olona", "Vedano Olona"
	if it, _ := detail(other, "residence"); it != "residente in anagrafe a Vedano Olona, ma la domanda dichiara Tradate" {
		t.Errorf("residence elsewhere: %q", it)
	}
	one := reg
	one.OtherAwards, one.OtherAwardCases = 1, []string{"BS-2026-000123"}
	if it, en := detail(one, "other_awards"); it != "1 altro buono dallo stesso fondo per lo stesso codice fiscale (BS-2026-000123)" ||
		en != "1 other award from this fund for the same tax code (BS-2026-000123)" {
		t.Errorf("one other award: %q %q", it, en)
	}
	two := reg
	two.OtherAwards, two.OtherAwardCases = 2, []string{"BS-2026-000123", "BS-2026-000124"}
	if it, _ := detail(two, "other_awards"); it != "2 altri buoni dallo stesso fondo per lo stesso codice fiscale (BS-2026-000123, BS-2026-000124)" {
		t.Errorf("two other awards: %q", it)
	}
	hh := reg
	hh.HouseholdAwards = 1
	if it, _ := detail(hh, "household"); it != "1 altro componente del nucleo F1 ha già un buono dallo stesso fondo" {
		t.Errorf("household: %q", it)
	}
	hh.HouseholdAwards, hh.HouseholdPending = 0, 2
	if it, _ := detail(hh, "household"); it != "2 altri componenti del nucleo F1 hanno chiesto lo stesso fondo; le domande sono in istruttoria" {
		t.Errorf("household pending: %q", it)
	}
}
