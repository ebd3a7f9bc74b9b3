package registry

import (
	"testing"

	"sportello/internal/i18n"
	"sportello/internal/store"
)

// A file's problems become field problems that point at their line and
// column, in both languages; beyond the cap one last problem counts the rest.
func TestFields(t *testing.T) {
	errs := []store.RegistryLineError{
		{Line: 3, Column: "codice_fiscale", Code: "tax_code_invalid", Args: []any{"RSSMRA80A01L319X"}},
		{Line: 5, Code: "field_count", Args: []any{2, 6}},
		{Code: "no_rows"},
	}
	f := Fields(errs, 10)
	if len(f) != 3 || f[0].Pointer != "/lines/3/codice_fiscale" || f[1].Pointer != "/lines/5" || f[2].Parameter != "file" {
		t.Fatalf("fields = %+v", f)
	}
	for lang, want := range map[string]string{
		i18n.IT: "Riga 3, colonna codice_fiscale: codice fiscale non valido (RSSMRA80A01L319X)",
		i18n.EN: "Line 3, column codice_fiscale: invalid tax code (RSSMRA80A01L319X)",
	} {
		if got := f[0].In(lang); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	if got := f[1].In(i18n.EN); got != "Line 5: 2 fields instead of the header's 6" {
		t.Errorf("line problem: %q", got)
	}
	capped := Fields(errs, 2)
	if len(capped) != 3 || capped[2].Code != "more" || capped[2].In(i18n.EN) != "And 1 more problems." {
		t.Errorf("capped = %+v", capped)
	}
}
