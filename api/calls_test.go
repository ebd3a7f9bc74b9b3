package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// servedSchema reads GET /api/v1/forms/{id} (query q) as user and compiles
// it alone, with a plain JSON Schema validator: no custom format, no
// private keyword, nothing of the platform's.
func servedSchema(t *testing.T, e *env, user, id, q string) (*jsonschema.Schema, []byte) {
	t.Helper()
	r := e.do("GET", "/api/v1/forms/"+id+q, user, nil)
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), "x-options") {
		t.Errorf("the served schema of %s keeps the private x-options keyword", id)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("served.json", strings.NewReader(string(r.body))); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("served.json")
	if err != nil {
		t.Fatalf("the served schema of %s does not compile alone: %v", id, err)
	}
	return s, r.body
}

func decoded(t *testing.T, v any) any {
	t.Helper()
	raw, _ := json.Marshal(v)
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestServedSchemaIsStandard: the served food-voucher schema is standard
// JSON Schema whose municipality choices are the district's, as an enum
// and a oneOf with titles: a third-party client validates with it alone.
func TestServedSchemaIsStandard(t *testing.T) {
	e := newEnv(t)
	s, body := servedSchema(t, e, "cittadino.tradate", "buoni-spesa", "")
	if !strings.Contains(string(body), `{"const":"vedano-olona","title":"Vedano Olona"}`) {
		t.Errorf("no oneOf choice for Vedano Olona in %s", body)
	}
	data := dataOf(application(t, "cittadino.tradate"))
	if err := s.Validate(decoded(t, data)); err != nil {
		t.Errorf("a correct application refused: %v", err)
	}
	data["residence"].(map[string]any)["municipality"] = "limena" // of another district
	if err := s.Validate(decoded(t, data)); err == nil {
		t.Error("a municipality of another district accepted")
	}
	// Padova's citizens get their own district's choices.
	_, body = servedSchema(t, e, "supervisore.padova", "buoni-spesa", "")
	if !strings.Contains(string(body), `"limena"`) || strings.Contains(string(body), `"vedano-olona"`) {
		t.Errorf("Alta Padovana's schema has the wrong choices: %s", body)
	}
	// Every form served, to citizens of both districts: a standard 2020-12
	// document a plain validator compiles, every municipality an enum and
	// a oneOf of the citizen's district.
	for user, own := range map[string]string{"cittadino.tradate": `"tradate"`, "cittadina.piazzola": `"piazzola-sul-brenta"`} {
		var list struct {
			Items []struct {
				ID        string `json:"id"`
				SchemaURL string `json:"schema_url"`
			} `json:"items"`
		}
		e.do("GET", "/api/v1/forms", user, nil).json(t, &list)
		if len(list.Items) < 2 {
			t.Fatalf("forms served to %s: %+v", user, list.Items)
		}
		for _, f := range list.Items {
			_, body := servedSchema(t, e, user, f.ID, "")
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil || doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("%s for %s: $schema %v (%v)", f.ID, user, doc["$schema"], err)
			}
			choices := 0
			var walk func(any)
			walk = func(n any) {
				switch n := n.(type) {
				case map[string]any:
					if m, ok := n["municipality"].(map[string]any); ok {
						enum, _ := m["enum"].([]any)
						oneOf, _ := m["oneOf"].([]any)
						raw, _ := json.Marshal(enum)
						if len(enum) == 0 || len(oneOf) != len(enum) || !strings.Contains(string(raw), own) {
							t.Errorf("%s for %s: municipality %v", f.ID, user, m)
						}
						choices++
					}
					for _, v := range n {
						walk(v)
					}
				case []any:
					for _, v := range n {
						walk(v)
					}
				}
			}
			walk(doc)
			if choices == 0 {
				t.Errorf("%s for %s: no municipality choice in the document", f.ID, user)
			}
		}
	}
	expectStatus(t, e.do("GET", "/api/v1/forms/buoni-spesa?version=x", "cittadino.tradate", nil), http.StatusUnprocessableEntity)
	expectStatus(t, e.do("GET", "/api/v1/forms/buoni-spesa?version=99", "cittadino.tradate", nil), http.StatusNotFound)
}

// formV2 is buoni-spesa version 1 with a new required field, "notes".
func formV2(t *testing.T, e *env) map[string]any {
	t.Helper()
	r := e.do("GET", "/api/v1/form-versions/buoni-spesa/1", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	var v struct {
		Schema map[string]any `json:"schema"`
	}
	r.json(t, &v)
	doc := v.Schema
	doc["required"] = append(doc["required"].([]any), "notes")
	doc["properties"].(map[string]any)["notes"] = map[string]any{"title": "Note", "x-title-en": "Notes",
		"description": "Una nota per l'ufficio.", "x-description-en": "A note for the office.", "type": "string", "minLength": 1, "maxLength": 200}
	return doc
}

type formVersionView struct {
	FormID  string `json:"form_id"`
	Version int    `json:"version"`
	Status  string `json:"status"`
}

type callView struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	FormVersion      int    `json:"form_version"`
	BudgetCents      int64  `json:"budget_cents"`
	CommitmentNumber string `json:"commitment_number"`
	CommitmentCents  int64  `json:"commitment_cents"`
	FundingRefusal   string `json:"funding_refusal"`
	// The withdrawal of the last publication (call_publication_cancel_test.go).
	PublicationCancelledBy string     `json:"publication_cancelled_by"`
	PublicationCancelledAt *time.Time `json:"publication_cancelled_at"`
}

// TestNewCallWithoutRelease: a supervisor uploads a form version (checked,
// refused with pointers into the schema when wrong), publishes it, creates
// a call tied to it, edits and publishes it; a case filed before keeps its
// version (its reply to a request for information is not asked the new
// field); a citizen sees the open call and applies to it end to end, with
// the new version and the call's award rule.
func TestNewCallWithoutRelease(t *testing.T) {
	e := newEnv(t)
	old := e.apply("cittadino.tradate")
	if old.FormVersion != 1 {
		t.Fatalf("case filed with version %d", old.FormVersion)
	}

	// Upload: wrong schemas are 422 with pointers into the schema.
	bad := formV2(t, e)
	bad["properties"].(map[string]any)["isee_euro"].(map[string]any)["type"] = "string"
	r := e.do("POST", "/api/v1/form-versions", "supervisore", map[string]any{"form_id": "buoni-spesa", "schema": bad})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) == 0 || f[0].Pointer != "/schema/properties/isee_euro/type" {
		t.Errorf("bad schema: %s", r.body)
	}
	r = e.do("POST", "/api/v1/form-versions", "supervisore", map[string]any{"form_id": "buoni-spesa", "schema": map[string]any{"type": 5}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) == 0 || f[0].Code != "meta_schema" || f[0].Pointer != "/schema/type" {
		t.Errorf("meta-schema: %s", r.body)
	}
	r = e.do("POST", "/api/v1/form-versions", "supervisore", map[string]any{"form_id": "no-such-form", "schema": formV2(t, e)})
	expectStatus(t, r, http.StatusUnprocessableEntity)

	r = e.do("POST", "/api/v1/form-versions", "supervisore", map[string]any{"form_id": "buoni-spesa", "schema": formV2(t, e)})
	expectStatus(t, r, http.StatusCreated)
	var v2 formVersionView
	r.json(t, &v2)
	if v2.Version < 2 || v2.Status != "draft" {
		t.Fatalf("upload: %s", r.body)
	}
	v2path := "/api/v1/form-versions/buoni-spesa/" + strconv.Itoa(v2.Version)
	expectStatus(t, e.do("GET", v2path, "supervisore.padova", nil), http.StatusNotFound) // another district's draft
	expectStatus(t, e.do("PUT", v2path, "supervisore", map[string]any{"schema": formV2(t, e)}), http.StatusOK)

	// A call cannot use a draft version.
	now := time.Now().UTC()
	call := map[string]any{
		"municipality": "tradate", "name": "Buoni spesa straordinari", "form_id": "buoni-spesa", "form_version": v2.Version,
		"isee_threshold_cents": 20_000_00, "budget_cents": 10_000_00,
		"rule":     map[string]any{"base_cents": 20000, "per_extra_member_cents": 0, "per_minor_cents": 0, "max_cents": 20000},
		"tranches": []any{map[string]any{"percent": 100, "after_days": 0}},
		"opens_at": now.Add(-time.Minute), "closes_at": now.AddDate(0, 0, 30), "expires_at": now.AddDate(0, 0, 90),
	}
	r = e.do("POST", "/api/v1/calls", "supervisore", call)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 1 || f[0].Code != "form_version_draft" {
		t.Errorf("draft version: %s", r.body)
	}

	// Publish the version: once.
	expectStatus(t, e.do("POST", v2path+"/publish", "supervisore", nil), http.StatusOK)
	r = e.do("POST", v2path+"/publish", "supervisore", nil)
	expectStatus(t, r, http.StatusConflict)
	if code := r.errorBody(t).Code; code != "form_version_published" {
		t.Errorf("second publish: %s", code)
	}
	expectStatus(t, e.do("PUT", v2path, "supervisore", map[string]any{"schema": formV2(t, e)}), http.StatusConflict)

	// The old case keeps version 1: its reply needs no "notes".
	tk := e.waitTask("operatore.tradate", old.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate",
		map[string]any{"outcome": "request_info", "reason": "Confermate il numero di componenti?"}), http.StatusOK)
	r = e.do("POST", "/api/v1/applications/"+old.ID+"/information", "cittadino.tradate",
		map[string]any{"data": map[string]any{"message": "Siamo in quattro.", "changes": map[string]any{"household": map[string]any{"members": 4}}}})
	expectStatus(t, r, http.StatusOK)

	// Terms are checked: dates in order, rule and tranches in shape.
	wrong := map[string]any{}
	for k, v := range call {
		wrong[k] = v
	}
	wrong["closes_at"] = now.Add(-time.Hour)
	wrong["tranches"] = []any{map[string]any{"percent": 60, "after_days": 0}}
	wrong["rule"] = map[string]any{"base_cents": 20000}
	r = e.do("POST", "/api/v1/calls", "supervisore", wrong)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	got := map[string]string{}
	for _, f := range r.errorBody(t).Fields {
		got[f.Pointer] = f.Code
	}
	if got["/closes_at"] != "order" || got["/tranches"] != "sum" || got["/rule/max_cents"] != "order" {
		t.Errorf("wrong terms: %v", got)
	}

	// Create, edit, publish (once); a published call's terms never change.
	r = e.do("POST", "/api/v1/calls", "supervisore", call)
	expectStatus(t, r, http.StatusCreated)
	var c callView
	r.json(t, &c)
	if c.Status != "draft" || c.FormVersion != v2.Version {
		t.Fatalf("created: %s", r.body)
	}
	r = e.do("GET", "/api/v1/calls", "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), c.ID) {
		t.Error("a citizen sees a draft call")
	}
	expectStatus(t, e.do("GET", "/api/v1/calls/"+c.ID, "cittadino.tradate", nil), http.StatusNotFound)
	expectStatus(t, e.do("GET", "/api/v1/calls/"+c.ID, "supervisore.padova", nil), http.StatusNotFound)
	call["name"] = "Buoni spesa straordinari 2026"
	expectStatus(t, e.do("PUT", "/api/v1/calls/"+c.ID, "supervisore", call), http.StatusOK)
	expectStatus(t, e.do("PUT", "/api/v1/calls/"+c.ID, "supervisore.padova", call), http.StatusNotFound)
	if p := e.publishCall(c.ID); p.Status != "published" {
		t.Fatalf("published: %+v", p)
	}
	r = e.do("POST", "/api/v1/calls/"+c.ID+"/publish", "supervisore", nil)
	expectStatus(t, r, http.StatusConflict)
	if code := r.errorBody(t).Code; code != "call_published" {
		t.Errorf("second publish: %s", code)
	}
	r = e.do("PUT", "/api/v1/calls/"+c.ID, "supervisore", call)
	expectStatus(t, r, http.StatusConflict)

	// The citizen sees the open call of their municipality, not Vedano's.
	r = e.do("GET", "/api/v1/calls", "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), c.ID) {
		t.Errorf("the citizen does not see the open call: %s", r.body)
	}
	expectStatus(t, e.do("GET", "/api/v1/calls/"+c.ID, "cittadino.tradate", nil), http.StatusOK)
	r = e.do("GET", "/api/v1/calls", "cittadino.vedano", nil)
	if strings.Contains(string(r.body), c.ID) {
		t.Error("a citizen of Vedano sees Tradate's call")
	}

	// Applying to it: version 2, its "notes" required; then the case
	// runs as any other and is awarded by the call's rule.
	s, _ := servedSchema(t, e, "cittadino.tradate", "buoni-spesa", "?version="+strconv.Itoa(v2.Version))
	app := application(t, "cittadino.tradate")
	app["call"] = c.ID // the seeded fund is open too: the citizen names the call
	if err := s.Validate(decoded(t, dataOf(app))); err == nil {
		t.Error("version 2 served without its required field")
	}
	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", app)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 1 || f[0].Pointer != "/data/notes" {
		t.Errorf("filing without notes: %s", r.body)
	}
	dataOf(app)["notes"] = "Nessuna"
	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", app)
	expectStatus(t, r, http.StatusCreated)
	var nc caseView
	r.json(t, &nc)
	if nc.FormVersion != v2.Version || nc.FundID != c.ID {
		t.Fatalf("filed with version %d on fund %s, want %d on %s", nc.FormVersion, nc.FundID, v2.Version, c.ID)
	}
	// Its reply to a request for information is checked against version
	// 2: emptying the new "notes" is refused at the field.
	tk = e.waitTask("operatore.tradate", nc.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate",
		map[string]any{"outcome": "request_info", "reason": "Qualche nota in più?"}), http.StatusOK)
	r = e.do("POST", "/api/v1/applications/"+nc.ID+"/information", "cittadino.tradate",
		map[string]any{"data": map[string]any{"message": "Ecco.", "changes": map[string]any{"notes": ""}}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 1 || !strings.HasSuffix(f[0].Pointer, "/notes") {
		t.Errorf("a reply breaking version 2: %s", r.body)
	}
	expectStatus(t, e.do("POST", "/api/v1/applications/"+nc.ID+"/information", "cittadino.tradate",
		map[string]any{"data": map[string]any{"message": "Ecco.", "changes": map[string]any{"notes": "Due figli a scuola"}}}), http.StatusOK)
	tk = e.waitTask("operatore.tradate", nc.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	r = e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"})
	expectStatus(t, r, http.StatusOK)
	var dec struct {
		Status      string `json:"status"`
		AmountCents int64  `json:"amount_cents"`
	}
	r.json(t, &dec)
	if dec.Status != "approved" || dec.AmountCents != 20000 {
		t.Errorf("decision: %s", r.body)
	}
}

// TestApplyToAChosenCall: with one call open, a filing needs not name it;
// with two calls on one form open in one municipality (the seeded fund and
// a new call), a filing names the call it applies to: without one it is
// refused (422 /call call_required; the old rule silently took the newest
// call), a named call files the case under it with its form version, and a
// call not open there is refused (call_not_open).
func TestApplyToAChosenCall(t *testing.T) {
	e := newEnv(t)
	first := e.apply("cittadino.tradate") // one call open: unambiguous
	seeded := first.FundID
	now := time.Now().UTC()
	r := e.do("POST", "/api/v1/calls", "supervisore", map[string]any{
		"municipality": "tradate", "name": "Buoni spesa di primavera", "form_id": "buoni-spesa", "form_version": 1,
		"isee_threshold_cents": 20_000_00, "budget_cents": 10_000_00,
		"rule":     map[string]any{"base_cents": 15000, "per_extra_member_cents": 0, "per_minor_cents": 0, "max_cents": 15000},
		"tranches": []any{map[string]any{"percent": 100, "after_days": 0}},
		"opens_at": now.Add(-time.Minute), "closes_at": now.AddDate(0, 0, 30), "expires_at": now.AddDate(0, 0, 90),
	})
	expectStatus(t, r, http.StatusCreated)
	var c callView
	r.json(t, &c)
	e.publishCall(c.ID)

	// Both are in the public list of the district's open calls, with the
	// path to apply to each; not in another district's.
	var open struct {
		Items []struct {
			ID               string `json:"id"`
			MunicipalityName string `json:"municipality_name"`
			MaxAwardCents    int64  `json:"max_award_cents"`
			ApplyPath        string `json:"apply_path"`
		} `json:"items"`
	}
	r = e.do("GET", "/api/v1/open-calls", "", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &open)
	found := map[string]string{}
	for _, it := range open.Items {
		found[it.ID] = it.ApplyPath
		if it.ID == c.ID && (it.MunicipalityName != "Tradate" || it.MaxAwardCents != 15000) {
			t.Errorf("open call: %+v", it)
		}
	}
	if found[c.ID] != "/apply/buoni-spesa?call="+c.ID || found[seeded] == "" {
		t.Errorf("open calls: %s", r.body)
	}
	r = e.do("GET", "/api/v1/open-calls?district=alta-padovana", "", nil)
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), c.ID) || strings.Contains(string(r.body), seeded) {
		t.Errorf("Tradate's calls among Alta Padovana's: %s", r.body)
	}
	expectStatus(t, e.do("GET", "/api/v1/open-calls/"+c.ID, "", nil), http.StatusOK)
	expectStatus(t, e.do("GET", "/api/v1/open-calls/no-such-call", "", nil), http.StatusNotFound)

	app := application(t, "cittadino.tradate")
	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", app)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 1 || f[0].Pointer != "/call" || f[0].Code != "call_required" {
		t.Fatalf("two open calls, none named: %s", r.body)
	}
	for _, other := range []string{"no-such-call", "buoni-spesa-vedano-olona"} {
		app["call"] = other
		r = e.do("POST", "/api/v1/applications", "cittadino.tradate", app)
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if f := r.errorBody(t).Fields; len(f) != 1 || f[0].Pointer != "/call" || f[0].Code != "call_not_open" {
			t.Errorf("call %s: %s", other, r.body)
		}
	}
	// The seeded call has this citizen's case in progress: named, it is
	// the one the filing is about.
	app["call"] = seeded
	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", app)
	expectStatus(t, r, http.StatusConflict)
	if code := r.errorBody(t).Code; code != "application_in_progress" {
		t.Errorf("the seeded call again: %s", r.body)
	}
	app["call"] = c.ID
	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", app)
	expectStatus(t, r, http.StatusCreated)
	var got caseView
	r.json(t, &got)
	if got.FundID != c.ID || got.FormVersion != 1 {
		t.Errorf("applied to %s: filed on %s with version %d", c.ID, got.FundID, got.FormVersion)
	}
}

// TestFormVersionsStayInTheirDistrict: a version Tradate's supervisor
// publishes is Tradate's: it does not become the form's latest (what
// Alta Padovana is served and validated with, and Tradate outside a
// call), Alta Padovana's supervisor neither lists, reads nor ties
// a call to it, and its schema is not served in Alta Padovana.
func TestFormVersionsStayInTheirDistrict(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/form-versions", "supervisore", map[string]any{"form_id": "buoni-spesa", "schema": formV2(t, e)})
	expectStatus(t, r, http.StatusCreated)
	var v2 formVersionView
	r.json(t, &v2)
	version := strconv.Itoa(v2.Version)
	expectStatus(t, e.do("POST", "/api/v1/form-versions/buoni-spesa/"+version+"/publish", "supervisore", nil), http.StatusOK)

	for _, user := range []string{"supervisore.padova", "cittadino.tradate"} {
		r = e.do("GET", "/api/v1/forms/buoni-spesa", user, nil)
		expectStatus(t, r, http.StatusOK)
		if got := r.header.Get("Form-Version"); got != "1" {
			t.Errorf("%s is served version %s as the latest", user, got)
		}
	}
	expectStatus(t, e.do("GET", "/api/v1/forms/buoni-spesa?version="+version, "cittadino.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("GET", "/api/v1/forms/buoni-spesa?version="+version, "supervisore.padova", nil), http.StatusNotFound)

	r = e.do("GET", "/api/v1/form-versions", "supervisore.padova", nil)
	expectStatus(t, r, http.StatusOK)
	var list struct {
		Items []formVersionView `json:"items"`
	}
	r.json(t, &list)
	for _, v := range list.Items {
		if v.FormID == "buoni-spesa" && v.Version == v2.Version {
			t.Errorf("Alta Padovana lists Tradate's version: %s", r.body)
		}
	}
	expectStatus(t, e.do("GET", "/api/v1/form-versions/buoni-spesa/"+version, "supervisore.padova", nil), http.StatusNotFound)

	now := time.Now().UTC()
	r = e.do("POST", "/api/v1/calls", "supervisore.padova", map[string]any{
		"municipality": "limena", "name": "Buoni spesa", "form_id": "buoni-spesa", "form_version": v2.Version,
		"isee_threshold_cents": 20_000_00, "budget_cents": 10_000_00,
		"rule":     map[string]any{"base_cents": 15000, "per_extra_member_cents": 0, "per_minor_cents": 0, "max_cents": 15000},
		"tranches": []any{map[string]any{"percent": 100, "after_days": 0}},
		"opens_at": now.Add(-time.Minute), "closes_at": now.AddDate(0, 0, 30), "expires_at": now.AddDate(0, 0, 90),
	})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 1 || f[0].Code != "unknown_form_version" {
		t.Errorf("a call on another district's version: %s", r.body)
	}
}
