// Package apptest helps the application services' tests.
package apptest

import (
	"strings"
	"testing"

	"sportello/internal/app"
	"sportello/internal/i18n"
)

// Fields lists field problems as "pointer code", failing t for a problem
// whose text is missing in a language (Texts).
func Fields(t testing.TB, fields []app.FieldError) []string {
	t.Helper()
	var out []string
	for _, f := range fields {
		if it, en := Texts(t, f.Text); it == "" || en == "" {
			t.Errorf("%s: a field problem without both texts", f.Pointer)
		}
		out = append(out, f.Pointer+" "+f.Code)
	}
	return out
}

// Texts returns m's Italian and English texts, failing t when its id has
// no text in a language or its arguments do not fit its fmt verbs.
func Texts(t testing.TB, m i18n.Message) (it, en string) {
	t.Helper()
	if !i18n.Has(m.ID) {
		t.Errorf("message %q is not in every message file", m.ID)
		return "", ""
	}
	it, en = m.In(i18n.IT), m.In(i18n.EN)
	for _, s := range []string{it, en} {
		if strings.Contains(s, "%!") {
			t.Errorf("message %q: its arguments %v do not fit: %q", m.ID, m.Args, s)
		}
	}
	return it, en
}
