package forms

import (
	"testing"
	"time"
)

func TestTaxCodeBirth(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	code := func(first15 string) string {
		c, err := TaxCodeCheckChar(first15)
		if err != nil {
			t.Fatal(err)
		}
		return first15 + string(c)
	}
	for _, tc := range []struct {
		code   string
		born   string
		female bool
		ok     bool
	}{
		{code("RSSMRA80A41L319"), "1980-01-01", true, true},
		{code("RSSMRA85T10A562"), "1985-12-10", false, true},
		{code("BNCLCU05M15L319"), "2005-08-15", false, true},
		{code("BNCLCU26T31L319"), "1926-12-31", false, true}, // 2026-12-31 is after now: the century before
		{code("BNCLCU8LA01L319"), "1980-01-01", false, true}, // omocodia: L stands for 0
		{code("BNCLCU80B70L319"), "", false, false},          // 30 February
		{"RSSMRA80A41L319X", "", false, false},               // wrong check character
	} {
		born, female, ok := TaxCodeBirth(tc.code, now)
		if ok != tc.ok || (ok && (born.Format("2006-01-02") != tc.born || female != tc.female)) {
			t.Errorf("%s: %s %v %v, want %s %v %v", tc.code, born.Format("2006-01-02"), female, ok, tc.born, tc.female, tc.ok)
		}
	}
}
