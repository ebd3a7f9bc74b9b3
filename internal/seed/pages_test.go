package seed

import (
	"testing"

	"sportello/internal/app/infopages"
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
