package forms

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// schemaDoc returns the embedded buoni-spesa version 1 decoded, to edit.
func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	f, ok := MustRegistry().GetVersion("buoni-spesa", 1)
	if !ok {
		t.Fatal("buoni-spesa version 1 missing")
	}
	var doc map[string]any
	if err := json.Unmarshal(f.Schema, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestCheckSchemaAcceptsEmbeddedForms(t *testing.T) {
	for _, f := range MustRegistry().List() {
		if problems := CheckSchema(f.ID, f.Schema); len(problems) > 0 {
			t.Errorf("%s version %d: %v", f.ID, f.Version, pointerCodes(problems))
		}
	}
}

func TestCheckSchemaProblemsPointIntoTheSchema(t *testing.T) {
	props := func(doc map[string]any, path ...string) map[string]any {
		n := doc
		for _, p := range path {
			n = n["properties"].(map[string]any)[p].(map[string]any)
		}
		return n
	}
	cases := map[string]struct {
		edit    func(doc map[string]any)
		raw     string
		pointer string
		code    string
	}{
		"not JSON":           {raw: `{"title":`, pointer: "", code: "json"},
		"not an object":      {raw: `[1]`, pointer: "", code: "type"},
		"meta-schema":        {edit: func(d map[string]any) { props(d, "isee_euro")["minimum"] = "zero" }, pointer: "/properties/isee_euro/minimum", code: "meta_schema"},
		"bad regex":          {edit: func(d map[string]any) { props(d, "applicant", "first_name")["pattern"] = "(" }, pointer: "/properties/applicant/properties/first_name/pattern", code: "meta_schema"},
		"no English title":   {edit: func(d map[string]any) { delete(props(d, "household"), "x-title-en") }, pointer: "/properties/household/x-title-en", code: "required"},
		"unsupported type":   {edit: func(d map[string]any) { props(d, "delivery")["type"] = "null" }, pointer: "/properties/delivery/type", code: "unsupported"},
		"unsupported format": {edit: func(d map[string]any) { props(d, "applicant", "email")["format"] = "uri" }, pointer: "/properties/applicant/properties/email/format", code: "unsupported"},
		"oneOf":              {edit: func(d map[string]any) { props(d, "delivery")["oneOf"] = []any{map[string]any{"const": "home"}} }, pointer: "/properties/delivery/oneOf", code: "unsupported"},
		"ISEE not required": {edit: func(d map[string]any) {
			req := d["required"].([]any)
			out := []any{}
			for _, r := range req {
				if r != "isee_euro" {
					out = append(out, r)
				}
			}
			d["required"] = out
		}, pointer: "/required", code: "required_field"},
		"tax code not a tax code": {edit: func(d map[string]any) { delete(props(d, "applicant", "tax_code"), "format") }, pointer: "/properties/applicant/properties/tax_code/format", code: "field_type"},
		"members a string":        {edit: func(d map[string]any) { props(d, "household", "members")["type"] = "string" }, pointer: "/properties/household/properties/members/type", code: "field_type"},
		"choice without titles":   {edit: func(d map[string]any) { delete(props(d, "delivery"), "x-enum-titles") }, pointer: "/properties/delivery/enum/0", code: "required"},
		"too large":               {raw: `{"title":"` + strings.Repeat("a", MaxSchemaBytes) + `"}`, pointer: "", code: "too_large"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			raw := []byte(tc.raw)
			if tc.edit != nil {
				doc := schemaDoc(t)
				tc.edit(doc)
				raw, _ = json.Marshal(doc)
			}
			problems := CheckSchema("buoni-spesa", raw)
			found := false
			for _, p := range problems {
				if p.Pointer == tc.pointer && p.Code == tc.code {
					found = true
				}
				if p.In("it") == "" || p.In("en") == "" || strings.Contains(p.In("it"), "forms.schema") {
					t.Errorf("untranslated problem %+v", p)
				}
			}
			if !found {
				t.Errorf("want %s at %q, got %v", tc.code, tc.pointer, pointerCodes(problems))
			}
		})
	}
}

// TestRegisterAndValidateVersion: a registered version 2 is the latest,
// version 1 still validates what it always did.
func TestRegisterAndValidateVersion(t *testing.T) {
	r, raw := MustRegistry(), withNotes(t)
	if problems := CheckSchema("buoni-spesa", raw); len(problems) > 0 {
		t.Fatalf("version 2 refused: %v", pointerCodes(problems))
	}
	if err := r.Register("buoni-spesa", "", 2, raw); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("buoni-spesa", "", 2, raw); err != nil {
		t.Fatalf("registering the same version again: %v", err)
	}
	if err := r.Register("buoni-spesa", "", 2, []byte(`{"title":"x","x-title-en":"x"}`)); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("another document under version 2: %v", err)
	}
	if f, _ := r.Get("buoni-spesa"); f.Version != 2 || f.CasePrefix != "BS" {
		t.Fatalf("latest = %d %q", f.Version, f.CasePrefix)
	}
	data := mustJSON(t, validApplication(t))
	v, problems, err := r.Validate("buoni-spesa", data, testNow)
	if err != nil || v != 2 || len(problems) != 1 || problems[0].Pointer != "/notes" {
		t.Fatalf("latest: version %d, %v, %v", v, pointerCodes(problems), err)
	}
	if problems, err := r.ValidateVersion("buoni-spesa", 1, data, testNow); err != nil || len(problems) > 0 {
		t.Fatalf("version 1: %v, %v", pointerCodes(problems), err)
	}
	if _, err := r.ValidateVersion("buoni-spesa", 3, data, testNow); !errors.Is(err, ErrUnknownForm) {
		t.Fatalf("version 3: %v", err)
	}
	if err := r.Register("no-such-form", "", 1, raw); !errors.Is(err, ErrUnknownForm) {
		t.Fatalf("unknown form: %v", err)
	}
}

// TestVersionRanges: the embedded versions are the platform's range
// (1..MaxPlatformVersion), below the districts' (from FirstDistrictVersion),
// and a platform version outside it is never registered (migration 035:
// a release's versions and a district's never have the same number).
func TestVersionRanges(t *testing.T) {
	if MaxPlatformVersion >= FirstDistrictVersion {
		t.Fatalf("the ranges overlap: 1..%d and %d..", MaxPlatformVersion, FirstDistrictVersion)
	}
	r, raw := MustRegistry(), withNotes(t)
	for _, f := range r.All() {
		if f.Version < 1 || f.Version > MaxPlatformVersion || f.District != "" {
			t.Errorf("embedded %s version %d of %q: outside the platform's range", f.ID, f.Version, f.District)
		}
	}
	for _, v := range []int{0, MaxPlatformVersion + 1, FirstDistrictVersion} {
		if err := r.Register("buoni-spesa", "", v, raw); err == nil {
			t.Errorf("platform version %d registered", v)
		}
	}
	if err := r.Register("buoni-spesa", "tradate", FirstDistrictVersion, raw); err != nil {
		t.Fatalf("a district's version %d: %v", FirstDistrictVersion, err)
	}
	if f, _ := r.Get("buoni-spesa"); f.Version == FirstDistrictVersion {
		t.Error("a district's version became the latest")
	}
}

// TestADistrictsVersionIsNeverTheLatest: a version a district published
// is found by its number (its calls name it) and says whose it is, but the
// form's latest, what every other filing and list uses, stays the
// platform's: no district is served or validated with another's version.
func TestADistrictsVersionIsNeverTheLatest(t *testing.T) {
	r, raw := MustRegistry(), withNotes(t)
	if err := r.Register("buoni-spesa", "tradate", 2, raw); err != nil {
		t.Fatal(err)
	}
	if f, ok := r.GetVersion("buoni-spesa", 2); !ok || f.District != "tradate" {
		t.Fatalf("version 2: %v %q", ok, f.District)
	}
	if f, _ := r.Get("buoni-spesa"); f.Version != 1 || f.District != "" {
		t.Fatalf("latest = %d of %q", f.Version, f.District)
	}
	for _, f := range r.List() {
		if f.District != "" {
			t.Errorf("listed: %s version %d of %s", f.ID, f.Version, f.District)
		}
	}
	data := mustJSON(t, validApplication(t))
	if v, problems, err := r.Validate("buoni-spesa", data, testNow); err != nil || v != 1 || len(problems) > 0 {
		t.Fatalf("latest: version %d, %v, %v", v, pointerCodes(problems), err)
	}
}

// TestWithChoicesIsStandard: the served schema, with the municipalities as
// enum and oneOf, compiles alone in a plain validator (no custom formats,
// no private keywords needed) that accepts a correct application and
// refuses a municipality that is not a choice.
func TestWithChoicesIsStandard(t *testing.T) {
	for _, f := range MustRegistry().List() {
		served := WithChoices(f.Schema, []Choice{{"tradate", "Tradate", "Tradate"}, {"vedano-olona", "Vedano Olona", "Vedano Olona"}})
		if strings.Contains(string(served), "x-options") {
			t.Fatalf("%s: the served schema keeps x-options", f.ID)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("served.json", strings.NewReader(string(served))); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile("served.json")
		if err != nil {
			t.Fatalf("%s: %v", f.ID, err)
		}
		app := validApplication(t)
		if f.ID == ServiceVoucherForm {
			continue // its payload differs; the API test covers it
		}
		var v any
		_ = json.Unmarshal(mustJSON(t, app), &v)
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: a correct application refused: %v", f.ID, err)
		}
		set(app, "residence.municipality", "milano")
		_ = json.Unmarshal(mustJSON(t, app), &v)
		if err := s.Validate(v); err == nil {
			t.Errorf("%s: a municipality outside the choices accepted", f.ID)
		}
	}
}

// TestRegisterWhileValidating: versions published at run time are added
// while other requests validate (go test -race).
func TestRegisterWhileValidating(t *testing.T) {
	r := MustRegistry()
	data := mustJSON(t, validApplication(t))
	doc := schemaDoc(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := 2; v < 12; v++ {
			doc["x-description-en"] = "version " + string(rune('a'+v))
			raw, _ := json.Marshal(doc)
			if err := r.Register("buoni-spesa", "", v, raw); err != nil {
				t.Error(err)
			}
		}
	}()
	for i := 0; i < 50; i++ {
		if _, problems, err := r.Validate("buoni-spesa", data, testNow); err != nil || len(problems) > 0 {
			t.Fatalf("%v %v", problems, err)
		}
		_ = r.List()
	}
	<-done
	if f, _ := r.Get("buoni-spesa"); f.Version != 11 {
		t.Errorf("latest %d, want 11", f.Version)
	}
}

// withNotes is the food-voucher schema with a new required field, "notes".
func withNotes(t *testing.T) []byte {
	t.Helper()
	doc := schemaDoc(t)
	doc["required"] = append(doc["required"].([]any), "notes")
	doc["properties"].(map[string]any)["notes"] = map[string]any{"title": "Note", "x-title-en": "Notes", "type": "string", "minLength": 1}
	raw, _ := json.Marshal(doc)
	return raw
}
