package forms

import (
	"strings"
	"testing"
)

// buildTaxCode appends the check character to a 15-character prefix.
func buildTaxCode(t testing.TB, first15 string) string {
	t.Helper()
	c, err := TaxCodeCheckChar(first15)
	if err != nil {
		t.Fatalf("TaxCodeCheckChar(%q): %v", first15, err)
	}
	return first15 + string(c)
}

func TestTaxCodeCheckCharKnownCodes(t *testing.T) {
	// Codes published as examples by the revenue agency and in manuals.
	for _, code := range []string{"RSSMRA85T10A562S", "MRTMTT25D09F205Z"} {
		c, err := TaxCodeCheckChar(code[:15])
		if err != nil {
			t.Fatal(err)
		}
		if c != code[15] {
			t.Errorf("TaxCodeCheckChar(%q) = %c, want %c", code[:15], c, code[15])
		}
		if !ValidTaxCode(code) {
			t.Errorf("ValidTaxCode(%q) = false", code)
		}
	}
}

func TestTaxCodeCheckCharErrors(t *testing.T) {
	for _, in := range []string{"", "RSSMRA85T10A56", "RSSMRA85T10A5622", "RSSMRA85T10A56-", "RSSMRA85T10A56à"} {
		if _, err := TaxCodeCheckChar(in); err == nil {
			t.Errorf("TaxCodeCheckChar(%q): want error", in)
		}
	}
	lower, err := TaxCodeCheckChar("rssmra85t10a562")
	if err != nil || lower != 'S' {
		t.Errorf("TaxCodeCheckChar(lowercase) = %c, %v; want S", lower, err)
	}
}

func TestValidTaxCode(t *testing.T) {
	valid := []string{
		buildTaxCode(t, "RSSMRA85T10A562"), // man, born 10 Dec 1985 in Rome
		buildTaxCode(t, "BNCLRA90A41F205"), // woman (day 1 + 40), born in Milan
		buildTaxCode(t, "VRDGPP70E71L319"), // woman, day 31, born in Tradate
		buildTaxCode(t, "FRRLCU02S15Z129"), // born abroad (Z code)
		buildTaxCode(t, "XXXYYY99C31H264"),
		buildTaxCode(t, "RSSMRA85T10A56N"), // omocodia: last digit 2 -> N
		buildTaxCode(t, "RSSMRA85T10ARNN"), // omocodia on all the municipality digits
		buildTaxCode(t, "RSSMRAULTMLA562"), // omocodia on year and day (day 10 -> ML)
		buildTaxCode(t, "RSSMRAVVTQVAVVV"), // every digit replaced: year 99, day 49, A999
	}
	for _, code := range valid {
		if !ValidTaxCode(code) {
			t.Errorf("ValidTaxCode(%q) = false, want true", code)
		}
		if !ValidTaxCode(strings.ToLower(code)) {
			t.Errorf("ValidTaxCode(%q) = false, lowercase must be accepted", strings.ToLower(code))
		}
	}

	good := buildTaxCode(t, "RSSMRA85T10A562")
	wrongCheck := good[:15] + string(rune('A'+(good[15]-'A'+1)%26))
	invalid := map[string]string{
		"wrong check char":       wrongCheck,
		"empty":                  "",
		"too short":              good[:15],
		"too long":               good + "A",
		"leading space":          " " + good[:15],
		"trailing space":         good[:15] + " ",
		"digit in surname":       buildTaxCode(t, "R5SMRA85T10A562"),
		"letter in year":         buildTaxCode(t, "RSSMRA8AT10A562"), // A is not an omocodia letter
		"W is not omocodia":      buildTaxCode(t, "RSSMRA85T10A56W"),
		"bad month letter":       buildTaxCode(t, "RSSMRA85F10A562"),
		"digit as month":         buildTaxCode(t, "RSSMRA85110A562"),
		"day 00":                 buildTaxCode(t, "RSSMRA85T00A562"),
		"day 32":                 buildTaxCode(t, "RSSMRA85T32A562"),
		"day 40":                 buildTaxCode(t, "RSSMRA85T40A562"),
		"day 72":                 buildTaxCode(t, "RSSMRA85T72A562"),
		"day 72 via omocodia":    buildTaxCode(t, "RSSMRA85TTNA562"), // T=7, N=2
		"digit as municipality":  buildTaxCode(t, "RSSMRA85T101562"),
		"digit as check char":    good[:15] + "1",
		"non-ASCII":              good[:14] + "é",
		"punctuation":            good[:6] + "-" + good[7:],
		"temporary numeric code": "12345678901",
	}
	for name, code := range invalid {
		if ValidTaxCode(code) {
			t.Errorf("%s: ValidTaxCode(%q) = true, want false", name, code)
		}
	}
}

func TestValidTaxCodeSingleCharErrorsDetected(t *testing.T) {
	// Changing any one of the first 15 characters to another character that
	// keeps the layout valid must change the check character.
	good := buildTaxCode(t, "RSSMRA85T10A562")
	for i := 0; i < 15; i++ {
		for c := byte('0'); c <= 'Z'; c++ {
			if c > '9' && c < 'A' || c == good[i] {
				continue
			}
			mutated := good[:i] + string(c) + good[i+1:]
			if ValidTaxCode(mutated) {
				t.Errorf("ValidTaxCode(%q) = true after changing position %d", mutated, i)
			}
		}
	}
}
