package forms

import (
	"strings"
	"testing"
	"unicode/utf8"

	"sportello/internal/textcheck"
)

// acceptedTextIsClean fails when data that Validate accepted holds text
// that the input rules (textcheck) refuse: FuzzValidate's property.
func acceptedTextIsClean(t *testing.T, data []byte) {
	t.Helper()
	if !utf8.Valid(data) {
		t.Fatalf("accepted invalid UTF-8: %q", data)
	}
	v, err := decodeJSON(data)
	if err != nil {
		t.Fatalf("accepted bad JSON %q: %v", data, err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if code := textcheck.Check(v, true); code != "" {
				t.Fatalf("accepted %q (%s)", v, code)
			}
		case map[string]any:
			for k, item := range v {
				if code := textcheck.Check(k, false); code != "" {
					t.Fatalf("accepted member name %q (%s)", k, code)
				}
				walk(item)
			}
		case []any:
			for _, item := range v {
				walk(item)
			}
		}
	}
	walk(v)
}

// FuzzTaxCode: the codice fiscale check never panics, accepts only 16
// letters and digits whose 16th is the check character of the first 15, and
// a code rebuilt from its first 15 characters is valid exactly when the
// original layout is. Seeds: testdata/fuzz/FuzzTaxCode.
func FuzzTaxCode(f *testing.F) {
	f.Add("RSSMRA85T10A562S")
	f.Fuzz(func(t *testing.T, s string) {
		valid := ValidTaxCode(s)
		if !valid {
			if len(s) >= 15 {
				_, _ = TaxCodeCheckChar(s[:15])
			}
			return
		}
		if len(s) != 16 {
			t.Fatalf("ValidTaxCode(%q) with %d bytes", s, len(s))
		}
		for i := 0; i < 16; i++ {
			if charIndex(upperASCII(s[i])) < 0 {
				t.Fatalf("ValidTaxCode(%q): byte %d is not a letter or digit", s, i)
			}
		}
		c, err := TaxCodeCheckChar(s[:15])
		if err != nil || c != upperASCII(s[15]) {
			t.Fatalf("ValidTaxCode(%q) but the check character is %q (%v)", s, c, err)
		}
		if !ValidTaxCode(strings.ToLower(s)) || !ValidTaxCode(strings.ToUpper(s)) {
			t.Fatalf("ValidTaxCode(%q) depends on case", s)
		}
	})
}
