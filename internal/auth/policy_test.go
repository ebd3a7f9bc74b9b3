package auth

import (
	"strings"
	"testing"

	"sportello/internal/i18n"
)

func TestPasswordProblem(t *testing.T) {
	for _, tc := range []struct {
		password, code string
	}{
		{"short", "too_short"},
		{"          ", "blank"},
		{"xmaria.rossi2026", "contains_username"},
		{strings.Repeat("a", 1025), "too_long"},
		{"una frase lunga e sicura", ""},
	} {
		code, text, ok := PasswordProblem(tc.password, "maria.rossi")
		if code != tc.code || ok != (tc.code == "") || (!ok && !i18n.Has(text.ID)) {
			t.Errorf("%q: code %q ok %v, want %q", tc.password, code, ok, tc.code)
		}
	}
}
