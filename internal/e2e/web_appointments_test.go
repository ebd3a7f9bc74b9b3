package e2e

import (
	"strings"
	"testing"
	"time"

	"sportello/internal/browsertest"
)

// noSidewaysScroll fails the test when the page is wider than the screen.
func noSidewaysScroll(t *testing.T, p *browsertest.Page) {
	t.Helper()
	var wide bool
	p.Eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &wide)
	if wide {
		t.Errorf("%s: %s scrolls sideways on a phone", p.User, p.Path())
	}
}

// In the browser: anyone reads the Social Points and their hours; a citizen
// on a phone books a slot and cancels it; an operator finds today's
// appointment in the agenda and records the meeting with a personal plan
// (first forgetting to say whether the citizen came), which the citizen
// then reads. axe checks every page.
func TestWebAppointmentBookCancelAndPlan(t *testing.T) {
	s := newStack(t)

	anon := browsertest.NewPage(t, s.srv.URL, "visitatore")
	anon.Navigate("/social-points")
	assertTitle(t, anon, "Social Point")
	assertText(t, anon, "Social Point di Vedano Olona", "Social Point di Venegono Superiore", "Piazza Mazzini 6",
		"09:00–12:30 e 14:00–17:00", "Accedi per prenotare un appuntamento a Social Point di Tradate")
	anon.Axe()
	anon.Navigate("/lang/en?next=/social-points")
	assertPage(t, anon, "Social Points: listening desks", "Monday", "09:00–12:30 and 14:00–17:00", "Closed on national holidays.")

	cz := browsertest.NewPage(t, s.srv.URL, "cittadino.tradate")
	cz.Phone()
	webLogin(t, cz, "cittadino.tradate")
	cz.Navigate("/social-points")
	cz.Follow("Prenota un appuntamento a Social Point di Tradate")
	assertTitle(t, cz, "Prenota un appuntamento")
	cz.Axe()
	noSidewaysScroll(t, cz)
	cz.Submit("Prenota") // no slot chosen
	if !cz.Has("#error-summary") || !cz.Has(`#slot[aria-invalid="true"]`) {
		t.Fatalf("no field error for the missing slot:\n%s", cz.MainText())
	}
	cz.Axe()
	var first string
	cz.Eval(`document.querySelector('#slot optgroup option').value`, &first)
	cz.FillSelector("#slot", first)
	cz.Fill("Di cosa vuoi parlare", "Affitto arretrato")
	cz.Submit("Prenota")
	if !strings.HasPrefix(cz.Path(), "/appointments/") {
		t.Fatalf("after booking at %s:\n%s", cz.Path(), cz.MainText())
	}
	assertText(t, cz, "Appuntamento prenotato", "Affitto arretrato", "Prenotato")
	cz.Axe()
	noSidewaysScroll(t, cz)
	cz.Submit("Annulla l'appuntamento") // no reason
	if !cz.Has(`#reason[aria-invalid="true"]`) || cz.Text("#appointment-status") != "Prenotato" {
		t.Fatalf("no field error for the missing reason:\n%s", cz.MainText())
	}
	cz.Axe()
	cz.Fill("Motivo", "Non posso venire")
	cz.Submit("Annulla l'appuntamento")
	assertText(t, cz, "Appuntamento annullato.", "Non posso venire")
	if got := cz.Text("#appointment-status"); got != "Annullato" {
		t.Fatalf("status %q after cancelling", got)
	}
	cz.Navigate("/appointments")
	assertTitle(t, cz, "I miei appuntamenti")
	cz.Axe()

	// Today's appointment (written directly: bookable slots may all be on
	// later days, and the meeting is recorded from its day on).
	id := s.bookDirect("cittadino.tradate", "sp-tradate", time.Now().Add(time.Minute), "Ricerca di lavoro")
	op := loggedIn(t, s.srv.URL, "operatore.tradate", "operatore.tradate")
	op.Navigate("/agenda")
	assertPage(t, op, "Agenda appuntamenti", "Maria Rossi", "Ricerca di lavoro")
	op.ClickAndWait(`a[href="/appointments/` + id + `"]`)
	assertText(t, op, "Maria Rossi", "Esito del colloquio")
	op.Axe()
	op.Fill("Bisogni rilevati", "Lavoro stabile dopo la cassa integrazione")
	op.Submit("Registra l'esito") // attended not said
	if !op.Has("#error-summary") || !op.Has(`#attended-yes[aria-invalid="true"]`) {
		t.Fatalf("no field error for attendance:\n%s", op.MainText())
	}
	if v := op.Value("#plan-needs"); v != "Lavoro stabile dopo la cassa integrazione" {
		t.Fatalf("the plan typed so far was lost: %q", v)
	}
	op.Axe()
	op.FillByName("attended", "yes")
	op.Fill("Servizi suggeriti", "Centro per l'impiego di Tradate")
	op.Fill("Prossimi passi", "Iscrizione entro venerdì")
	op.Submit("Registra l'esito")
	assertText(t, op, "Esito registrato.", "Progetto personalizzato", "Centro per l'impiego di Tradate")
	if got := op.Text("#appointment-status"); got != "Svolto" {
		t.Fatalf("status %q after recording", got)
	}
	op.Axe()

	cz.Navigate("/appointments/" + id)
	assertText(t, cz, "Progetto personalizzato", "Lavoro stabile dopo la cassa integrazione", "Centro per l'impiego di Tradate",
		"Iscrizione entro venerdì")
	if cz.Has(`form[action$="/attendance"]`) || cz.Has(`form[action$="/cancel"]`) {
		t.Fatal("the citizen is offered a form on a recorded appointment")
	}
	cz.Axe()
	assertCleanConsole(t, []string{"status of 409"}, anon, cz, op)
}
