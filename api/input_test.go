package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sportello/internal/store"
)

// fieldOf returns the first field error of a 422 and fails when there is none.
func fieldOf(t *testing.T, r resp) (pointer, parameter, code string) {
	t.Helper()
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %s", r.status, r.body)
	}
	d := r.errorBody(t)
	if len(d.Fields) == 0 {
		t.Fatalf("422 without field errors: %s", r.body)
	}
	f := d.Fields[0]
	if f.Message == "" || f.MessageIT == "" {
		t.Fatalf("field error without English and Italian messages: %s", r.body)
	}
	return f.Pointer, f.Parameter, f.Code
}

// Finding 4 of issue 10: NUL, invalid UTF-8, control and bidi characters in
// a path segment, a query parameter or a JSON string were 500s (PostgreSQL
// refuses NUL and bad UTF-8) or were stored; a huge offset reached SQL.
func TestInputHygieneAPI(t *testing.T) {
	e := newEnv(t)

	// A path segment that cannot be clean text is no resource: 404.
	for _, seg := range []string{"%00", "%FF", "%E2%80%AE", "BS-2026-%0A1", "%C0%80"} {
		for _, p := range []struct{ user, path string }{
			{"operatore.tradate", "/api/v1/applications/" + seg},
			{"operatore.tradate", "/api/v1/applications/" + seg + "/timeline"},
			{"operatore.tradate", "/api/v1/tasks/" + seg},
			{"cittadino.tradate", "/api/v1/vouchers/" + seg},
			{"supervisore", "/api/v1/municipalities/" + seg + "/calendar"},
			{"operatore.tradate", "/api/v1/citizens/" + seg},
		} {
			r := e.do("GET", p.path, p.user, nil)
			if r.status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404: %s", p.path, r.status, r.body)
			}
		}
	}

	// A query value: 422 naming the parameter.
	for _, q := range []struct{ user, path, param, code string }{
		{"operatore.tradate", "/api/v1/applications?tax_code=%00", "tax_code", "control_character"},
		{"operatore.tradate", "/api/v1/applications?status=%FF", "status", "invalid_utf8"},
		{"cittadino.tradate", "/api/v1/services?q=%00", "q", "control_character"},
		{"cittadino.tradate", "/api/v1/services?q=caf%E2%80%AEe", "q", "bidi_control"},
		{"cittadino.tradate", "/api/v1/services?q=a%0Ab", "q", "control_character"},
		{"supervisore", "/api/v1/audit?actor=%E2%81%A6x", "actor", "bidi_control"},
		{"operatore.tradate", "/api/v1/tasks?status=%zz", "status", "malformed"},
	} {
		_, param, code := fieldOf(t, e.do("GET", q.path, q.user, nil))
		if param != q.param || code != q.code {
			t.Errorf("GET %s: parameter %q code %q, want %q %q", q.path, param, code, q.param, q.code)
		}
	}

	// Paging: every offset is bounded before SQL (it was a negative LIMIT).
	for _, p := range []struct{ user, path string }{
		{"operatore.tradate", "/api/v1/applications"},
		{"operatore.tradate", "/api/v1/tasks"},
		{"cittadino.tradate", "/api/v1/vouchers"},
		{"esercente.tradate", "/api/v1/redemptions"},
		{"supervisore", "/api/v1/audit"},
		{"operatore.tradate", "/api/v1/contact-tasks"},
		{"cittadino.tradate", "/api/v1/services"},
		{"cittadino.tradate", "/api/v1/bookings"},
		{"supervisore", "/api/v1/invoices"},
	} {
		for _, off := range []string{"9223372036854775807", "99999999999999999999", "1000001", "-1"} {
			_, param, _ := fieldOf(t, e.do("GET", p.path+"?offset="+off, p.user, nil))
			if param != "offset" {
				t.Errorf("GET %s?offset=%s: parameter %q, want offset", p.path, off, param)
			}
		}
		if r := e.do("GET", p.path+"?offset=1000000&limit=9223372036854775807", p.user, nil); r.status >= 500 {
			t.Errorf("GET %s at the last offset: %d %s", p.path, r.status, r.body)
		}
	}

	// JSON strings, at any depth, point at the member.
	app := application(t, "cittadino.tradate")
	dataOf(app)["applicant"].(map[string]any)["first_name"] = "Maria\u0000"
	ptr, _, code := fieldOf(t, e.do("POST", "/api/v1/applications", "cittadino.tradate", app))
	if ptr != "/data/applicant/first_name" || code != "control_character" {
		t.Errorf("NUL in the first name: %s %s", ptr, code)
	}
	dataOf(app)["applicant"].(map[string]any)["first_name"] = "Maria\u202Eassor"
	ptr, _, code = fieldOf(t, e.do("POST", "/api/v1/applications", "cittadino.tradate", app))
	if ptr != "/data/applicant/first_name" || code != "bidi_control" {
		t.Errorf("U+202E in the first name: %s %s", ptr, code)
	}
	raw := `{"form":"buoni-spesa","data":{"applicant":{"last_name":"Ross` + "\xff" + `i"}}}`
	ptr, _, code = fieldOf(t, e.do("POST", "/api/v1/applications", "cittadino.tradate", raw))
	if ptr != "/data/applicant/last_name" || code != "invalid_utf8" {
		t.Errorf("invalid UTF-8 in the last name: %s %s", ptr, code)
	}
	ptr, _, code = fieldOf(t, e.do("POST", "/api/v1/redemptions", "esercente.tradate", `{"code":"ABC\u0000","amount_cents":100}`))
	if ptr != "/code" || code != "control_character" {
		t.Errorf("NUL in a redemption code: %s %s", ptr, code)
	}
	ptr, _, code = fieldOf(t, e.do("POST", "/api/v1/session", "", `{"username":"a\u2066b","password":"x"}`))
	if ptr != "/username" || code != "bidi_control" {
		t.Errorf("bidi in a username: %s %s", ptr, code)
	}
	ptr, _, code = fieldOf(t, e.do("POST", "/api/v1/redemptions", "esercente.tradate", `{"co\u0000de":"x","amount_cents":100}`))
	if ptr != "/co\u0000de" || code != "control_character" {
		t.Errorf("NUL in a member name: %q %s", ptr, code)
	}
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	if _, _, code = fieldOf(t, e.do("POST", "/api/v1/redemptions", "esercente.tradate", deep)); code != "depth" {
		t.Errorf("deep nesting: code %s", code)
	}
	// Free text keeps its line breaks.
	app = application(t, "cittadino.tradate")
	dataOf(app)["residence"].(map[string]any)["address"] = "Via Roma 1\nscala B"
	if r := e.do("POST", "/api/v1/applications", "cittadino.tradate", app); r.status != http.StatusCreated {
		t.Errorf("an address on two lines: %d %s", r.status, r.body)
	}
}

// Web pages: a bad query or form field is a 422 page (Italian first) naming
// the field; a page number past the bound is a 422, not a negative OFFSET;
// a name stored with bidi controls before these rules is shown neutralised.
func TestInputHygieneWeb(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	e.waitTask("operatore.tradate", c.ID)
	op := e.browser()
	op.login("operatore.tradate")

	expectPage(t, op.get("/cases/%00"), http.StatusNotFound)
	expectPage(t, op.get("/inbox?status=%00"), http.StatusUnprocessableEntity, "Dati non validi", "status: ")
	expectPage(t, op.get("/inbox?page=9223372036854775807"), http.StatusUnprocessableEntity)
	expectPage(t, op.get("/inbox?page=99999999999999999999"), http.StatusUnprocessableEntity)

	sv := e.browser()
	sv.login("supervisore")
	expectPage(t, sv.get("/audit?page=9223372036854775807"), http.StatusUnprocessableEntity)

	// A form post with NUL or bidi in a field.
	cit := e.browser()
	cit.login("cittadino.vedano")
	form := applicationForm(t, "cittadino.vedano")
	form.Set("/applicant/first_name", "Giovanni\u202E")
	expectPage(t, cit.post("/apply/buoni-spesa/data", form), http.StatusUnprocessableEntity,
		"Dati non validi", "/applicant/first_name: Il testo contiene caratteri invisibili")
	form.Set("/applicant/first_name", "Gio\x00vanni")
	expectPage(t, cit.post("/apply/buoni-spesa/data", form), http.StatusUnprocessableEntity, "/applicant/first_name: ")
	if n, err := e.st.API().CountCases(context.Background(), store.System); err != nil || n != 1 {
		t.Fatalf("cases after refused posts: %d %v", n, err)
	}

	// A name stored with U+202E before the rules: the staff pages never
	// send the override to the browser.
	if _, err := e.st.Pool.Exec(context.Background(),
		`UPDATE cases SET data = jsonb_set(data, '{applicant,first_name}', to_jsonb($2::text)) WHERE id = $1`,
		c.ID, "Maria\u202Eassor"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/inbox", "/cases/" + url.PathEscape(c.ID)} {
		p := op.get(path)
		expectPage(t, p, http.StatusOK, "Maria\uFFFDassor")
		if strings.ContainsRune(p.body, '\u202E') {
			t.Errorf("%s shows U+202E as is", path)
		}
	}
}
