package seed

import (
	"strings"
	"testing"

	"sportello/internal/app/infopages"
	"sportello/internal/district"
	"sportello/internal/richtext"
)

// Every seeded page and news item passes the editor's own checks, and
// every district has every page in both languages.
func TestSeededPagesPassTheEditorsChecks(t *testing.T) {
	have := map[string]bool{}
	for _, p := range InfoPages() {
		have[p.District+"/"+p.Slug+"/"+p.Lang] = true
		if q := richtext.Check(p.Body); q != nil {
			t.Errorf("page %s/%s/%s: %+v", p.District, p.Slug, p.Lang, q)
		}
		if p.Title == "" || len(p.Title) > richtext.MaxTitle {
			t.Errorf("page %s/%s/%s: title %q", p.District, p.Slug, p.Lang, p.Title)
		}
	}
	for _, f := range districtFacts() {
		for _, slug := range infopages.Slugs {
			for _, lang := range infopages.Langs {
				if !have[f.District+"/"+slug+"/"+lang] {
					t.Errorf("no seeded page %s/%s/%s", f.District, slug, lang)
				}
			}
		}
	}
	for _, n := range NewsItems() {
		if p := richtext.Check(n.Body); p != nil || n.Title == "" {
			t.Errorf("news %s: %+v", n.ID, p)
		}
	}
}

// A district no demo fact names gets every page in both languages from its
// file's contacts (its e-mail where no DPO is named, no call-centre hours
// left dangling), passing the editor's checks.
func TestPagesOfANewDistrict(t *testing.T) {
	f := mustFiles()[0]
	f.ID, f.Contacts.CallCentreHours, f.Contacts.DPO = "nuovo-ambito", district.Text{}, ""
	have := map[string]string{}
	for _, p := range PagesOf(f) {
		have[p.Slug+"/"+p.Lang] = p.Body
		if p.District != f.ID || !p.Published {
			t.Errorf("page %s/%s: district %s, published %v", p.Slug, p.Lang, p.District, p.Published)
		}
		if q := richtext.Check(p.Body); q != nil {
			t.Errorf("page %s/%s: %+v", p.Slug, p.Lang, q)
		}
	}
	for _, slug := range infopages.Slugs {
		for _, lang := range infopages.Langs {
			if have[slug+"/"+lang] == "" {
				t.Errorf("no page %s/%s", slug, lang)
			}
		}
	}
	if b := have["privacy/it"]; !strings.Contains(b, f.Contacts.Email) || !strings.Contains(b, f.Name.IT) {
		t.Errorf("privacy notice without the district's name and e-mail:\n%s", b)
	}
	if b := have["contatti/it"]; strings.Contains(b, ", .") || !strings.Contains(b, f.Contacts.Phone) || !strings.Contains(b, f.SocialPoints[0].Name) {
		t.Errorf("contacts:\n%s", b)
	}
	if b := have["accessibilita/en"]; !strings.Contains(b, f.Name.EN) || !strings.Contains(b, "## Compliance status") {
		t.Errorf("accessibility statement:\n%s", b)
	}
}
