package forms

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"sportello/internal/calendar"
	"sportello/internal/i18n"
)

// testNow is the reference instant of the tests: Sunday 15 March 2026, 10:00 in Rome.
var testNow = time.Date(2026, time.March, 15, 10, 0, 0, 0, calendar.Rome())

var testRegistry = MustRegistry()

// validApplication returns a fresh, valid buoni-spesa application.
func validApplication(t testing.TB) map[string]any {
	t.Helper()
	return map[string]any{
		"applicant": map[string]any{
			"first_name": "Maria Luisa",
			"last_name":  "D'Angelo",
			"tax_code":   buildTaxCode(t, "DNGMLS80A41L319"),
			"birth_date": "1980-01-01",
			"email":      "maria.dangelo@example.it",
			"phone":      "+39 0331 123456",
		},
		"residence": map[string]any{
			"municipality": "vedano-olona",
			"address":      "Via Roma 12",
		},
		"household": map[string]any{
			"members": 4,
			"minors":  2,
		},
		"isee_euro": 7450.35,
		"delivery":  "download",
		"declarations": map[string]any{
			"truthful": true,
			"privacy":  true,
		},
	}
}

// set assigns value at a slash-separated path, creating nothing: the parent
// must exist.
func set(doc map[string]any, path string, value any) {
	parts := strings.Split(path, "/")
	m := doc
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	m[parts[len(parts)-1]] = value
}

func del(doc map[string]any, path string) {
	parts := strings.Split(path, "/")
	m := doc
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	delete(m, parts[len(parts)-1])
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func validate(t testing.TB, data []byte) []FieldError {
	t.Helper()
	version, problems, err := testRegistry.Validate("buoni-spesa", data, testNow)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if version != 1 {
		t.Fatalf("version = %d, want 1", version)
	}
	checkProblems(t, problems)
	return problems
}

// checkProblems asserts the invariants every problem list must satisfy.
func checkProblems(t testing.TB, problems []FieldError) {
	t.Helper()
	sorted := slices.IsSortedFunc(problems, func(a, b FieldError) int {
		if c := strings.Compare(a.Pointer, b.Pointer); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	if !sorted {
		t.Errorf("problems not sorted by pointer then code: %v", problems)
	}
	for _, p := range problems {
		if p.Code == "" || p.In("en") == "" || p.In("it") == "" {
			t.Errorf("incomplete problem %+v", p)
		}
		if p.Pointer != "" && !strings.HasPrefix(p.Pointer, "/") {
			t.Errorf("pointer %q is not a JSON pointer", p.Pointer)
		}
		for _, msg := range []string{p.In("en"), p.In("it")} {
			if !strings.HasSuffix(msg, ".") || strings.ToUpper(msg[:1]) != msg[:1] {
				t.Errorf("message %q is not a sentence", msg)
			}
			for _, jargon := range []string{"jsonschema", "missing properties", "expected", "but got", "additionalProperties", "does not match", "doesn't validate", "#/", "%!"} {
				if strings.Contains(msg, jargon) {
					t.Errorf("message %q contains library jargon %q", msg, jargon)
				}
			}
		}
	}
}

type pc struct{ Pointer, Code string }

func pointerCodes(problems []FieldError) []pc {
	out := []pc{}
	for _, p := range problems {
		out = append(out, pc{p.Pointer, p.Code})
	}
	return out
}

func TestRegistryListAndGet(t *testing.T) {
	list := testRegistry.List()
	if len(list) == 0 {
		t.Fatal("no forms")
	}
	if !slices.IsSortedFunc(list, func(a, b Form) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("List is not sorted by id")
	}
	f, ok := testRegistry.Get("buoni-spesa")
	if !ok {
		t.Fatal("buoni-spesa not found")
	}
	if f.ID != "buoni-spesa" || f.Version != 1 || f.CasePrefix != "BS" {
		t.Errorf("Get = %+v", f)
	}
	if f.Title == "" || f.TitleEN == "" || f.Description == "" || f.DescriptionEN == "" {
		t.Errorf("missing titles or descriptions: %+v", f)
	}
	if !strings.Contains(f.Title, "buoni spesa") || !strings.Contains(f.TitleEN, "voucher") {
		t.Errorf("unexpected titles %q / %q", f.Title, f.TitleEN)
	}
	var doc map[string]any
	if err := json.Unmarshal(f.Schema, &doc); err != nil {
		t.Fatalf("Schema is not JSON: %v", err)
	}
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", doc["$schema"])
	}
	idx := slices.IndexFunc(list, func(x Form) bool { return x.ID == "buoni-spesa" })
	if idx < 0 || !reflect.DeepEqual(list[idx], f) {
		t.Error("List and Get disagree")
	}

	v1, ok := testRegistry.GetVersion("buoni-spesa", 1)
	if !ok || !reflect.DeepEqual(v1, f) {
		t.Errorf("GetVersion(1) = %+v, %v", v1, ok)
	}
	for _, v := range []int{0, -1, 2} {
		if _, ok := testRegistry.GetVersion("buoni-spesa", v); ok {
			t.Errorf("GetVersion(%d) found", v)
		}
	}
	if _, ok := testRegistry.Get("nope"); ok {
		t.Error("Get(nope) found")
	}
	if _, ok := testRegistry.GetVersion("nope", 1); ok {
		t.Error("GetVersion(nope, 1) found")
	}

	// Callers get copies: scribbling on one must not reach the registry.
	f.Schema[0] = 'X'
	again, _ := testRegistry.Get("buoni-spesa")
	if again.Schema[0] != '{' {
		t.Error("Get returned the registry's own schema bytes")
	}
}

func TestValidApplication(t *testing.T) {
	app := validApplication(t)
	if p := validate(t, mustJSON(t, app)); len(p) != 0 {
		t.Fatalf("valid application rejected: %+v", p)
	}

	// Optional fields may be left out; integers written as 3.0 are integers;
	// home delivery; zero ISEE; a single adult.
	del(app, "applicant/email")
	del(app, "applicant/phone")
	set(app, "delivery", "home")
	set(app, "isee_euro", 0)
	set(app, "household/members", 1)
	set(app, "household/minors", 0)
	if p := validate(t, mustJSON(t, app)); len(p) != 0 {
		t.Fatalf("minimal application rejected: %+v", p)
	}

	raw := `{"applicant":{"first_name":"Luca","last_name":"Bianchi","tax_code":"` +
		strings.ToLower(buildTaxCode(t, "BNCLCU70M12L319")) + `","birth_date":"1970-08-12"},
		"residence":{"municipality":"tradate","address":"Corso Bernacchi 1"},
		"household":{"members":3.0,"minors":1},"isee_euro":1000000,"delivery":"home",
		"declarations":{"truthful":true,"privacy":true}}`
	if p := validate(t, []byte(raw)); len(p) != 0 {
		t.Fatalf("application rejected: %+v", p)
	}
}

func TestFieldFailures(t *testing.T) {
	cases := []struct {
		name   string
		path   string // slash-separated path to change
		value  any    // new value; deleteField removes it
		want   []pc
		wantEN string // expected English message of the first problem, if set
		wantIT string
	}{
		// applicant
		{"first name missing", "applicant/first_name", deleteField, []pc{{"/applicant/first_name", "required"}}, "This field is required.", "Campo obbligatorio."},
		{"first name empty", "applicant/first_name", "", []pc{{"/applicant/first_name", "min_length"}}, "This field cannot be empty.", "Il campo non può essere vuoto."},
		{"first name blank", "applicant/first_name", "   ", []pc{{"/applicant/first_name", "pattern"}}, "Must not be blank, nor start or end with a space.", ""},
		{"first name untrimmed", "applicant/first_name", " Maria", []pc{{"/applicant/first_name", "pattern"}}, "", ""},
		{"first name too long", "applicant/first_name", strings.Repeat("a", 81), []pc{{"/applicant/first_name", "max_length"}}, "Must be at most 80 characters long.", "Può contenere al massimo 80 caratteri."},
		{"first name number", "applicant/first_name", 12, []pc{{"/applicant/first_name", "type"}}, "Must be text.", "Deve essere un testo."},
		{"last name missing", "applicant/last_name", deleteField, []pc{{"/applicant/last_name", "required"}}, "", ""},
		{"last name trailing space", "applicant/last_name", "Rossi ", []pc{{"/applicant/last_name", "pattern"}}, "", ""},
		{"last name 80 runes ok", "applicant/last_name", strings.Repeat("è", 80), []pc{}, "", ""},
		{"tax code missing", "applicant/tax_code", deleteField, []pc{{"/applicant/tax_code", "required"}}, "", ""},
		{"tax code bad", "applicant/tax_code", "RSSMRA85T10A562X", []pc{{"/applicant/tax_code", "tax_code"}}, "Not a valid Italian tax code (codice fiscale).", "Codice fiscale non valido."},
		{"tax code short", "applicant/tax_code", "RSSMRA85T10A562", []pc{{"/applicant/tax_code", "tax_code"}}, "", ""},
		{"tax code not string", "applicant/tax_code", true, []pc{{"/applicant/tax_code", "type"}}, "", ""},
		{"birth date missing", "applicant/birth_date", deleteField, []pc{{"/applicant/birth_date", "required"}}, "", ""},
		{"birth date format", "applicant/birth_date", "01/02/1980", []pc{{"/applicant/birth_date", "format"}}, "Must be a valid date in the form YYYY-MM-DD.", "Deve essere una data valida nel formato AAAA-MM-GG."},
		{"birth date impossible", "applicant/birth_date", "1980-02-30", []pc{{"/applicant/birth_date", "format"}}, "", ""},
		{"email bad", "applicant/email", "maria.example.it", []pc{{"/applicant/email", "format"}}, "Not a valid e-mail address.", "Indirizzo e-mail non valido."},
		{"email null", "applicant/email", nil, []pc{{"/applicant/email", "type"}}, "", ""},
		{"phone letters", "applicant/phone", "0331-abc-123", []pc{{"/applicant/phone", "pattern"}}, "Not a valid phone number: use digits, an optional leading + and spaces.", ""},
		{"phone plus inside", "applicant/phone", "0331+123456", []pc{{"/applicant/phone", "pattern"}}, "", ""},
		{"phone too short", "applicant/phone", "12345", []pc{{"/applicant/phone", "min_length"}}, "Must be at least 6 characters long.", "Deve contenere almeno 6 caratteri."},
		{"phone too long", "applicant/phone", "+39 0331 123 456 7890", []pc{{"/applicant/phone", "max_length"}}, "Must be at most 20 characters long.", ""},
		{"phone ok", "applicant/phone", "3331234567", []pc{}, "", ""},
		{"applicant not object", "applicant", "Maria", []pc{{"/applicant", "type"}}, "", ""},
		{"applicant missing", "applicant", deleteField, []pc{{"/applicant", "required"}}, "", ""},
		// residence
		{"municipality missing", "residence/municipality", deleteField, []pc{{"/residence/municipality", "required"}}, "", ""},
		{"municipality empty", "residence/municipality", "", []pc{{"/residence/municipality", "min_length"}}, "", ""},
		{"municipality not a slug", "residence/municipality", "Vedano Olona", []pc{{"/residence/municipality", "pattern"}}, "Not a valid municipality identifier.", "Identificativo del comune non valido."},
		{"municipality too long", "residence/municipality", strings.Repeat("a", 81), []pc{{"/residence/municipality", "max_length"}}, "", ""},
		{"address short", "residence/address", "V1", []pc{{"/residence/address", "min_length"}}, "Must be at least 3 characters long.", "Deve contenere almeno 3 caratteri."},
		{"address empty", "residence/address", "", []pc{{"/residence/address", "min_length"}}, "", ""},
		{"address blank", "residence/address", "    ", []pc{{"/residence/address", "pattern"}}, "Must not be blank.", "Non può essere vuoto."},
		{"address too long", "residence/address", strings.Repeat("x", 201), []pc{{"/residence/address", "max_length"}}, "Must be at most 200 characters long.", ""},
		// household
		{"members zero", "household/members", 0, []pc{{"/household/members", "minimum"}}, "Must be at least 1.", "Deve essere almeno 1."},
		{"members too many", "household/members", 21, []pc{{"/household/members", "maximum"}}, "Must be at most 20.", "Deve essere al massimo 20."},
		{"members fraction", "household/members", 2.5, []pc{{"/household/members", "type"}}, "Must be a whole number.", "Deve essere un numero intero."},
		{"members string", "household/members", "4", []pc{{"/household/members", "type"}}, "", ""},
		{"minors negative", "household/minors", -1, []pc{{"/household/minors", "minimum"}}, "Must be at least 0.", ""},
		{"minors too many", "household/minors", 20, []pc{{"/household/minors", "maximum"}}, "Must be at most 19.", ""},
		{"minors missing", "household/minors", deleteField, []pc{{"/household/minors", "required"}}, "", ""},
		// isee
		{"isee missing", "isee_euro", deleteField, []pc{{"/isee_euro", "required"}}, "", ""},
		{"isee negative", "isee_euro", -0.01, []pc{{"/isee_euro", "minimum"}}, "Must be at least 0.", ""},
		{"isee too high", "isee_euro", 1000000.01, []pc{{"/isee_euro", "maximum"}}, "Must be at most 1000000.", "Deve essere al massimo 1000000."},
		{"isee three decimals", "isee_euro", 100.001, []pc{{"/isee_euro", "multiple_of"}}, "Use at most 2 decimal places.", "Sono ammessi al massimo 2 decimali."},
		{"isee string", "isee_euro", "7450,35", []pc{{"/isee_euro", "type"}}, "Must be a number.", "Deve essere un numero."},
		{"isee two decimals ok", "isee_euro", 0.07, []pc{}, "", ""},
		// delivery
		{"delivery unknown", "delivery", "post", []pc{{"/delivery", "enum"}}, "Must be one of: download, home.", "Deve essere uno tra: download, home."},
		{"delivery case", "delivery", "Home", []pc{{"/delivery", "enum"}}, "", ""},
		{"delivery missing", "delivery", deleteField, []pc{{"/delivery", "required"}}, "", ""},
		// declarations
		{"truthful false", "declarations/truthful", false, []pc{{"/declarations/truthful", "const"}}, "You must accept this declaration.", "Devi accettare questa dichiarazione."},
		{"privacy false", "declarations/privacy", false, []pc{{"/declarations/privacy", "const"}}, "You must accept this declaration.", ""},
		{"privacy string", "declarations/privacy", "true", []pc{{"/declarations/privacy", "type"}}, "Must be true or false.", "Deve essere vero o falso."},
		{"privacy missing", "declarations/privacy", deleteField, []pc{{"/declarations/privacy", "required"}}, "", ""},
		{"declarations empty", "declarations", map[string]any{}, []pc{{"/declarations/privacy", "required"}, {"/declarations/truthful", "required"}}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := validApplication(t)
			if c.value == deleteField {
				del(app, c.path)
			} else {
				set(app, c.path, c.value)
			}
			problems := validate(t, mustJSON(t, app))
			if got := pointerCodes(problems); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("problems = %v, want %v\n%+v", got, c.want, problems)
			}
			if c.wantEN != "" && problems[0].In("en") != c.wantEN {
				t.Errorf("Message = %q, want %q", problems[0].In("en"), c.wantEN)
			}
			if c.wantIT != "" && problems[0].In("it") != c.wantIT {
				t.Errorf("MessageIT = %q, want %q", problems[0].In("it"), c.wantIT)
			}
		})
	}
}

// deleteField marks a field to remove in TestFieldFailures.
var deleteField = &struct{ name string }{"delete"}

func TestMissingNestedFieldsReportedAtField(t *testing.T) {
	problems := validate(t, []byte(`{"applicant":{}}`))
	want := []pc{
		{"/applicant/birth_date", "required"},
		{"/applicant/first_name", "required"},
		{"/applicant/last_name", "required"},
		{"/applicant/tax_code", "required"},
		{"/declarations", "required"},
		{"/delivery", "required"},
		{"/household", "required"},
		{"/isee_euro", "required"},
		{"/residence", "required"},
	}
	if got := pointerCodes(problems); !reflect.DeepEqual(got, want) {
		t.Fatalf("problems = %v\nwant %v", got, want)
	}
	for _, p := range problems {
		if p.In("en") != "This field is required." || p.In("it") != "Campo obbligatorio." {
			t.Errorf("%s: messages %q / %q", p.Pointer, p.In("en"), p.In("it"))
		}
	}

	problems = validate(t, []byte(`{}`))
	if len(problems) != 6 {
		t.Errorf("empty object: %d problems, want 6 (one per top-level field): %v", len(problems), pointerCodes(problems))
	}
}

func TestExtraProperties(t *testing.T) {
	app := validApplication(t)
	set(app, "nickname", "Mary")
	app["a/b~c"] = 1 // needs JSON pointer escaping
	set(app, "applicant/middle_name", "Anna")
	set(app, "household/pets", 2)
	set(app, "declarations/marketing", true)
	problems := validate(t, mustJSON(t, app))
	want := []pc{ // sorted bytewise: "/ap..." < "/a~..."
		{"/applicant/middle_name", "additional"},
		{"/a~1b~0c", "additional"},
		{"/declarations/marketing", "additional"},
		{"/household/pets", "additional"},
		{"/nickname", "additional"},
	}
	if got := pointerCodes(problems); !reflect.DeepEqual(got, want) {
		t.Fatalf("problems = %v\nwant %v", got, want)
	}
	if problems[0].In("en") != "This field is not allowed." || problems[0].In("it") != "Campo non previsto." {
		t.Errorf("messages %q / %q", problems[0].In("en"), problems[0].In("it"))
	}
}

func TestManyProblemsAtOnce(t *testing.T) {
	raw := `{"applicant":{"first_name":"","last_name":"Rossi","tax_code":"RSSMRA85T10A562X","birth_date":"1980-13-01","phone":"abc","zz":1},
		"residence":{"municipality":"tradate"},"household":{"members":21,"minors":-1},"isee_euro":1.001,
		"delivery":"pec","declarations":{"truthful":false,"privacy":"yes"},"extra":1}`
	problems := validate(t, []byte(raw))
	want := []pc{
		{"/applicant/birth_date", "format"},
		{"/applicant/first_name", "min_length"},
		{"/applicant/phone", "min_length"},
		{"/applicant/phone", "pattern"},
		{"/applicant/tax_code", "tax_code"},
		{"/applicant/zz", "additional"},
		{"/declarations/privacy", "type"},
		{"/declarations/truthful", "const"},
		{"/delivery", "enum"},
		{"/extra", "additional"},
		{"/household/members", "maximum"},
		{"/household/minors", "minimum"},
		{"/isee_euro", "multiple_of"},
		{"/residence/address", "required"},
	}
	if got := pointerCodes(problems); !reflect.DeepEqual(got, want) {
		t.Fatalf("problems = %v\nwant %v", got, want)
	}
}

func TestRootNotObject(t *testing.T) {
	for _, raw := range []string{`[]`, `null`, `"x"`, `42`, `true`} {
		problems := validate(t, []byte(raw))
		if got := pointerCodes(problems); !reflect.DeepEqual(got, []pc{{"", "type"}}) {
			t.Errorf("%s: problems = %v", raw, got)
		}
	}
}

func TestMalformedJSON(t *testing.T) {
	for _, raw := range []string{``, `{`, `{"applicant":}`, `{"a":1} {"b":2}`, `{"a":1} x`, `nul`, `{'a':1}`, "\xff"} {
		problems := validate(t, []byte(raw))
		if len(problems) != 1 || problems[0].Pointer != "" || problems[0].Code != "json" {
			t.Errorf("%q: problems = %+v, want one json problem at the root", raw, problems)
		}
	}
	// Surrounding white space is fine.
	app := mustJSON(t, validApplication(t))
	if p := validate(t, append(append([]byte(" \n"), app...), "\n\t "...)); len(p) != 0 {
		t.Errorf("white space around valid JSON: %+v", p)
	}
}

func TestNumbersOutOfRange(t *testing.T) {
	for _, num := range []string{"1e999999999", "-1e999999999", "1e-999999999", "1" + strings.Repeat("0", 500)} {
		raw := strings.Replace(string(mustJSON(t, validApplication(t))), `"isee_euro":7450.35`, `"isee_euro":`+num, 1)
		problems := validate(t, []byte(raw))
		if got := pointerCodes(problems); !reflect.DeepEqual(got, []pc{{"/isee_euro", "number"}}) {
			t.Errorf("%s: problems = %v", num, got)
		}
	}
	// Large but representable numbers go through the schema.
	raw := strings.Replace(string(mustJSON(t, validApplication(t))), `"isee_euro":7450.35`, `"isee_euro":1e300`, 1)
	if got := pointerCodes(validate(t, []byte(raw))); !reflect.DeepEqual(got, []pc{{"/isee_euro", "maximum"}}) {
		t.Errorf("1e300: problems = %v", got)
	}
}

func TestUnknownForm(t *testing.T) {
	version, problems, err := testRegistry.Validate("bonus-affitto", []byte(`{}`), testNow)
	if !errors.Is(err, ErrUnknownForm) {
		t.Fatalf("err = %v, want ErrUnknownForm", err)
	}
	if version != 0 || problems != nil {
		t.Errorf("version = %d, problems = %v", version, problems)
	}
	if _, _, err := testRegistry.Validate("", []byte(`{`), testNow); !errors.Is(err, ErrUnknownForm) {
		t.Errorf("empty id: err = %v", err)
	}
}

func TestCrossFieldHousehold(t *testing.T) {
	cases := []struct {
		members, minors int
		ok              bool
	}{
		{1, 0, true}, {2, 1, true}, {20, 19, true},
		{1, 1, false}, {3, 3, false}, {2, 5, false}, {19, 19, false},
	}
	for _, c := range cases {
		app := validApplication(t)
		set(app, "household/members", c.members)
		set(app, "household/minors", c.minors)
		problems := validate(t, mustJSON(t, app))
		if c.ok {
			if len(problems) != 0 {
				t.Errorf("%d members, %d minors: %v", c.members, c.minors, problems)
			}
			continue
		}
		if got := pointerCodes(problems); !reflect.DeepEqual(got, []pc{{"/household/minors", "cross_field"}}) {
			t.Errorf("%d members, %d minors: problems = %v", c.members, c.minors, got)
			continue
		}
		if !strings.Contains(problems[0].In("en"), "adult") || !strings.Contains(problems[0].In("it"), "maggiorenne") {
			t.Errorf("messages %q / %q", problems[0].In("en"), problems[0].In("it"))
		}
	}
}

func TestCrossFieldBirthDate(t *testing.T) {
	// testNow is 2026-03-15 in Rome.
	cases := []struct {
		birth string
		now   time.Time
		ok    bool
		en    string
	}{
		{"2008-03-15", testNow, true, ""},                                              // 18 today
		{"2008-03-14", testNow, true, ""},                                              // 18 yesterday
		{"2008-03-16", testNow, false, "The applicant must be at least 18 years old."}, // 18 tomorrow
		{"2010-06-01", testNow, false, "The applicant must be at least 18 years old."},
		{"2026-03-14", testNow, false, "The applicant must be at least 18 years old."},
		{"2026-03-15", testNow, false, "The date of birth must be in the past."},
		{"2026-03-16", testNow, false, "The date of birth must be in the past."},
		{"2090-01-01", testNow, false, "The date of birth must be in the past."},
		{"1906-03-15", testNow, true, ""},                                      // 120
		{"1905-03-14", testNow, false, "This date of birth is not plausible."}, // 121
		{"0001-01-01", testNow, false, "This date of birth is not plausible."},
		// Born on February 29: of age on March 1 in a common year.
		{"2008-02-29", time.Date(2026, time.February, 28, 12, 0, 0, 0, calendar.Rome()), false, "The applicant must be at least 18 years old."},
		{"2008-02-29", time.Date(2026, time.March, 1, 12, 0, 0, 0, calendar.Rome()), true, ""},
		// The date is taken in Rome: 23:30 UTC on March 14 is already March 15 there.
		{"2008-03-15", time.Date(2026, time.March, 14, 23, 30, 0, 0, time.UTC), true, ""},
		{"2008-03-15", time.Date(2026, time.March, 14, 22, 30, 0, 0, time.UTC), false, "The applicant must be at least 18 years old."},
	}
	for _, c := range cases {
		app := validApplication(t)
		set(app, "applicant/birth_date", c.birth)
		_, problems, err := testRegistry.Validate("buoni-spesa", mustJSON(t, app), c.now)
		if err != nil {
			t.Fatal(err)
		}
		checkProblems(t, problems)
		if c.ok {
			if len(problems) != 0 {
				t.Errorf("born %s at %s: %v", c.birth, c.now, problems)
			}
			continue
		}
		if got := pointerCodes(problems); !reflect.DeepEqual(got, []pc{{"/applicant/birth_date", "cross_field"}}) {
			t.Errorf("born %s at %s: problems = %v", c.birth, c.now, got)
			continue
		}
		if problems[0].In("en") != c.en {
			t.Errorf("born %s: message %q, want %q", c.birth, problems[0].In("en"), c.en)
		}
	}
}

func TestCrossFieldRulesOnlyAfterSchema(t *testing.T) {
	app := validApplication(t)
	set(app, "household/members", 2)
	set(app, "household/minors", 2)
	set(app, "applicant/birth_date", "2020-01-01")
	set(app, "delivery", "pigeon")
	problems := validate(t, mustJSON(t, app))
	if got := pointerCodes(problems); !reflect.DeepEqual(got, []pc{{"/delivery", "enum"}}) {
		t.Fatalf("problems = %v, want only the schema problem", got)
	}
	set(app, "delivery", "home")
	problems = validate(t, mustJSON(t, app))
	want := []pc{{"/applicant/birth_date", "cross_field"}, {"/household/minors", "cross_field"}}
	if got := pointerCodes(problems); !reflect.DeepEqual(got, want) {
		t.Fatalf("problems = %v, want %v", got, want)
	}
}

func TestFieldErrorJSON(t *testing.T) {
	b, err := json.Marshal(FieldError{Pointer: "/a", Code: "type", Text: i18n.M("forms.err.not_number")})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"pointer":"/a","code":"type","text":{"id":"forms.err.not_number"}}` {
		t.Errorf("JSON = %s", got)
	}
}

// TestEmbeddedSchemasComplete checks every version of every embedded form:
// it compiles (NewRegistry), and the root and every property carry Italian
// and English titles and descriptions, every enum value has titles in both
// languages, and every custom message exists in both languages.
func TestEmbeddedSchemasComplete(t *testing.T) {
	r, err := NewRegistry()
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	if len(r.forms) == 0 {
		t.Fatal("no embedded forms")
	}
	prefixes := map[string]string{}
	for id, versions := range r.forms {
		for i, cf := range versions {
			if cf.form.Version != i+1 {
				t.Errorf("%s: versions are not 1..n: found %d at position %d", id, cf.form.Version, i)
			}
			if other, dup := prefixes[cf.form.CasePrefix]; dup && other != id {
				t.Errorf("case prefix %s used by %s and %s", cf.form.CasePrefix, id, other)
			}
			prefixes[cf.form.CasePrefix] = id
			where := fmt.Sprintf("%s v%d", id, cf.form.Version)
			root := cf.doc.(map[string]any)
			if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("%s: $schema must be draft 2020-12", where)
			}
			checkTranslated(t, where, "(root)", root)
			walkSchema(t, where, "", root)
		}
	}
}

func checkTranslated(t *testing.T, where, ptr string, node map[string]any) {
	t.Helper()
	for _, key := range []string{"title", "x-title-en", "description", "x-description-en"} {
		if s, _ := node[key].(string); strings.TrimSpace(s) == "" {
			t.Errorf("%s: %s has no %q", where, ptr, key)
		}
	}
	if enum, ok := node["enum"].([]any); ok {
		titles, _ := node["x-enum-titles"].(map[string]any)
		for _, v := range enum {
			key := fmt.Sprint(v)
			tr, _ := titles[key].(map[string]any)
			if it, _ := tr["it"].(string); it == "" {
				t.Errorf("%s: %s enum value %q has no Italian title in x-enum-titles", where, ptr, key)
			}
			if en, _ := tr["en"].(string); en == "" {
				t.Errorf("%s: %s enum value %q has no English title in x-enum-titles", where, ptr, key)
			}
		}
		if len(titles) != len(enum) {
			t.Errorf("%s: %s x-enum-titles has %d entries for %d enum values", where, ptr, len(titles), len(enum))
		}
	}
	if errs, ok := node["x-errors"].(map[string]any); ok {
		for code, m := range errs {
			tr, _ := m.(map[string]any)
			if en, _ := tr["en"].(string); en == "" {
				t.Errorf("%s: %s x-errors.%s has no English message", where, ptr, code)
			}
			if it, _ := tr["it"].(string); it == "" {
				t.Errorf("%s: %s x-errors.%s has no Italian message", where, ptr, code)
			}
		}
	}
}

// walkSchema visits every property schema reachable from node.
func walkSchema(t *testing.T, where, ptr string, node map[string]any) {
	t.Helper()
	if props, ok := node["properties"].(map[string]any); ok {
		for name, p := range props {
			child, ok := p.(map[string]any)
			if !ok {
				continue // a boolean schema
			}
			cptr := ptr + "/" + name
			checkTranslated(t, where, cptr, child)
			walkSchema(t, where, cptr, child)
		}
	}
	for _, key := range []string{"items", "additionalProperties"} {
		if child, ok := node[key].(map[string]any); ok {
			walkSchema(t, where, ptr+"/"+key, child)
		}
	}
	for _, key := range []string{"$defs", "patternProperties"} {
		if defs, ok := node[key].(map[string]any); ok {
			for name, d := range defs {
				if child, ok := d.(map[string]any); ok {
					walkSchema(t, where, ptr+"/"+key+"/"+name, child)
				}
			}
		}
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		if list, ok := node[key].([]any); ok {
			for i, d := range list {
				if child, ok := d.(map[string]any); ok {
					walkSchema(t, where, fmt.Sprintf("%s/%s/%d", ptr, key, i), child)
				}
			}
		}
	}
}

func TestNewRegistryRejectsBadForms(t *testing.T) {
	const meta = `{"case_prefix":"BS"}`
	const good = `{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"T","x-title-en":"T","type":"object"}`
	ok := fstest.MapFS{
		"demo/meta.json": {Data: []byte(meta)},
		"demo/1.json":    {Data: []byte(good)},
		"demo/2.json":    {Data: []byte(strings.Replace(good, `"T","x`, `"T2","x`, 1))},
	}
	r, err := newRegistry(ok)
	if err != nil {
		t.Fatalf("good registry: %v", err)
	}
	if f, _ := r.Get("demo"); f.Version != 2 || f.Title != "T2" {
		t.Errorf("latest = %+v", f)
	}
	if v, _, err := r.Validate("demo", []byte(`{}`), testNow); err != nil || v != 2 {
		t.Errorf("Validate used version %d, %v; want 2", v, err)
	}

	ok["demo/999.json"] = &fstest.MapFile{Data: []byte(good)}
	if r, err := newRegistry(ok); err != nil {
		t.Errorf("version %d: %v", MaxPlatformVersion, err)
	} else if f, _ := r.Get("demo"); f.Version != MaxPlatformVersion {
		t.Errorf("latest = %d, want %d", f.Version, MaxPlatformVersion)
	}

	bad := map[string]fstest.MapFS{
		"invalid keyword value": {"demo/meta.json": {Data: []byte(meta)}, "demo/1.json": {Data: []byte(`{"title":"T","x-title-en":"T","type":5}`)}},
		"bad regex":             {"demo/meta.json": {Data: []byte(meta)}, "demo/1.json": {Data: []byte(`{"title":"T","x-title-en":"T","pattern":"("}`)}},
		"not JSON":              {"demo/meta.json": {Data: []byte(meta)}, "demo/1.json": {Data: []byte(`{`)}},
		"not an object":         {"demo/meta.json": {Data: []byte(meta)}, "demo/1.json": {Data: []byte(`[]`)}},
		"no title":              {"demo/meta.json": {Data: []byte(meta)}, "demo/1.json": {Data: []byte(`{"type":"object"}`)}},
		"remote ref":            {"demo/meta.json": {Data: []byte(meta)}, "demo/1.json": {Data: []byte(`{"title":"T","x-title-en":"T","$ref":"https://example.com/s.json"}`)}},
		"no meta":               {"demo/1.json": {Data: []byte(good)}},
		"bad case prefix":       {"demo/meta.json": {Data: []byte(`{"case_prefix":"bs"}`)}, "demo/1.json": {Data: []byte(good)}},
		"unknown meta field":    {"demo/meta.json": {Data: []byte(`{"case_prefix":"BS","x":1}`)}, "demo/1.json": {Data: []byte(good)}},
		"no versions":           {"demo/meta.json": {Data: []byte(meta)}},
		"bad version name":      {"demo/meta.json": {Data: []byte(meta)}, "demo/v1.json": {Data: []byte(good)}},
		"version zero":          {"demo/meta.json": {Data: []byte(meta)}, "demo/0.json": {Data: []byte(good)}},
		"districts' range":      {"demo/meta.json": {Data: []byte(meta)}, "demo/1001.json": {Data: []byte(good)}},
		"beyond the platform's": {"demo/meta.json": {Data: []byte(meta)}, "demo/1000.json": {Data: []byte(good)}},
		"bad form id":           {"Demo/meta.json": {Data: []byte(meta)}, "Demo/1.json": {Data: []byte(good)}},
		"stray file":            {"README": {Data: []byte("x")}},
	}
	for name, fsys := range bad {
		if _, err := newRegistry(fsys); err == nil {
			t.Errorf("%s: newRegistry succeeded, want error", name)
		}
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(mustJSON(f, validApplication(f)))
	f.Add([]byte(`{"applicant":{}}`))
	f.Add([]byte(`{"applicant":{"first_name":" ","tax_code":"rssmra85t10a562s","birth_date":"2999-99-99"},"x":[1,2,{"y":null}]}`))
	f.Add([]byte(`{"household":{"members":1e999999999,"minors":-0.0},"isee_euro":1e-7}`))
	f.Add([]byte(`{"household":{"members":2.0,"minors":2e0}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`"\ud800"`))
	f.Add([]byte(`{"a~b/c":{"":{}}}`))
	f.Add([]byte(``))
	f.Add([]byte("\x00\xff{"))
	// Input hygiene (textcheck): NUL, bidi, invalid UTF-8 in a valid application.
	for _, bad := range []string{"Maria\x00", "Maria\u202e", "Maria\xff", "Ma\nria"} {
		app := validApplication(f)
		app["applicant"].(map[string]any)["first_name"] = bad
		f.Add(mustJSON(f, app))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		version, problems, err := testRegistry.Validate("buoni-spesa", data, testNow)
		if err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if version != 1 {
			t.Fatalf("version = %d", version)
		}
		for i, p := range problems {
			if p.Code == "" || p.In("en") == "" || p.In("it") == "" {
				t.Fatalf("incomplete problem %+v", p)
			}
			if i > 0 && (problems[i-1].Pointer > p.Pointer || problems[i-1].Pointer == p.Pointer && problems[i-1].Code > p.Code) {
				t.Fatalf("problems not sorted: %v", problems)
			}
		}
		if len(problems) == 0 {
			acceptedTextIsClean(t, data)
		}
	})
}

func TestValidateConcurrent(t *testing.T) {
	good := mustJSON(t, validApplication(t))
	bad := []byte(`{"applicant":{"tax_code":"X"},"extra":true}`)
	done := make(chan []FieldError)
	for i := 0; i < 8; i++ {
		go func() {
			var last []FieldError
			for j := 0; j < 50; j++ {
				if _, p, _ := testRegistry.Validate("buoni-spesa", good, testNow); len(p) != 0 {
					last = p
				}
				_, last, _ = testRegistry.Validate("buoni-spesa", bad, testNow)
			}
			done <- last
		}()
	}
	first := <-done
	for i := 1; i < 8; i++ {
		if got := <-done; !reflect.DeepEqual(got, first) {
			t.Fatalf("concurrent results differ: %v vs %v", got, first)
		}
	}
	if len(first) == 0 {
		t.Fatal("bad application passed")
	}
}
