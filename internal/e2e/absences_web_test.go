package e2e

import (
	"testing"
	"time"

	"sportello/internal/browsertest"
	"sportello/internal/calendar"
)

// TestWebAbsences: a supervisor records an operator's absence on the
// "Assenze e deleghe" page (first with a range in the past: the error is
// next to the field), sees it listed with the delegate; the operator sees it
// in their municipality's list and cancels it; the inbox offers the team
// filter and shows each task's team; axe finds nothing on any page, also on
// a phone.
func TestWebAbsences(t *testing.T) {
	s := newStack(t)
	rome := calendar.Rome()
	today := time.Now().In(rome)
	day := func(d time.Time) string { return d.Format("2006-01-02") }

	sup := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	sup.FollowIn("nav", "Assenze e deleghe")
	assertPath(t, sup, "/absences")
	assertPage(t, sup, "Assenze e deleghe", "Nessuna assenza in corso o programmata.")

	sup.Fill("Persona assente", "operatore.tradate")
	sup.Fill("Delegato", "operatrice.tradate")
	sup.Fill("Dal giorno", day(today.AddDate(0, 0, -3)))
	sup.Fill("Al giorno (compreso)", day(today.AddDate(0, 0, -2)))
	sup.Fill("Motivo", "ferie")
	sup.Submit("Registra l'assenza")
	assertText(t, sup, "Il periodo è nel passato.")
	if sup.Attr("#to", "aria-invalid") != "true" {
		t.Fatal("the last day is not marked invalid")
	}
	sup.Axe()

	sup.Fill("Dal giorno", day(today.AddDate(0, 0, 1)))
	sup.Fill("Al giorno (compreso)", day(today.AddDate(0, 0, 3)))
	sup.Submit("Registra l'assenza")
	assertPath(t, sup, "/absences")
	assertText(t, sup, "Assenza di Operatore Tradate registrata: delegato Giulia Verdi (Tradate).",
		"Operatore Tradate", "Giulia Verdi (Tradate)", today.AddDate(0, 0, 1).Format("02/01/2006"),
		today.AddDate(0, 0, 3).Format("02/01/2006"), "ferie", "Programmata")
	sup.Axe()

	// The inbox: team filter and column.
	sup.Navigate("/inbox?team=istruttoria-buoni-spesa-tradate")
	assertTitle(t, sup, "Pratiche da lavorare")
	if v := sup.Value("#f-team"); v != "istruttoria-buoni-spesa-tradate" {
		t.Fatalf("team filter shows %q", v)
	}
	sup.Axe()

	op := browsertest.NewPage(t, s.srv.URL, "operatore.tradate")
	op.Phone()
	webLogin(t, op, "operatore.tradate")
	op.Navigate("/absences")
	assertText(t, op, "Operatore Tradate", "Giulia Verdi (Tradate)")
	if op.Has("#user") {
		t.Fatal("an operator records only their own absences: no person chooser")
	}
	op.Axe()
	op.Submit("Annulla — Operatore Tradate " + today.AddDate(0, 0, 1).Format("02/01/2006"))
	assertText(t, op, "Assenza annullata.", "Nessuna assenza in corso o programmata.")
	op.Axe()

	sup.Navigate("/absences")
	assertText(t, sup, "Nessuna assenza in corso o programmata.")
}
