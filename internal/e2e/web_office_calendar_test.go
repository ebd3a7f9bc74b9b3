package e2e

import (
	"testing"

	"sportello/internal/browsertest"
)

// TestWebOfficeCalendar: the supervisor opens "Calendario uffici" from the
// menu, edits Tradate's calendar, is told at the field that 31 February and
// an office closing before it opens are impossible, then saves Santo
// Stefano on 26 December with morning hours; axe finds no WCAG 2.1 A/AA
// violation on any of the pages, on a phone-sized screen too.
func TestWebOfficeCalendar(t *testing.T) {
	s := newStack(t)
	p := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	p.Follow("Calendario uffici")
	assertPath(t, p, "/calendar")
	assertPage(t, p, "Calendario degli uffici", "Le feste patronali vengono dai dati dell'ambito", "Tradate", "dalle 08:30 alle 17:00, dal lunedì al venerdì", "Non indicato")

	p.Follow("Modifica — Tradate")
	assertPath(t, p, "/calendar/tradate")
	assertTitle(t, p, "Calendario degli uffici di Tradate")
	p.Axe()
	saveCalendar(p, "San Biagio", "31", "febbraio", "14:00", "08:00")
	assertText(t, p, "Il modulo contiene errori", "Febbraio ha 29 giorni.", "L'ufficio deve chiudere dopo l'apertura.")
	if p.Attr("#patron-day", "aria-invalid") != "true" || p.Attr("#office-closes", "aria-invalid") != "true" {
		t.Fatal("the invalid fields are not marked aria-invalid")
	}
	p.Axe()
	p.Screenshot("calendar-field-errors")

	saveCalendar(p, "Santo Stefano", "26", "dicembre", "08:00", "13:00")
	assertPath(t, p, "/calendar")
	assertText(t, p, "Calendario degli uffici di Tradate salvato.", "Santo Stefano, 26 dicembre", "dalle 08:00 alle 13:00")
	p.Phone()
	p.Reload()
	p.Axe()
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'office_calendar' AND actor_username = 'supervisore'`); n != 1 {
		t.Fatalf("%d audit rows for the saved calendar, want 1", n)
	}
}

// saveCalendar fills the calendar form and saves it.
func saveCalendar(p *browsertest.Page, saint, day, month, opens, closes string) {
	p.Fill("Santo patrono", saint)
	p.Fill("Giorno", day)
	p.Fill("Mese", month)
	p.Fill("Apertura", opens)
	p.Fill("Chiusura", closes)
	p.Submit("Salva")
}
