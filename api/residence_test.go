package api_test

import (
	"context"
	"strings"
	"testing"
)

// Finding 5 of issue 10: a citizen resident in Vedano Olona declared
// residence "tradate" and the application went to Tradate's queue and fund
// with only a warning. The population registry decides the municipality.
func TestRegistryDecidesTheMunicipality(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var tradateFund string
	if err := e.st.Pool.QueryRow(ctx, `SELECT id FROM funds WHERE municipality_id = 'tradate' AND form_id = 'buoni-spesa'`).
		Scan(&tradateFund); err != nil {
		t.Fatal(err)
	}

	for _, declared := range []string{"tradate"} {
		app := application(t, "cittadino.vedano")
		dataOf(app)["residence"].(map[string]any)["municipality"] = declared
		r := e.do("POST", "/api/v1/applications", "cittadino.vedano", app)
		ptr, _, code := fieldOf(t, r)
		if ptr != "/data/residence/municipality" || code != "residence_not_registry" {
			t.Fatalf("residence %q against the registry: %s %s", declared, ptr, code)
		}
		f := r.errorBody(t).Fields[0]
		if !strings.Contains(f.Message, "Vedano Olona") || !strings.Contains(f.MessageIT, "Vedano Olona") ||
			!strings.Contains(f.MessageIT, "anagrafe") {
			t.Errorf("the message should name the registry's municipality: %+v", f)
		}
	}
	// Nothing reached Tradate: no case, no task, nothing on its fund.
	var cases, tasks int
	if err := e.st.Pool.QueryRow(ctx, `SELECT count(*) FROM cases WHERE fund_id = $1 OR municipality_id = 'tradate'`, tradateFund).
		Scan(&cases); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE municipality_id = 'tradate'`).Scan(&tasks); err != nil {
		t.Fatal(err)
	}
	if cases != 0 || tasks != 0 {
		t.Fatalf("Tradate got %d case(s) and %d task(s) from a Vedano resident", cases, tasks)
	}
	var l list[taskView]
	e.do("GET", "/api/v1/tasks", "operatore.tradate", nil).json(t, &l)
	if l.Total != 0 {
		t.Fatalf("Tradate's queue holds %d task(s)", l.Total)
	}

	// Declaring the registry's municipality files the case there.
	c := e.apply("cittadino.vedano")
	if c.Municipality != "vedano-olona" {
		t.Fatalf("filed to %q, want vedano-olona", c.Municipality)
	}
	// A tax code outside the registry is filed where declared; its
	// pre-check fails the residence and a social worker decides.
	if _, err := e.st.Pool.Exec(ctx, `DELETE FROM residents WHERE tax_code = (SELECT tax_code FROM users WHERE username = 'cittadino.tradate')`); err != nil {
		t.Fatal(err)
	}
	m := e.apply("cittadino.tradate")
	if m.Municipality != "tradate" {
		t.Fatalf("a citizen outside the registry filed to %q, want tradate", m.Municipality)
	}
}
