package e2e

import (
	"strings"
	"testing"

	"sportello/internal/browsertest"
)

// TestWebInfoPages: an anonymous visitor reaches the district's information
// from the footer, in Italian and in English (index, contacts, credentials,
// privacy notice, accessibility statement, legal notes, news), and
// chooses another district; the supervisor opens the editor from the menu,
// previews a change, is told at the fields what is wrong, and saves. axe
// finds no WCAG 2.1 A/AA violation on any page, on a phone-sized screen too.
func TestWebInfoPages(t *testing.T) {
	s := newStack(t)
	anon := browsertest.NewPage(t, s.srv.URL, "anonymous")
	anon.Navigate("/")
	anon.FollowIn("#footer", "Informazioni")
	assertPath(t, anon, "/informazioni")
	assertPage(t, anon, "Informazioni", "Notizie", "Aperte le domande per i buoni spesa", "Contatti e orari del call center")
	for _, c := range []struct{ link, title, want string }{
		{"Contatti", "Contatti e orari del call center", "0331 826811"},
		{"Come ottenere le credenziali", "Come ottenere le credenziali", "Entra con SPID o CIE"},
		{"Informativa privacy", "Informativa privacy", "Titolare del trattamento"},
		{"Dichiarazione di accessibilità", "Dichiarazione di accessibilità", "Meccanismo di feedback e recapiti"},
		{"Note legali", "Note legali", "Legge applicabile"},
	} {
		anon.FollowIn("#footer", c.link)
		assertPage(t, anon, c.title, c.want)
	}
	anon.Navigate("/notizie")
	assertPage(t, anon, "Notizie", "Orari del call center durante le festività")
	anon.Navigate("/informazioni")
	anon.Fill("Ambito territoriale", "Welfare Bene Comune")
	anon.Submit("Mostra")
	if !strings.Contains(anon.URL(), "district=alta-padovana") {
		t.Fatalf("the chooser went to %s", anon.URL())
	}
	anon.Follow("Contatti e orari del call center")
	assertPage(t, anon, "Contatti e orari del call center", "049 000 0100")

	anon.Navigate("/lang/en?next=/informazioni")
	assertPage(t, anon, "Information", "News", "Applications for food vouchers are open")
	anon.FollowIn("#footer", "Accessibility statement")
	assertPage(t, anon, "Accessibility statement", "Compliance status", "Enforcement procedure")
	anon.FollowIn("#footer", "How to get credentials")
	assertPage(t, anon, "How to get credentials", "Sign in with SPID or CIE")
	anon.Phone()
	anon.Reload()
	anon.Axe()

	sup := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	sup.Navigate("/info-pages")
	assertPage(t, sup, "Pagine informative", "Contatti e orari del call center", "Pubblicata")
	sup.Navigate("/info-pages/contatti/it")
	assertPage(t, sup, "Modifica contenuto", "Contatti e orari del call center — Italiano")
	sup.Fill("Testo", "## Orari\n\nDal lunedì al venerdì, [telefono](tel:+390331826850).")
	sup.Submit("Anteprima")
	assertPage(t, sup, "Modifica contenuto", "Anteprima (non ancora salvata)", "Orari")
	sup.Fill("Titolo", "")
	sup.Fill("Testo", "<b>grassetto</b>")
	sup.Submit("Salva")
	assertText(t, sup, "Il modulo contiene errori", "il titolo è obbligatorio", "il codice HTML non è ammesso")
	if sup.Attr("#info-title", "aria-invalid") != "true" || sup.Attr("#info-body", "aria-invalid") != "true" {
		t.Fatal("the invalid fields are not marked aria-invalid")
	}
	sup.Axe()
	sup.Fill("Titolo", "Contatti")
	sup.Fill("Testo", "## Orari\n\nDal lunedì al venerdì.")
	sup.Submit("Salva")
	assertPath(t, sup, "/info-pages")
	assertText(t, sup, "Pagina salvata.", "versione 2")

	sup.Navigate("/lang/en?next=/info-news/new")
	assertPage(t, sup, "Edit content", "News item")
	sup.Fill("Title", "Office closed on 7 December")
	sup.Fill("Language", "English")
	sup.Fill("Text", "For the patron saint's day.")
	sup.Submit("Save")
	assertPath(t, sup, "/info-pages")
	assertText(t, sup, "News item saved.", "Office closed on 7 December", "Draft")
	sup.Phone()
	sup.Reload()
	sup.Axe()
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action IN ('info_page', 'news_item') AND actor_username = 'supervisore'`); n != 2 {
		t.Fatalf("%d audit rows, want 2", n)
	}
}
