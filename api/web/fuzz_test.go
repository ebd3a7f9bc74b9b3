package web

import (
	"fmt"
	"testing"
)

// FuzzParseEuroInput: amounts typed by staff and merchants never panic,
// are never negative, and an amount shown back the Italian or the English
// way reads as the same cents. Seeds: testdata/fuzz/FuzzParseEuroInput.
func FuzzParseEuroInput(f *testing.F) {
	f.Add("1.234,50")
	f.Fuzz(func(t *testing.T, s string) {
		cents, ok := parseEuroInput(s)
		if !ok {
			return
		}
		if cents < 0 {
			t.Fatalf("parseEuroInput(%q) = %d", s, cents)
		}
		for _, shown := range []string{
			fmt.Sprintf("%d,%02d", cents/100, cents%100),
			fmt.Sprintf("€ %d.%02d", cents/100, cents%100),
			formatEuro(langIT, cents),
		} {
			if again, ok := parseEuroInput(shown); !ok || again != cents {
				t.Fatalf("parseEuroInput(%q) = %d, shown as %q reads %d %v", s, cents, shown, again, ok)
			}
		}
	})
}
