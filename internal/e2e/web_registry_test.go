package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sportello/internal/browsertest"
	"sportello/internal/seed"
)

// TestWebRegistryImport: the district's supervisor opens "Anagrafe" from
// the menu and uploads Tradate's registry extract. A file with a wrong tax
// code comes back as a 422 listing the line; the good file's dry run shows
// the counts and the rows of each kind (new, moved, gone), writing
// nothing; confirming applies exactly that file and lists the import.
// axe finds no WCAG 2.1 A/AA violation on any of the pages, on a phone too.
func TestWebRegistryImport(t *testing.T) {
	s := newStack(t)
	res := seed.Residents()
	maria, luca, marco := res[0], res[2], res[6]
	sara := seed.Resident{FirstName: "Sara", LastName: "Conti", Female: true, Born: time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC), BirthPlace: "L319"}
	line := func(r seed.Resident, household string) string {
		return r.TaxCode() + ";" + r.LastName + ";" + r.FirstName + ";" + r.Born.Format("02/01/2006") + ";L319;" + household + "\n"
	}
	header := "codice_fiscale;cognome;nome;data_nascita;comune;id_famiglia\n"
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	bad := write("anagrafe-errata.csv", header+line(maria, "100001")+"RSSMRA80A01L319X;Rossi;Mario;01/01/1980;L319;100001\n")
	good := write("anagrafe-tradate.csv", header+line(maria, "100001")+line(marco, "100009")+line(sara, "100010"))
	upload := func(p *browsertest.Page, path string) {
		t.Helper()
		if err := chromedp.Run(p.Ctx, chromedp.SetUploadFiles("#file", []string{path}, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		p.Submit("Verifica le modifiche")
	}

	p := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	p.Follow("Anagrafe")
	assertPath(t, p, "/registry")
	assertPage(t, p, "Anagrafe della popolazione", "Carica l'estratto dell'anagrafe del comune", "codice_fiscale;cognome;nome;data_nascita;comune;id_famiglia")
	p.Axe()

	upload(p, bad)
	// The form is boosted by htmx: the 422 shows in the browser's log.
	if !slices.ContainsFunc(p.Console(), func(l string) bool {
		return strings.Contains(l, "status of 422") && strings.Contains(l, "/registry/preview")
	}) {
		t.Errorf("a bad file was not answered 422: %v", p.Console())
	}
	assertText(t, p, "Il file non è stato importato", "Riga 3, colonna codice_fiscale: codice fiscale non valido (RSSMRA80A01L319X)")
	p.Axe()

	upload(p, good)
	assertPath(t, p, "/registry/preview")
	assertText(t, p, "Modifiche previste: Tradate", "3 righe nel file anagrafe-tradate.csv", "Nuovi residenti", "Non più residenti",
		sara.TaxCode(), luca.TaxCode(), "Conferma l'importazione")
	for kind, want := range map[string]string{"new": "1", "moved": "1", "updated": "0", "gone": "1", "unchanged": "1"} {
		if got := p.Text(`.registry-counts tr[data-kind="` + kind + `"] td`); got != want {
			t.Errorf("%s: %q, want %s", kind, got, want)
		}
	}
	if n := s.count(`SELECT count(*) FROM residents WHERE tax_code = $1`, sara.TaxCode()); n != 0 {
		t.Fatal("the dry run wrote a resident")
	}
	p.Axe()
	p.Screenshot("registry-dry-run")

	p.Submit("Conferma l'importazione")
	assertPath(t, p, "/registry")
	assertText(t, p, "Importazione registrata: 1 nuovi, 1 trasferiti, 0 corretti, 1 non più residenti.", "anagrafe-tradate.csv", "Importazione", "Verifica")
	if n := s.count(`SELECT count(*) FROM residents WHERE tax_code = $1 AND municipality_id = 'tradate' AND ceased_at IS NULL`, sara.TaxCode()); n != 1 {
		t.Error("Sara was not imported")
	}
	if n := s.count(`SELECT count(*) FROM residents WHERE tax_code = $1 AND ceased_at IS NOT NULL`, luca.TaxCode()); n != 1 {
		t.Error("Luca is not marked no longer resident")
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'registry_import' AND actor_username = 'supervisore'`); n != 1 {
		t.Errorf("%d audit rows of the import, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM registry_imports WHERE status = 'dry_run' AND confirmed_by IS NOT NULL AND content IS NULL`); n != 1 {
		t.Errorf("the confirmed dry run kept its file or was not linked to its import (%d)", n)
	}
	p.Phone()
	p.Reload()
	p.Axe()
}
