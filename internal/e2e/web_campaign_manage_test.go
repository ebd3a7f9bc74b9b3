package e2e

import (
	"strings"
	"testing"
	"time"

	"sportello/internal/browsertest"
	"sportello/internal/calendar"
	"sportello/internal/seed"
)

// TestWebCampaignManagement (issue 15, part 2): the Commerce District's
// manager creates a campaign (the form refuses bad input field by field)
// and publishes it; the bookshop applies to join, the pharmacy (a category
// the campaign does not admit) is refused; the manager refuses a decision
// without a reason, then approves; the public page lists the shop; a
// purchase at the bookshop's campaign till grants the credit; the
// manager's credit list shows it, with the person as a number. Axe on every
// page, in Italian and English.
func TestWebCampaignManagement(t *testing.T) {
	s := newStack(t)
	today := time.Now().In(calendar.Rome())
	const name = "Primavera in Centro"

	m := browsertest.NewPage(t, s.srv.URL, "manager")
	webLogin(t, m, "commercio.tradate")
	m.Follow("Gestione campagne")
	assertPage(t, m, "Gestione campagne del commercio locale", "A Natale… Compra Locale", "Nuova campagna")
	m.Follow("Nuova campagna")
	assertPage(t, m, "Nuova campagna", "Budget e regola")

	// Bad input: a problem next to each field, nothing created.
	m.Fill("Nome in inglese", "Spring downtown")
	m.Fill("Budget (euro)", "molti")
	m.Submit("Crea la bozza")
	assertText(t, m, "il nome è obbligatorio", "importo non valido", "scegli almeno una categoria valida")
	for _, sel := range []string{"#campaign-name-it", "#campaign-budget", "#campaign-starts-on", "#campaign-category-books"} {
		if m.Count(sel+`[aria-invalid="true"]`) != 1 {
			t.Errorf("%s is not marked invalid:\n%s", sel, m.MainText())
		}
	}
	if m.Value("#campaign-name-en") != "Spring downtown" {
		t.Errorf("the form lost what was typed: %q", m.Value("#campaign-name-en"))
	}
	m.Axe()

	m.Fill("Comune", "tradate")
	m.Fill("Nome in italiano", name)
	m.FillSelector("#campaign-starts-on", today.Format(time.DateOnly))
	m.FillSelector("#campaign-ends-on", today.AddDate(0, 1, 0).Format(time.DateOnly))
	m.Fill("Budget (euro)", "1.000,00")
	m.Fill("Percentuale aggiunta dal comune", "20")
	m.Fill("Tetto per persona (euro)", "30")
	m.Fill("Acquisto minimo (euro)", "5")
	m.FillSelector("#campaign-category-books", "true")
	m.Submit("Crea la bozza")
	assertPage(t, m, name, "Campagna creata come bozza.", "Bozza", "Categorie ammesse: Libri e cartoleria")
	manage := m.Path()
	id := strings.TrimPrefix(manage, "/manage/campaigns/")
	m.Submit("Pubblica")
	assertPage(t, m, name, "Campagna pubblicata.", "In corso", "Nessun esercizio ha chiesto di aderire.")

	// The bookshop applies; the pharmacy's category is not admitted.
	b := browsertest.NewPage(t, s.srv.URL, "bookshop")
	webLogin(t, b, "libreria.tradate")
	b.Navigate("/campaigns/" + id)
	b.Submit("Chiedi di aderire")
	assertPage(t, b, name, "Domanda di adesione inviata")
	b.Navigate("/till/campaign")
	assertPage(t, b, "Cassa campagne", "Le tue domande di adesione", name+": In attesa")
	ph := browsertest.NewPage(t, s.srv.URL, "pharmacy")
	webLogin(t, ph, "esercente.tradate")
	ph.Navigate("/campaigns/" + id)
	ph.Submit("Chiedi di aderire")
	assertPage(t, ph, name, "Domanda non accolta")

	// A refusal needs a reason; then the manager approves.
	m.Navigate(manage)
	assertText(t, m, "Domande di adesione", "Libreria del Corso", "In attesa")
	m.Submit("Rifiuta")
	assertText(t, m, "per rifiutare scrivi il motivo")
	if m.Count(`textarea[name="reason"][aria-invalid="true"]`) != 1 {
		t.Fatalf("the reason is not marked invalid:\n%s", m.MainText())
	}
	m.Axe()
	m.Submit("Approva")
	assertPage(t, m, name, "Domanda approvata", "Approvata")

	// The public page, without login, lists the shop.
	v := browsertest.NewPage(t, s.srv.URL, "visitor")
	v.Navigate("/campaigns/" + id)
	assertPage(t, v, name, "Libreria del Corso", "Negozi aderenti: 1")

	// A purchase at the campaign till grants 20%.
	b.Navigate("/till/campaign")
	b.Fill("Campagna", name)
	b.Fill("Codice fiscale del cliente", seed.Residents()[0].TaxCode())
	b.Fill("Importo dell'acquisto (euro)", "50,00")
	b.Submit("Registra")
	assertPage(t, b, "Cassa campagne", "Acquisto registrato.", "10,00", "40,00")

	// The manager's credit list: the shop, the credit, the person as a number.
	m.Navigate(manage)
	assertPage(t, m, name, "Contributi dati", "Per esercizio", "Persona 1", "10,00", "990,00", "Da rendicontare")
	if strings.Contains(m.HTML(), seed.Residents()[0].TaxCode()) {
		t.Fatal("the credit list shows the resident's tax code")
	}
	m.Phone()
	m.Axe()

	// The same pages in English.
	m.Navigate("/lang/en?next=" + manage)
	assertPage(t, m, "Spring downtown", "Contributions given", "By shop", "Person 1", "Not yet claimed", "Approved")
	m.Navigate("/manage/campaigns")
	assertPage(t, m, "Managing local shopping campaigns", "Spring downtown", "Running")
	m.Follow("New campaign")
	m.Submit("Create the draft")
	assertPage(t, m, "New campaign", "the name is required", "choose at least one valid category")
	v.Navigate("/lang/en?next=/campaigns/" + id)
	assertPage(t, v, "Spring downtown", "Books and stationery", "Participating shops: 1")
}
