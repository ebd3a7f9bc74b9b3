package forms

import "testing"

func TestValidVATNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"00743110157":  true,  // a real, published partita IVA
		"01234567897":  true,  // check digit 7
		"01234567890":  false, // wrong check digit
		"00000000000":  false, // all zero
		"0123456789":   false, // too short
		"012345678901": false,
		"0123456789A":  false,
		" 1234567897":  false,
	} {
		if got := ValidVATNumber(s); got != want {
			t.Errorf("ValidVATNumber(%q) = %v, want %v", s, got, want)
		}
	}
}
