package api_test

import (
	"net/http"
	"regexp"
	"testing"
)

// The municipality of residence is a select of the citizen's district, with
// the citizen's own municipality preselected, and the summary names it.
func TestWebMunicipalityIsAChoiceOfTheDistrict(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("cittadino.tradate")
	p := b.get("/apply/buoni-spesa/data")
	expectPage(t, p, http.StatusOK, `name="/residence/municipality"`, "Castiglione Olona", "Venegono Superiore")
	sel := regexp.MustCompile(`(?s)<select[^>]*name="/residence/municipality".*?</select>`).FindString(p.body)
	if sel == "" {
		t.Fatalf("the municipality is not a select:\n%s", p.body)
	}
	if !regexp.MustCompile(`<option[^>]*value="tradate"[^>]*selected`).MatchString(sel) {
		t.Fatalf("the citizen's municipality is not preselected: %s", sel)
	}
	if regexp.MustCompile(`Limena|Campodoro|Piazzola`).MatchString(sel) {
		t.Fatalf("another district's municipalities are offered: %s", sel)
	}
	// The form keeps the schema's order: residence comes after the applicant.
	if i, j := regexp.MustCompile(`name="/applicant/first_name"`).FindStringIndex(p.body), sel; i == nil || regexp.MustCompile(`name="/residence/address"`).FindStringIndex(p.body)[0] < i[0] || j == "" {
		t.Fatalf("fields out of order")
	}
	summary := b.post("/apply/buoni-spesa/data", applicationForm(t, "cittadino.tradate"))
	expectPage(t, summary, http.StatusOK)
	if !regexp.MustCompile(`<dd>\s*Tradate\s*</dd>`).MatchString(summary.body) {
		t.Fatalf("the summary does not name the municipality:\n%s", summary.body)
	}
}
