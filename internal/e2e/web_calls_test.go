package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"sportello/forms"
	"sportello/internal/accounting"
	"sportello/internal/browsertest"
	"sportello/internal/calendar"
)

// TestWebCalls: the supervisor opens "Bandi" from the menu, pastes a
// schema that is not JSON Schema and is told so at the field, pastes a new
// version of the food-voucher form with a new required field, previews it
// as the citizen will see it, edits the draft (a schema without the
// workflow's fields is refused), publishes it, is told at the fields what a
// call needs, creates a call for Tradate on that version, publishes it
// while the municipality's accounting system does not answer (awaiting the
// confirmation of its budget's commitment), cancels the publication after
// a confirmation (declined once, in English), publishes it again (then
// published with the commitment's number), and reads the pages in English; the citizen of Tradate then
// finds the new field on the application page. axe finds nothing on any
// state of the pages.
func TestWebCalls(t *testing.T) {
	s := newStack(t)
	p := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	p.FollowIn("nav", "Bandi")
	assertPath(t, p, "/calls")
	assertTitle(t, p, "Bandi e moduli")
	assertText(t, p, "Versioni dei moduli", "buoni-spesa", "Pubblicato")
	p.Axe()

	paste := func(text string) {
		raw, _ := json.Marshal(text)
		var ok bool
		p.Eval(`(() => { document.getElementById('schema').value = `+string(raw)+`; return true })()`, &ok)
	}
	paste(`{"type": 5}`)
	p.Submit("Controlla e salva la bozza")
	assertText(t, p, "Il modulo contiene errori", "Non è JSON Schema valido")
	if p.Attr("#schema", "aria-invalid") != "true" {
		t.Fatal("the schema is not marked invalid")
	}
	p.Axe()

	v1, _ := forms.MustRegistry().GetVersion("buoni-spesa", 1)
	var doc map[string]any
	if err := json.Unmarshal(v1.Schema, &doc); err != nil {
		t.Fatal(err)
	}
	doc["required"] = append(doc["required"].([]any), "notes")
	doc["properties"].(map[string]any)["notes"] = map[string]any{"title": "Note per l'ufficio", "x-title-en": "Notes for the office",
		"description": "Quello che l'ufficio deve sapere.", "x-description-en": "What the office should know.", "type": "string", "minLength": 1}
	schema, _ := json.Marshal(doc)
	version := strconv.Itoa(forms.FirstDistrictVersion) // a district's first version (migration 035)
	paste(string(schema))
	p.Submit("Controlla e salva la bozza")
	assertText(t, p, "Bozza salvata come versione "+version, "Il modulo del cittadino", "Note per l'ufficio", "Tradate", "Bozza")
	p.Axe()
	// The draft's schema is edited on its preview page, checked again.
	paste(`{"title": "Buoni", "x-title-en": "Vouchers", "type": "object"}`)
	p.Submit("Controlla e salva lo schema")
	assertText(t, p, "Il modulo deve chiedere, come campo obbligatorio, /applicant/tax_code")
	p.Axe()
	paste(string(schema))
	p.Submit("Controlla e salva lo schema")
	assertText(t, p, "Bozza della versione "+version+" salvata.")
	p.Submit("Pubblica questa versione")
	assertPath(t, p, "/calls")
	assertText(t, p, "buoni-spesa versione "+version+" pubblicata")

	p.FollowIn("main", "Nuovo bando")
	assertTitle(t, p, "Nuovo bando")
	p.Submit("Salva la bozza")
	assertText(t, p, "Il modulo contiene errori", "Nome del bando: Campo obbligatorio.")
	p.Axe()
	today := time.Now().In(calendar.Rome())
	p.Fill("Nome del bando", "Buoni spesa straordinari")
	p.Fill("Comune", "tradate")
	p.Fill("Versione del modulo", "buoni-spesa/"+version)
	p.Fill("Soglia ISEE (euro)", "20000")
	p.Fill("Budget (euro)", "10000")
	p.Fill("Importo base (euro)", "200")
	p.Fill("In più per ogni componente oltre il primo (euro)", "0")
	p.Fill("In più per ogni minorenne (euro)", "0")
	p.Fill("Importo massimo (euro)", "200")
	p.Fill("Rate", "100:0")
	p.Fill("Apertura", today.Format(time.DateOnly))
	p.Fill("Chiusura", today.AddDate(0, 0, -1).Format(time.DateOnly))
	p.Fill("Scadenza dei buoni", today.AddDate(0, 0, 90).Format(time.DateOnly))
	p.Submit("Salva la bozza")
	assertText(t, p, "La chiusura deve venire dopo l'apertura.")
	p.Axe()
	p.Fill("Chiusura", today.AddDate(0, 0, 30).Format(time.DateOnly))
	p.Submit("Salva la bozza")
	assertText(t, p, "Bando «Buoni spesa straordinari» salvato.")
	// Published once the municipality's accounting system confirms the
	// budget's commitment: first awaiting it, then published with it.
	// The accounting system does not answer at first: the call waits, in
	// Italian and in English, with nothing to publish or edit.
	if err := s.accounting.Inject(accounting.Fault{Kind: "fail-503", Op: "commit", Times: 1000}); err != nil {
		t.Fatal(err)
	}
	p.Submit("Pubblica il bando")
	assertText(t, p, "Bando «Buoni spesa straordinari» in attesa di conferma", "In attesa di conferma", "nessun importo è spostato")
	if p.Has("form[action$='/publish']") || p.Has("main fieldset:not([disabled])") {
		t.Error("a call awaiting confirmation may be published or edited again")
	}
	p.Axe()
	callPath := p.Path()
	p.Navigate("/lang/en?next=" + callPath)
	assertText(t, p, "Awaiting confirmation", "no money moves", "you may cancel the publication")
	p.Axe()
	// The supervisor may withdraw the publication, after a confirmation
	// (here first declined, in English).
	p.Submit("Cancel publication")
	assertPage(t, p, "Cancel the publication of the call “Buoni spesa straordinari”?", "has not confirmed the commitment", "stays published")
	p.Axe()
	p.Follow("No, back to the call")
	assertPath(t, p, callPath)
	assertText(t, p, "Awaiting confirmation")
	p.Navigate("/lang/it?next=" + callPath)
	p.Submit("Annulla pubblicazione")
	assertPage(t, p, "Annullare la pubblicazione del bando «Buoni spesa straordinari»?", "torna in bozza")
	p.Axe()
	p.Submit("Sì, annulla la pubblicazione")
	assertPath(t, p, callPath)
	assertText(t, p, "Pubblicazione del bando «Buoni spesa straordinari» annullata", "Pubblicazione annullata da supervisore il",
		"Pubblica il bando")
	if p.Has("main fieldset[disabled]") || p.Has("form[action$='/publication/cancel']") {
		t.Error("a withdrawn call is not editable, or offers its withdrawal again")
	}
	p.Axe()
	p.Navigate("/lang/en?next=" + callPath)
	assertText(t, p, "Publication cancelled by supervisore on", "Publish the call")
	p.Axe()
	p.Navigate("/lang/it?next=" + callPath)
	if n := s.count(`SELECT count(*) FROM funds WHERE name = 'Buoni spesa straordinari'`); n != 0 || len(s.accounting.Commitments()) != 0 {
		t.Fatalf("withdrawn: %d funds, %d commitments", n, len(s.accounting.Commitments()))
	}
	// Published again once the accounting system answers.
	s.accounting.ClearFaults()
	p.Submit("Pubblica il bando")
	p.ReloadUntil("the call published", func() bool { return strings.Contains(p.MainText(), "Il bando è pubblicato") })
	assertText(t, p, "Impegno di spesa n. IMP-", "di 10.000,00 €, confermato dal sistema contabile del comune")
	p.Axe()
	if n := s.count(`SELECT count(*) FROM funds WHERE name = 'Buoni spesa straordinari' AND form_version = $1`, forms.FirstDistrictVersion); n != 1 {
		t.Fatalf("%d funds for the call", n)
	}
	if n := len(s.accounting.Commitments()); n != 1 {
		t.Fatalf("%d budget commitments", n)
	}

	p.Navigate("/lang/en?next=/calls")
	assertPage(t, p, "Calls and forms", "Buoni spesa straordinari", "Published", "Form versions")
	p.Follow("Buoni spesa straordinari")
	assertText(t, p, "Budget commitment no. IMP-", "confirmed by the municipality's accounting system")
	p.Axe()

	// Anyone reads the open calls, in Italian and English, from the
	// navigation: the new call and the seeded one, with what they give.
	anon := browsertest.NewPage(t, s.srv.URL, "anonymous")
	anon.Navigate("/")
	anon.FollowIn("nav", "Bandi aperti")
	assertPath(t, anon, "/open-calls")
	assertPage(t, anon, "Bandi aperti", "Buoni spesa straordinari", "Da 150,00 € a 550,00 €", "Fino a 200,00 €",
		"Residenti del comune con ISEE fino a 20.000,00 €", "Accedi per presentare la domanda")
	anon.Axe()
	anon.Follow("Buoni spesa straordinari")
	assertPage(t, anon, "Buoni spesa straordinari", "Tradate", "Fino a 200,00 €")
	anon.Axe()
	anon.Navigate("/lang/en?next=/open-calls")
	assertPage(t, anon, "Open calls", "Buoni spesa straordinari", "Up to €200.00", "Who may apply")
	anon.Axe()
	anon.Follow("Buoni spesa straordinari")
	assertPage(t, anon, "Buoni spesa straordinari", "Municipality", "Every open call")
	anon.Axe()

	// Two calls on the form are open in Tradate: the citizen who starts
	// from the form is sent to choose; applying to the new call gives its
	// version, with the new field, through every step.
	c := loggedIn(t, s.srv.URL, "cittadino", "cittadino.tradate")
	c.Navigate("/apply/buoni-spesa/data")
	assertPath(t, c, "/open-calls")
	assertText(t, c, "Più bandi sono aperti per questo modulo")
	c.Follow("Buoni spesa straordinari")
	c.Follow("Presenta la domanda")
	c.Follow("Compila la domanda")
	assertText(t, c, "Note per l'ufficio")
	if !strings.Contains(c.URL(), "call=") {
		t.Errorf("the call is not carried to the data step: %s", c.URL())
	}
	c.Axe()
}
