package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"sportello/internal/seed"
)

// TestWebServiceVoucher: Maria applies for a service voucher in the
// browser (errors at the fields first, then the summary and the case
// number), reads her demo service voucher with its categories and follows
// one to the catalogue, and declares her ISEE in the personal area (a bad
// value refused at the field, a good one saved and used by the catalogue).
// axe finds no WCAG 2.1 A/AA violation on any page, on a phone too.
func TestWebServiceVoucher(t *testing.T) {
	s := newStack(t)
	if err := seed.Run(context.Background(), s.st, seed.Options{Demo: true, DemoVouchers: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed the demo voucher: %v", err)
	}
	tax := s.citizenTaxCode()
	p := loggedIn(t, s.srv.URL, "cittadino", "cittadino.tradate")

	// The call is on the home page; privacy notice, then the data step in
	// the schema's order.
	p.Navigate("/")
	assertText(t, p, "Domanda di buono servizi")
	p.ClickAndWait(`main a[href="/apply/buono-servizi"]`)
	assertStep(t, p, 1, "Informativa")
	assertTitle(t, p, "buono servizi")
	p.Axe()
	p.Follow("Compila la domanda")
	assertPath(t, p, "/apply/buono-servizi/data")
	if got, want := fieldOrder(p), schemaOrder(t, "buono-servizi"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fields not in the schema's order:\ngot:  %q\nwant: %q", got, want)
	}
	p.Axe()

	// No service ticked, too many elderly members: errors at the fields.
	app := validApplication(tax)
	for _, label := range []string{"Nome", "Cognome", "Codice fiscale", "Data di nascita", "Indirizzo e-mail",
		"Comune", "Indirizzo", "Componenti", "Minorenni", "ISEE (euro)"} {
		p.Fill(label, app[label])
	}
	p.Fill("Anziani (65 anni e più)", "3")
	p.Fill("Persone con disabilità", "0")
	p.Fill("Descrizione del bisogno", "Mia madre vive con noi e ha bisogno di assistenza durante il giorno.")
	for _, d := range []string{"Dichiaro che le informazioni fornite sono veritiere",
		"Dichiaro di non ricevere altri contributi pubblici per gli stessi servizi",
		"Acconsento che i dati necessari siano comunicati alla cooperativa che eroga il servizio",
		"Ho letto l'informativa sul trattamento dei dati personali"} {
		p.Fill(d, "true")
	}
	p.Submit("Vai al riepilogo")
	assertStep(t, p, 2, "Dati")
	assertText(t, p, "Indica almeno un tipo di servizio", "non possono essere più dei componenti")
	if p.Attr(p.Field("Anziani (65 anni e più)"), "aria-invalid") != "true" {
		t.Error("the elderly field is not marked aria-invalid")
	}
	p.Axe()
	p.Screenshot("service-voucher-field-errors")

	p.Fill("Anziani (65 anni e più)", "1")
	p.Fill("Assistenza agli anziani (SilverCare)", "true")
	p.Submit("Vai al riepilogo")
	assertStep(t, p, 3, "Riepilogo")
	assertText(t, p, "Assistenza agli anziani (SilverCare)", "Mia madre vive con noi")
	p.Axe()
	p.Submit("Invia la domanda")
	caseID := caseNumberRE.FindString(p.Path())
	if !strings.HasPrefix(caseID, "BSV-") {
		t.Fatalf("after filing at %s:\n%s", p.Path(), p.MainText())
	}
	assertText(t, p, caseID, "Domanda di buono servizi")
	p.Axe()

	// The personal area: the demo service voucher, and the ISEE form.
	p.Navigate("/me")
	assertText(t, p, "Buono servizi", "Il tuo ISEE", caseID)
	p.Axe()
	p.Fill("ISEE del nucleo familiare (euro)", "ottomila")
	p.Submit("Salva l'ISEE")
	assertText(t, p, "Il modulo contiene errori", "Scrivi un importo in euro")
	if p.Attr("#isee", "aria-invalid") != "true" {
		t.Error("the ISEE field is not marked aria-invalid")
	}
	p.Axe()
	p.Fill("ISEE del nucleo familiare (euro)", "9.000")
	p.Submit("Salva l'ISEE")
	assertText(t, p, "ISEE salvato", "dal tuo profilo")
	if v := p.Value("#isee"); v != "9000" {
		t.Errorf("ISEE field shows %q after saving", v)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'isee_declared' AND actor_username = 'cittadino.tradate'`); n != 1 {
		t.Errorf("%d audit rows for the declared ISEE, want 1", n)
	}
	p.Phone()
	p.Reload()
	p.Axe()

	// The voucher page: kind, categories, links to the catalogue.
	p.ClickAndWait(`main a[href^="/vouchers/"]`)
	assertText(t, p, "Tipo di buono", "Buono servizi", "Cosa puoi pagare con questo buono", "300,00")
	if p.Count(`main a[href^="/services?category="]`) != len(seed.ServiceFundCategories()) {
		t.Errorf("category links: %d", p.Count(`main a[href^="/services?category="]`))
	}
	p.Axe()
	p.ClickAndWait(`main a[href="/services?category=silvercare"]`)
	if !strings.HasPrefix(p.URL(), s.srv.URL+"/services?category=silvercare") {
		t.Fatalf("catalogue link led to %s", p.URL())
	}
	assertText(t, p, "SilverCare")
	p.Axe()

	// English second: the personal area and the voucher.
	p.Navigate("/lang/en?next=/me")
	assertText(t, p, "Your ISEE", "Service voucher", "from your profile")
	p.Axe()
	p.ClickAndWait(`main a[href^="/vouchers/"]`)
	assertText(t, p, "Kind of voucher", "What this voucher pays for", "See the services: SilverCare")
	p.Axe()
	assertCleanConsole(t, nil, p)
}
