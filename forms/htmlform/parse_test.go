package htmlform

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"

	"sportello/forms"
	"sportello/internal/i18n"
)

// validPost is what a browser posts for a complete, valid application.
func validPost(t testing.TB) url.Values {
	return url.Values{
		"/applicant/first_name":   {"Maria Luisa"},
		"/applicant/last_name":    {"D'Angelo"},
		"/applicant/tax_code":     {taxCode(t, "DNGMLS80A41L319")},
		"/applicant/birth_date":   {"1980-01-01"},
		"/applicant/email":        {"maria.dangelo@example.it"},
		"/applicant/phone":        {"+39 0331 123456"},
		"/residence/municipality": {"vedano-olona"},
		"/residence/address":      {"Via Roma 12"},
		"/household/members":      {"4"},
		"/household/minors":       {"2"},
		"/isee_euro":              {"7450,35"},
		"/delivery":               {"download"},
		"/declarations/truthful":  {"true"},
		"/declarations/privacy":   {"true"},
		"_csrf":                   {"token"},
		"_submit":                 {"1"},
	}
}

func validateBS(t testing.TB, data []byte) []forms.FieldError {
	t.Helper()
	_, problems, err := registry.Validate("buoni-spesa", data, now)
	if err != nil {
		t.Fatal(err)
	}
	return problems
}

func TestParseFullValidPost(t *testing.T) {
	data, problems := Parse(buoniSpesa(t), validPost(t))
	if len(problems) != 0 {
		t.Fatalf("problems: %+v", problems)
	}
	if p := validateBS(t, data); len(p) != 0 {
		t.Fatalf("Validate refused %s: %+v", data, p)
	}
	want := decode(t, mustJSON(t, validData(t)))
	if got := decode(t, data); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse gave\n%v\nwant\n%v", got, want)
	}
}

// TestRenderSubmitParseRoundTrip renders the form with data, posts it as a
// browser would, and parses the post back into the same data.
func TestRenderSubmitParseRoundTrip(t *testing.T) {
	schema := buoniSpesa(t)
	for _, lang := range []string{"it", "en"} {
		values := mustJSON(t, validData(t))
		doc := render(t, schema, values, nil, lang)
		data, problems := Parse(schema, submit(doc, nil))
		if len(problems) != 0 {
			t.Fatalf("%s: problems %+v", lang, problems)
		}
		if got, want := decode(t, data), decode(t, values); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: round trip gave\n%v\nwant\n%v", lang, got, want)
		}
		if p := validateBS(t, data); len(p) != 0 {
			t.Errorf("%s: Validate: %+v", lang, p)
		}
	}
	// An empty form posts back into data whose problems all have a field.
	doc := render(t, schema, nil, nil, "it")
	data, problems := Parse(schema, submit(doc, nil))
	if len(problems) != 0 {
		t.Fatalf("problems %+v", problems)
	}
	p := validateBS(t, data)
	got := map[string]string{}
	for _, e := range p {
		got[e.Pointer] = e.Code
	}
	want := map[string]string{
		"/applicant/first_name":   "min_length",
		"/applicant/last_name":    "min_length",
		"/applicant/tax_code":     "required",
		"/applicant/birth_date":   "required",
		"/residence/municipality": "min_length",
		"/residence/address":      "min_length",
		"/household/members":      "required",
		"/household/minors":       "required",
		"/isee_euro":              "required",
		"/delivery":               "required",
		"/declarations/truthful":  "const",
		"/declarations/privacy":   "const",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("empty form problems %v, want %v", got, want)
	}
	// Each problem renders next to its control.
	doc = render(t, schema, data, p, "it")
	checkAccessible(t, doc)
	for ptr := range want {
		for _, c := range byName(doc, ptr) {
			if attrOr(c, "aria-invalid") != "true" {
				t.Errorf("%s not marked invalid", ptr)
			}
		}
	}
}

func TestParseConversions(t *testing.T) {
	schema := buoniSpesa(t)
	post := validPost(t)
	post.Set("/isee_euro", "7200,50")
	post.Del("/declarations/privacy")
	post.Set("/applicant/email", "  ")
	post.Del("/applicant/phone")
	post.Set("/applicant/first_name", "  Maria  ")
	post.Set("/unknown", "x")
	post.Set("/applicant/unknown", "x")
	post.Set("_ignored", "x")
	data, problems := Parse(schema, post)
	if len(problems) != 0 {
		t.Fatalf("problems %+v", problems)
	}
	m := decode(t, data)
	if m["isee_euro"] != 7200.5 {
		t.Errorf("isee_euro %v, want 7200.5", m["isee_euro"])
	}
	if v, ok := m["declarations"].(map[string]any)["privacy"]; !ok || v != false {
		t.Errorf("missing checkbox: %v (present %v), want false", v, ok)
	}
	applicant := m["applicant"].(map[string]any)
	for _, k := range []string{"email", "phone", "unknown"} {
		if v, ok := applicant[k]; ok {
			t.Errorf("applicant.%s = %q, want it omitted", k, v)
		}
	}
	if _, ok := m["unknown"]; ok {
		t.Error("unknown name kept")
	}
	if applicant["first_name"] != "Maria" {
		t.Errorf("first_name %q, want trimmed", applicant["first_name"])
	}
	p := validateBS(t, data)
	if len(p) != 1 || p[0].Pointer != "/declarations/privacy" || p[0].Code != "const" {
		t.Errorf("Validate: %+v, want only const at /declarations/privacy", p)
	}
}

func TestParseBadNumbers(t *testing.T) {
	schema := buoniSpesa(t)
	post := validPost(t)
	post.Set("/household/members", "abc")
	post.Set("/household/minors", "1,5")
	post.Set("/isee_euro", "7.200")
	data, problems := Parse(schema, post)
	want := map[string]forms.FieldError{
		"/household/members": {Pointer: "/household/members", Code: "type", Text: i18n.M("forms.err.not_integer")},
		"/household/minors":  {Pointer: "/household/minors", Code: "type", Text: i18n.M("forms.err.not_integer")},
		"/isee_euro": {Pointer: "/isee_euro", Code: "type",
			Text: i18n.M("forms.err.ambiguous_number")},
	}
	if len(problems) != len(want) {
		t.Fatalf("problems %+v", problems)
	}
	for _, p := range problems {
		if w := want[p.Pointer]; p.Pointer != w.Pointer || p.Code != w.Code || p.Text.ID != w.Text.ID {
			t.Errorf("problem %+v, want %+v", p, want[p.Pointer])
		}
	}
	m := decode(t, data)
	if h := m["household"].(map[string]any); len(h) != 0 {
		t.Errorf("household %v, want the bad fields omitted", h)
	}
	if _, ok := m["isee_euro"]; ok {
		t.Error("isee_euro kept")
	}
	post.Set("/isee_euro", "un milione")
	_, problems = Parse(schema, post)
	for _, p := range problems {
		if p.Pointer == "/isee_euro" && (p.In("en") != "Must be a number." || p.In("it") != "Deve essere un numero.") {
			t.Errorf("isee problem %+v", p)
		}
	}
}

func TestParseNumber(t *testing.T) {
	cases := []struct {
		in      string
		integer bool
		want    string
		problem numberProblem
	}{
		{"7200,50", false, "7200.5", numberOK},
		{"7200.50", false, "7200.5", numberOK},
		{" 7 200,50 ", false, "7200.5", numberOK},
		{"7\u00a0200,50", false, "7200.5", numberOK},
		{"1.234,56", false, "1234.56", numberOK},
		{"1,234.56", false, "1234.56", numberOK},
		{"1.234.567", true, "1234567", numberOK},
		{"1,234,567", true, "1234567", numberOK},
		{"0,5", false, "0.5", numberOK},
		{",5", false, "0.5", numberOK},
		{"0.200", false, "0.2", numberOK},
		{"007", true, "7", numberOK},
		{"4,0", true, "4", numberOK},
		{"-3", true, "-3", numberOK},
		{"\u22123,5", false, "-3.5", numberOK},
		{"+12", true, "12", numberOK},
		{"-0", true, "0", numberOK},
		{"0", true, "0", numberOK},
		{"1000000", false, "1000000", numberOK},
		{"7.200", false, "", numberAmbiguous},
		{"7,200", true, "", numberAmbiguous},
		{"1,5", true, "", numberNotInteger},
		{"abc", true, "", numberInvalid},
		{"", true, "", numberInvalid},
		{"12,", false, "", numberInvalid},
		{"1..2", false, "", numberInvalid},
		{"1,2,3", false, "", numberInvalid},
		{"1.23.456", false, "", numberInvalid},
		{"12.34,56", false, "", numberInvalid},
		{"1,234.5,6", false, "", numberInvalid},
		{"1e3", false, "", numberInvalid},
		{"0x10", true, "", numberInvalid},
		{"+", true, "", numberInvalid},
		{"--1", true, "", numberInvalid},
		{"1 2", true, "", numberInvalid},
		{"12345678901234567890123456789012345678901234567890123456789012345", true, "", numberInvalid},
		{"Infinity", false, "", numberInvalid},
		{"NaN", false, "", numberInvalid},
		{"٣", true, "", numberInvalid},
	}
	for _, c := range cases {
		got, problem := parseNumber(c.in, c.integer)
		if string(got) != c.want || problem != c.problem {
			t.Errorf("parseNumber(%q, %v) = %q, %d; want %q, %d", c.in, c.integer, got, problem, c.want, c.problem)
		}
		if problem == numberOK {
			var f float64
			if err := json.Unmarshal([]byte(got), &f); err != nil {
				t.Errorf("parseNumber(%q) = %q: not JSON: %v", c.in, got, err)
			}
		}
	}
}

func TestParseRequiredEmptyStrings(t *testing.T) {
	post := validPost(t)
	for _, k := range []string{"/applicant/first_name", "/applicant/tax_code", "/applicant/birth_date", "/residence/address", "/delivery"} {
		post.Set(k, "")
	}
	data, problems := Parse(buoniSpesa(t), post)
	if len(problems) != 0 {
		t.Fatalf("problems %+v", problems)
	}
	m := decode(t, data)
	applicant := m["applicant"].(map[string]any)
	if v, ok := applicant["first_name"]; !ok || v != "" {
		t.Errorf("first_name (minLength 1): %v %v, want \"\"", v, ok)
	}
	for _, k := range []string{"tax_code", "birth_date"} {
		if _, ok := applicant[k]; ok {
			t.Errorf("%s (no minLength): kept, want omitted", k)
		}
	}
	if _, ok := m["delivery"]; ok {
		t.Error("empty enum kept")
	}
	got := map[string]string{}
	for _, p := range validateBS(t, data) {
		got[p.Pointer] = p.Code
	}
	want := map[string]string{
		"/applicant/first_name": "min_length",
		"/applicant/tax_code":   "required",
		"/applicant/birth_date": "required",
		"/residence/address":    "min_length",
		"/delivery":             "required",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate: %v, want %v", got, want)
	}
}

func TestParseTypedEnumsBooleansAndObjects(t *testing.T) {
	schema := []byte(`{"type":"object","required":["size","ok"],"properties":{
		"size":{"type":"integer","enum":[1,2,3]},
		"label":{"type":"string","enum":["a","b"]},
		"ok":{"type":"boolean"},
		"flag":{"type":"boolean"},
		"extra":{"type":"object","properties":{"x":{"type":"string"},"y":{"type":"boolean"}}},
		"must":{"type":"object","required":["z"],"properties":{"z":{"type":"string"}}},
		"text":{"type":"string","maxLength":500}
	}}`)
	data, problems := Parse(schema, url.Values{
		"/size":  {"2"},
		"/label": {"zzz"},
		"/ok":    {"on"},
		"/text":  {"line 1\r\nline 2\r\n"},
	})
	if len(problems) != 0 {
		t.Fatalf("problems %+v", problems)
	}
	want := map[string]any{"size": 2.0, "label": "zzz", "ok": true, "flag": false, "text": "line 1\nline 2"}
	if got := decode(t, data); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Something filled in an optional object keeps it.
	data, _ = Parse(schema, url.Values{"/extra/x": {"v"}})
	if got := decode(t, data)["extra"]; !reflect.DeepEqual(got, map[string]any{"x": "v", "y": false}) {
		t.Errorf("extra %v", got)
	}
	// A bad integer enum value.
	_, problems = Parse(schema, url.Values{"/size": {"due"}})
	if len(problems) != 1 || problems[0].Pointer != "/size" || problems[0].Code != "type" {
		t.Errorf("problems %+v", problems)
	}
	// A malformed schema.
	if _, problems := Parse([]byte(`{`), url.Values{}); len(problems) != 1 || problems[0].Pointer != "" {
		t.Errorf("malformed schema: %+v", problems)
	}
}
