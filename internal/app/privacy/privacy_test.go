package privacy

import (
	"bytes"
	"encoding/json"
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
		d := Document(x, lang)
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
