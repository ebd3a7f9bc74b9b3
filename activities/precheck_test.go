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
		{"registered in another district", facts(100), store.PrecheckFacts{RegistryMunicipality: "cittadella", RegistryDistrict: "alta-padovana"},
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
