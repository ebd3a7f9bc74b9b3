package forms

import (
	"slices"
	"testing"
)

// validServiceApplication returns a fresh, valid buono-servizi application.
func validServiceApplication(t testing.TB) map[string]any {
	t.Helper()
	app := validApplication(t)
	delete(app, "delivery")
	app["household"] = map[string]any{"members": 3, "minors": 1, "elderly": 1, "disabled": 0}
	app["support"] = map[string]any{"childcare": true, "silvercare": false,
		"situation": "Lavoro a turni e mia madre ha bisogno di assistenza a casa."}
	app["declarations"] = map[string]any{"truthful": true, "no_double_funding": true, "share_with_provider": true, "privacy": true}
	return app
}

func serviceProblems(t *testing.T, app map[string]any) []string {
	t.Helper()
	version, problems, err := testRegistry.Validate(ServiceVoucherForm, mustJSON(t, app), testNow)
	if err != nil || version != 1 {
		t.Fatalf("Validate: version %d, %v", version, err)
	}
	var out []string
	for _, p := range problems {
		if p.In("en") == "" || p.In("it") == "" {
			t.Errorf("%s %s: a message is missing in one language", p.Pointer, p.Code)
		}
		out = append(out, p.Pointer+" "+p.Code)
	}
	return out
}

func TestServiceVoucherFormRegistered(t *testing.T) {
	f, ok := testRegistry.Get(ServiceVoucherForm)
	if !ok || f.CasePrefix != "BSV" || f.Title == "" || f.TitleEN == "" {
		t.Fatalf("form %+v, found %v", f, ok)
	}
}

func TestServiceVoucherValid(t *testing.T) {
	if got := serviceProblems(t, validServiceApplication(t)); len(got) != 0 {
		t.Fatalf("problems %v", got)
	}
	// The optional flags may be left out: absent means not asked for.
	app := validServiceApplication(t)
	del(app, "support/silvercare")
	set(app, "support/followed_by_social_services", true)
	if got := serviceProblems(t, app); len(got) != 0 {
		t.Fatalf("problems %v", got)
	}
}

func TestServiceVoucherFieldProblems(t *testing.T) {
	cases := []struct {
		name string
		edit func(map[string]any)
		want []string
	}{
		{"no service asked for", func(a map[string]any) {
			set(a, "support/childcare", false)
		}, []string{"/support cross_field"}},
		{"blank situation", func(a map[string]any) {
			set(a, "support/situation", "   ")
		}, []string{"/support/situation min_length", "/support/situation pattern"}},
		{"short situation", func(a map[string]any) {
			set(a, "support/situation", "aiuto")
		}, []string{"/support/situation min_length"}},
		{"missing situation and consent", func(a map[string]any) {
			del(a, "support/situation")
			set(a, "declarations/share_with_provider", false)
		}, []string{"/declarations/share_with_provider const", "/support/situation required"}},
		{"only minors", func(a map[string]any) {
			set(a, "household/minors", 3)
		}, []string{"/household/minors cross_field"}},
		{"minors and elderly above members", func(a map[string]any) {
			set(a, "household/elderly", 3)
		}, []string{"/household/elderly cross_field"}},
		{"disabled above members", func(a map[string]any) {
			set(a, "household/disabled", 4)
		}, []string{"/household/disabled cross_field"}},
		{"food-voucher field", func(a map[string]any) {
			a["delivery"] = "home"
		}, []string{"/delivery additional"}},
		{"ISEE with three decimals", func(a map[string]any) {
			a["isee_euro"] = 100.001
		}, []string{"/isee_euro multiple_of"}},
		{"minor applicant", func(a map[string]any) {
			set(a, "applicant/birth_date", "2010-05-05")
		}, []string{"/applicant/birth_date cross_field"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := validServiceApplication(t)
			c.edit(app)
			got := serviceProblems(t, app)
			if !slices.Equal(got, c.want) {
				t.Errorf("problems %v, want %v", got, c.want)
			}
		})
	}
}
