// Package apptest helps the application services' tests.
package apptest

import (
	"testing"

	"sportello/internal/app"
)

// Fields lists field problems as "pointer code", failing t for a problem
// that lacks its Italian or English text.
func Fields(t testing.TB, fields []app.FieldError) []string {
	t.Helper()
	var out []string
	for _, f := range fields {
		if f.Message == "" || f.MessageIT == "" {
			t.Errorf("%s: a field problem without both texts", f.Pointer)
		}
		out = append(out, f.Pointer+" "+f.Code)
	}
	return out
}
