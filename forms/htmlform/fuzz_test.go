package htmlform

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseNumber: the parser of numbers typed by people (ISEE in euro,
// household sizes) never panics, and what it accepts is a plain JSON number
// that survives being shown (formatNumber, both languages) and typed again.
// Seeds: testdata/fuzz/FuzzParseNumber.
func FuzzParseNumber(f *testing.F) {
	f.Add("4.500,50", false)
	f.Fuzz(func(t *testing.T, text string, integer bool) {
		n, problem := parseNumber(text, integer)
		if problem != numberOK {
			if n != "" {
				t.Fatalf("parseNumber(%q) refused with a value %q", text, n)
			}
			return
		}
		if !json.Valid([]byte(n)) || strings.ContainsAny(string(n), "eE+") {
			t.Fatalf("parseNumber(%q) = %q: not a plain JSON number", text, n)
		}
		if integer && strings.Contains(string(n), ".") {
			t.Fatalf("parseNumber(%q, integer) = %q", text, n)
		}
		for _, lang := range []string{"it", "en"} {
			shown := formatNumber(n, lang)
			again, p := parseNumber(shown, integer)
			if p == numberAmbiguous {
				continue // "7.200" shown back is ambiguous by design
			}
			if p != numberOK || again != n {
				t.Fatalf("parseNumber(%q) = %q, shown in %s as %q, parsed again as %q (%d)", text, n, lang, shown, again, p)
			}
		}
	})
}
