package privacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"sportello/internal/i18n"
	"sportello/internal/store"
	"sportello/internal/voucherpdf"
)

// The PDF's layout in both languages: the person, one line per case (its
// status in words, its amount) and an empty section says so.
func TestDocumentInBothLanguages(t *testing.T) {
	x := store.PersonalExport{
		GeneratedAt: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		Person:      json.RawMessage(`{"display_name": "Maria Rossi", "tax_code": "RSSMRA80A41L319X", "isee_euro": 8000}`),
		Cases: json.RawMessage(`[{"id": "BS-2026-000001", "form_id": "buoni-spesa", "status": "approved", "award_cents": 40000,
			"created_at": "2026-11-02T09:00:00Z", "updated_at": "2026-11-03T09:00:00Z"}]`),
	}
	for lang, want := range map[string][]string{
		i18n.IT: {"I tuoi dati personali", "Codice fiscale: RSSMRA80A41L319X", "BS-2026-000001", "400,00", "Nessuno."},
		i18n.EN: {"Your personal data", "Tax code: RSSMRA80A41L319X", "BS-2026-000001", "400.00", "None."},
	} {
		d, err := Document(x, lang)
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		all = append(all, d.Title, d.Subtitle)
		for _, s := range d.Sections {
			all = append(all, s.Heading, s.Empty)
			all = append(all, s.Lines...)
		}
		text := strings.Join(all, "\n")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the document lacks %q:\n%s", lang, w, text)
			}
		}
		var b bytes.Buffer
		if err := voucherpdf.WritePersonalData(&b, d); err != nil || !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
			t.Errorf("%s: PDF %v", lang, err)
		}
	}
}

// A section that is not an array of its rows is an error naming the
// section, not an empty list; a missing section is no rows.
func TestDocumentRefusesABadSection(t *testing.T) {
	x := store.PersonalExport{Person: json.RawMessage(`{"display_name": "Maria Rossi"}`),
		Vouchers: json.RawMessage(`{"code": "not an array"}`)}
	if _, err := Document(x, i18n.IT); err == nil || !strings.Contains(err.Error(), "vouchers") {
		t.Errorf("a voucher section that is an object: %v", err)
	}
	x.Vouchers = json.RawMessage(`[{"amount_cents": "ten"}]`)
	if _, err := Document(x, i18n.EN); err == nil {
		t.Error("an amount that is a string was laid out")
	}
	x.Vouchers = nil
	x.Person = json.RawMessage(`[]`)
	if _, err := Document(x, i18n.EN); err == nil || !strings.Contains(err.Error(), "person") {
		t.Errorf("a person that is an array: %v", err)
	}
}

func TestSectionLines(t *testing.T) {
	type row struct {
		N int `json:"n"`
	}
	line := func(r row) string { return strings.Repeat("x", r.N) }
	if got, err := sectionLines(json.RawMessage(`[{"n": 1}, {"n": 3}]`), line); err != nil || strings.Join(got, ",") != "x,xxx" {
		t.Errorf("two rows: %q %v", got, err)
	}
	if got, err := sectionLines(nil, line); err != nil || got != nil {
		t.Errorf("no section: %q %v", got, err)
	}
	if got, err := sectionLines(json.RawMessage(`null`), line); err != nil || len(got) != 0 {
		t.Errorf("null: %q %v", got, err)
	}
	var syn *json.SyntaxError
	if _, err := sectionLines(json.RawMessage(`[{"n": 1}`), line); !errors.As(err, &syn) {
		t.Errorf("truncated JSON: %v", err)
	}
}
