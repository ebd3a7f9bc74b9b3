package e2e

import (
	"strings"
	"testing"

	"sportello/internal/browsertest"
)

// In the browser: a visitor searches and filters the catalogue (list
// prices); a citizen with a declared ISEE sees the price of their band and
// how it was derived; the cooperative user edits a price (first a negative
// one, refused at the field), withdraws and publishes the service; the
// supervisor sees the certification that expires within 60 days. axe checks
// every page.
func TestWebCatalogue(t *testing.T) {
	s := newStack(t)

	anon := browsertest.NewPage(t, s.srv.URL, "visitatore")
	anon.Navigate("/")
	anon.Follow("Servizi")
	assertTitle(t, anon, "Servizi delle cooperative")
	anon.Axe()
	anon.Fill("Cerca", "anziano")
	anon.FillSelector("#category", "silvercare")
	anon.Submit("Cerca")
	assertText(t, anon, "Assistenza domiciliare anziani", "Centro diurno per anziani", "Prezzo di listino")
	if strings.Contains(anon.MainText(), "Compagnia ad anziani") || strings.Contains(anon.MainText(), "Cura del giardino") {
		t.Fatalf("search shows a hidden cooperative's or another category's service:\n%s", anon.MainText())
	}
	anon.Axe()
	anon.Follow("Centro diurno per anziani")
	assertPage(t, anon, "Centro diurno per anziani", "L'Aquilone", "30 posti a settimana", "Lonate Ceppino", "Prezzi per fascia ISEE a")
	anon.Follow("L'Aquilone")
	assertPage(t, anon, "L'Aquilone", "ISO 9001:2015", "Trasporto sociale")
	if st := anon.NavigateStatus("/services?max_price=abc"); st != 422 || !anon.Has(`#max-price[aria-invalid="true"]`) {
		t.Fatalf("bad price filter: status %d:\n%s", st, anon.MainText())
	}
	anon.Axe()

	cz := browsertest.NewPage(t, s.srv.URL, "cittadino.vedano")
	cz.Phone()
	webLogin(t, cz, "cittadino.vedano")
	cz.Navigate("/services?q=doposcuola")
	assertText(t, cz, "ISEE di 18.500 € dichiarato nel tuo profilo", "Il tuo prezzo: 13,50 € per incontro",
		"Fascia ISEE fino a 20.000 € a Vedano Olona: 75% del prezzo di listino")
	cz.Axe()
	noSidewaysScroll(t, cz)
	cz.Follow("Doposcuola e aiuto compiti")
	if got := cz.Text("#price-derivation"); got != "Fascia ISEE fino a 20.000 € a Vedano Olona: 75% del prezzo di listino" {
		t.Fatalf("derivation %q", got)
	}
	assertText(t, cz, "la tua fascia")
	cz.Axe()
	noSidewaysScroll(t, cz)

	co := loggedIn(t, s.srv.URL, "coop.baobab", "coop.baobab")
	co.Follow("Il nostro catalogo")
	assertTitle(t, co, "Il nostro catalogo")
	co.Axe()
	co.Follow("Modifica Doposcuola e aiuto compiti")
	assertTitle(t, co, "Modifica «Doposcuola e aiuto compiti»")
	co.Axe()
	co.Fill("Prezzo di listino per unità (€)", "-3")
	co.Submit("Salva")
	if !co.Has("#error-summary") || !co.Has(`#price[aria-invalid="true"]`) {
		t.Fatalf("no field error for a negative price:\n%s", co.MainText())
	}
	co.Axe()
	co.Fill("Prezzo di listino per unità (€)", "19,50")
	co.Submit("Salva")
	assertText(t, co, "«Doposcuola e aiuto compiti» è stato salvato.", "19,50 € per incontro")
	co.Submit("Ritira Doposcuola e aiuto compiti")
	assertText(t, co, "«Doposcuola e aiuto compiti» è stato ritirato.", "Non pubblicato")
	co.Axe()
	anon.Navigate("/services?q=doposcuola")
	assertText(t, anon, "Nessun servizio corrisponde alla ricerca.")
	co.Submit("Pubblica Doposcuola e aiuto compiti")
	assertText(t, co, "«Doposcuola e aiuto compiti» è pubblicato.")
	anon.Navigate("/services?q=doposcuola")
	assertText(t, anon, "19,50 € per incontro")

	sup := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	sup.Follow("Cooperative")
	assertTitle(t, sup, "Cooperative sociali accreditate")
	if got := sup.Text(`tr[data-coop="il-girasole"] .expiring`); got != "⚠ (scade entro 60 giorni)" {
		t.Fatalf("Il Girasole's expiry warning %q", got)
	}
	assertText(t, sup, "No: accreditamento sospeso", "No: certificazione di qualità scaduta")
	sup.Axe()
	sup.Navigate("/lang/en?next=/cooperatives")
	assertText(t, sup, "expires within 60 days", "No: accreditation suspended")
	sup.Axe()
}
