package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"sportello/internal/seed"
	"sportello/internal/store"
)

func csvLine(r seed.Resident, comune, household string) string {
	return r.TaxCode() + ";" + r.LastName + ";" + r.FirstName + ";" + r.Born.Format(time.DateOnly) + ";" + comune + ";" + household + "\n"
}

// TestRegistryImportAPI: POST /api/v1/registry/imports. An operator's dry
// run of their municipality's extract shows the diff and writes nothing;
// the import applies it (201), the same file again changes nothing; a file
// with problems is a 422 naming each line, and nothing is imported; another
// municipality is 403 for an operator, fine for the district's
// supervisor; the list shows the caller's imports only.
func TestRegistryImportAPI(t *testing.T) {
	e := newEnv(t)
	csv := hdr{"Content-Type": "text/csv; charset=utf-8", "X-File-Name": "anagrafe-tradate.csv"}
	res := seed.Residents()
	maria, luca, marco := res[0], res[2], res[6]
	newcomer := seed.Resident{FirstName: "Sara", LastName: "Conti", Female: true, Born: time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC), BirthPlace: "L319"}
	file := "\uFEFFcodice_fiscale;cognome;nome;data_nascita;comune;id_famiglia\n" + csvLine(maria, "L319", "100001") +
		csvLine(marco, "L319", "100001") + csvLine(newcomer, "L319", "100003")

	var diff store.RegistryDiff
	r := e.do("POST", "/api/v1/registry/imports?dry_run=true", "operatore.tradate", file, csv)
	if r.status != http.StatusOK {
		t.Fatalf("dry run: %d %s", r.status, r.body)
	}
	r.json(t, &diff)
	if !diff.DryRun || diff.Municipality != "tradate" || diff.New != 1 || diff.Gone != 1 || diff.Unchanged != 2 ||
		len(diff.GoneRows) != 1 || diff.GoneRows[0].TaxCode != luca.TaxCode() {
		t.Fatalf("dry run = %+v", diff)
	}
	active := `SELECT count(*) FROM residents WHERE municipality_id = 'tradate' AND ceased_at IS NULL`
	if n := e.count(active); n != 3 {
		t.Fatalf("after the dry run %d residents of Tradate, want the 3 of the demo", n)
	}
	r = e.do("POST", "/api/v1/registry/imports", "operatore.tradate", file, csv)
	if r.status != http.StatusCreated {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	if n := e.count(active); n != 3 || e.count(`SELECT count(*) FROM residents WHERE tax_code = $1 AND ceased_at IS NOT NULL`, luca.TaxCode()) != 1 {
		t.Fatalf("after the import %d residents of Tradate (want 3: Maria, Marco, Sara), Luca not gone", n)
	}
	r = e.do("POST", "/api/v1/registry/imports", "operatore.tradate", file, csv)
	r.json(t, &diff)
	if r.status != http.StatusCreated || diff.Changes() || diff.Unchanged != 3 {
		t.Fatalf("second import: %d %+v", r.status, diff)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'registry_import' AND actor_username = 'operatore.tradate'`); n != 2 {
		t.Errorf("%d audit rows of imports, want 2", n)
	}

	// A file with problems: 422, line by line, nothing imported.
	bad := "codice_fiscale;cognome;nome;data_nascita;comune;id_famiglia\n" + csvLine(maria, "L319", "100001") +
		"RSSMRA80A01L319X;Rossi;Mario;1980-01-01;L319;100001\n" + csvLine(luca, "L319", "")
	r = e.do("POST", "/api/v1/registry/imports", "operatore.tradate", bad, csv)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad file: %d %s", r.status, r.body)
	}
	eb := r.errorBody(t)
	var pointers []string
	for _, f := range eb.Fields {
		pointers = append(pointers, f.Pointer+"="+f.Code)
	}
	if got := strings.Join(pointers, " "); got != "/lines/3/codice_fiscale=tax_code_invalid /lines/4/id_famiglia=required" ||
		!strings.Contains(eb.Fields[0].MessageIT, "Riga 3, colonna codice_fiscale: codice fiscale non valido") {
		t.Errorf("problems: %s (%+v)", got, eb.Fields)
	}
	if n := e.count(`SELECT count(*) FROM residents WHERE tax_code = $1 AND ceased_at IS NULL`, luca.TaxCode()); n != 0 {
		t.Error("a refused file changed the registry")
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'registry_import_refused' AND actor_username = 'operatore.tradate'`); n != 1 {
		t.Errorf("%d audit rows of the refusal, want 1", n)
	}

	// Other municipalities, bodies and parameters.
	vedano := "codice_fiscale;cognome;nome;data_nascita;comune;id_famiglia\n" + csvLine(res[1], "L703", "200001")
	for _, tc := range []struct {
		user, query, body string
		headers           hdr
		status            int
		code              string
	}{
		{"operatore.tradate", "", vedano, csv, http.StatusForbidden, "registry_municipality_forbidden"},
		{"operatore.tradate", "?municipality=vedano-olona", file, csv, http.StatusForbidden, "registry_municipality_forbidden"},
		{"supervisore.padova", "?dry_run=true", vedano, csv, http.StatusForbidden, "registry_municipality_forbidden"},
		{"supervisore", "?dry_run=1&municipality=atlantide", vedano, csv, http.StatusUnprocessableEntity, "validation"},
		{"supervisore", "?dry_run=forse", vedano, csv, http.StatusUnprocessableEntity, "validation"},
		{"supervisore", "", `{"rows": []}`, nil, http.StatusUnprocessableEntity, "validation"},
		{"supervisore", "", "", csv, http.StatusUnprocessableEntity, "validation"},
		{"cittadino.tradate", "", vedano, csv, http.StatusForbidden, "forbidden"},
	} {
		r := e.do("POST", "/api/v1/registry/imports"+tc.query, tc.user, tc.body, tc.headers)
		if r.status != tc.status || r.errorBody(t).Code != tc.code {
			t.Errorf("%s %s: %d %s, want %d %s", tc.user, tc.query, r.status, r.body, tc.status, tc.code)
		}
	}
	r = e.do("POST", "/api/v1/registry/imports?dry_run=true", "supervisore", vedano, csv)
	r.json(t, &diff)
	if r.status != http.StatusOK || diff.Municipality != "vedano-olona" || diff.Unchanged != 1 {
		t.Errorf("the supervisor's dry run of Vedano: %d %s", r.status, r.body)
	}

	var list struct {
		Items []store.RegistryImportRecord `json:"items"`
	}
	e.do("GET", "/api/v1/registry/imports", "operatore.vedano", nil).json(t, &list)
	for _, it := range list.Items {
		if it.Municipality != "vedano-olona" {
			t.Errorf("Vedano's operator sees an import of %s", it.Municipality)
		}
	}
	e.do("GET", "/api/v1/registry/imports", "supervisore", nil).json(t, &list)
	if len(list.Items) < 4 || list.Items[0].Municipality != "vedano-olona" || list.Items[0].Status != "dry_run" {
		t.Errorf("the supervisor's list: %+v", list.Items)
	}
}
