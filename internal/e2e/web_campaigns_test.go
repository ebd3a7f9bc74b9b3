package e2e

import (
	"strings"
	"testing"

	"sportello/internal/browsertest"
	"sportello/internal/seed"
)

// TestWebCampaigns: a visitor who is not signed in finds, from the home
// page, the local campaigns ("A Natale… Compra Locale" in Tradate), opens
// the campaign's participating shops, filters them by category (the choice
// stays selected); reads the same pages in English; axe finds no WCAG 2.1
// A/AA violation, on a desktop and on a phone.
func TestWebCampaigns(t *testing.T) {
	s := newStack(t)
	p := browsertest.NewPage(t, s.srv.URL, "visitor")
	p.Navigate("/")
	p.Follow("Campagne del commercio locale")
	assertPath(t, p, "/campaigns")
	assertPage(t, p, "Campagne per il commercio locale", "A Natale… Compra Locale", "Comune: Tradate",
		"Il comune aggiunge il 20% della spesa")
	p.Axe()
	p.Follow("Negozi aderenti")
	assertPage(t, p, "A Natale… Compra Locale", "Negozi aderenti", "Libreria del Corso", "Boutique Mazzini",
		"Supermercato Tradate Centro", "Negozi aderenti: 6")
	if strings.Contains(p.MainText(), "Macelleria di Abbiate Guazzone") {
		t.Fatal("a shop whose application waits for a decision is listed")
	}
	p.Axe()
	p.Fill("Categoria", "books")
	p.Submit("Filtra")
	assertText(t, p, "Libreria del Corso", "Negozi aderenti: 1")
	if strings.Contains(p.MainText(), "Boutique Mazzini") {
		t.Fatal("the category filter shows a clothing shop")
	}
	if p.Value("#campaign-category") != "books" {
		t.Fatalf("the chosen category is not kept: %q", p.Value("#campaign-category"))
	}
	p.Phone()
	p.Axe()

	p.Navigate("/lang/en?next=/campaigns")
	assertPage(t, p, "Local shopping campaigns", "At Christmas… Shop Local", "The municipality adds 20% of the purchase")
	p.Axe()
	p.Follow("Participating shops")
	assertPage(t, p, "At Christmas… Shop Local", "Books and stationery", "Clothing", "Participating shops: 6")
	p.Axe()

	// The bookshop records a resident's purchase at its campaign till: the
	// receipt gives the contribution to take off the bill; a tax code that
	// is not valid is refused field by field.
	m := browsertest.NewPage(t, s.srv.URL, "bookshop")
	webLogin(t, m, "libreria.tradate")
	m.Follow("Cassa campagne")
	assertPath(t, m, "/till/campaign")
	m.Axe()
	m.Fill("Codice fiscale del cliente", "RSSMRA00A00X000X")
	m.Fill("Importo dell'acquisto (euro)", "123,45")
	m.Submit("Registra")
	assertText(t, m, "Codice fiscale del cliente")
	if m.Count(`#tax_code[aria-invalid="true"]`) != 1 {
		t.Fatalf("an invalid tax code is not marked:\n%s", m.MainText())
	}
	m.Axe()
	m.Fill("Codice fiscale del cliente", seed.Residents()[0].TaxCode())
	m.Fill("Importo dell'acquisto (euro)", "123,45")
	m.Submit("Registra")
	assertText(t, m, "Acquisto registrato.", "Contributo del comune", "24,69", "98,76", "25,31")
	m.Axe()
}
