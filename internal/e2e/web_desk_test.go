package e2e

import (
	"bytes"
	"strings"
	"testing"

	"sportello/internal/browsertest"
	"sportello/internal/seed"
)

// TestWebDeskRegisterFileActivateAndContact: at the Social Point an operator
// registers a citizen without e-mail and prints the hand-over sheet, files a
// food-voucher application on their behalf; the citizen activates the
// account with the code, logs in and finds the case; the operator records
// the phone call the notification of receipt asked for. axe checks every page.
func TestWebDeskRegisterFileActivateAndContact(t *testing.T) {
	s := newStack(t)
	luca := seed.Residents()[2]

	op := loggedIn(t, s.srv.URL, "operatore", "operatore.tradate")
	op.FollowIn("nav", "Sportello cittadini")
	assertPath(t, op, "/desk")
	assertTitle(t, op, "Social Point")
	op.Axe()
	op.Follow("Registra un cittadino")
	assertTitle(t, op, "Registra un cittadino")
	op.Axe()

	// Nothing filled in: the errors are listed and next to the fields.
	op.Submit("Registra e genera il codice")
	if !op.Has("#error-summary") || !strings.Contains(op.MainText(), "il codice fiscale è obbligatorio") {
		t.Fatalf("empty registration:\n%s", op.MainText())
	}
	op.Axe()
	op.Fill("Codice fiscale", luca.TaxCode())
	op.Fill("Nome", "Luca")
	op.Fill("Cognome", "Colombo")
	op.Fill("Telefono", "0331 123456")
	op.Fill("Indirizzo postale", "Via Manzoni 3, 21049 Tradate")
	op.Fill("Il cittadino chiede la consegna a domicilio di buoni e lettere", "true")
	op.Submit("Registra e genera il codice")

	// The hand-over sheet: username, code, expiry, how to activate in Italian and English, for print.
	assertTitle(t, op, "Foglio di consegna")
	username, code := op.Text(".sheet-username"), op.Text(".sheet-code")
	if username != "luca.colombo" || len(code) != 14 {
		t.Fatalf("sheet: username %q, code %q\n%s", username, code, op.MainText())
	}
	assertText(t, op, "Come attivare il tuo account", "How to activate your account", "/attiva", "Valido fino al", luca.TaxCode())
	if op.Count(`section[lang="en"]`) != 1 {
		t.Fatalf("the sheet has no English section")
	}
	// Printed, the sheet is the sheet alone: no header, menu or footer.
	var headerShown bool
	op.EmulateMedia("print")
	op.Eval(`getComputedStyle(document.querySelector('header')).display !== 'none'`, &headerShown)
	pdf := op.PrintToPDF()
	op.EmulateMedia("")
	if headerShown || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("printed sheet: header shown %v, %d bytes of PDF", headerShown, len(pdf))
	}
	op.Axe()
	op.Screenshot("hand-over-sheet")

	// The citizen's page, then the application on their behalf.
	op.Follow("Vai alla pagina del cittadino")
	assertTitle(t, op, "Luca Colombo")
	citizenPage := op.Path()
	assertText(t, op, "In attesa di attivazione", "Codice di attivazione valido fino al")
	op.Axe()
	op.Follow("Domanda: Domanda di buoni spesa")
	assertStep(t, op, 1, "Informativa")
	assertText(t, op, "per conto di Luca Colombo", "consenso")
	op.Axe()
	op.Follow("Compila la domanda")
	assertStep(t, op, 2, "Dati")
	if got := op.Value(op.Field("Codice fiscale")); got != luca.TaxCode() {
		t.Fatalf("tax code prefilled with %q", got)
	}
	op.Fill("Data di nascita", "1990-07-22")
	op.Fill("Comune", "tradate")
	op.Fill("Indirizzo", "Via Manzoni 3")
	op.Fill("Componenti", "2")
	op.Fill("Minorenni", "0")
	op.Fill("ISEE (euro)", "5000")
	op.Fill("Consegna a domicilio", "true")
	op.Fill("Dichiaro che le informazioni fornite sono veritiere", "true")
	op.Fill("Ho letto l'informativa sul trattamento dei dati personali", "true")
	op.Axe()
	op.Submit("Vai al riepilogo")
	assertStep(t, op, 3, "Riepilogo")
	assertText(t, op, "Luca", "Colombo", "Consegna a domicilio")
	// Without the operator's confirmation of the signed consent, nothing is filed.
	op.Submit("Invia la domanda")
	if !op.Has("#error-summary") || !strings.Contains(op.MainText(), "Conferma che il cittadino ha firmato") {
		t.Fatalf("filed without the consent confirmation:\n%s", op.MainText())
	}
	op.Axe()
	op.Fill("Confermo che il cittadino ha letto l'informativa e ha firmato il consenso al trattamento dei dati", "true")
	op.Submit("Invia la domanda")
	assertTitle(t, op, "Luca Colombo")
	caseID := caseNumberRE.FindString(op.MainText())
	if caseID == "" || !strings.Contains(op.MainText(), "Domanda presentata") {
		t.Fatalf("no case number after filing:\n%s", op.MainText())
	}
	if n := s.count(`SELECT count(*) FROM cases c JOIN users u ON u.id = c.applicant_id WHERE c.id = $1 AND u.username = $2`,
		caseID, username); n != 1 {
		t.Fatalf("case %s is not the citizen's", caseID)
	}
	op.Axe()
	// The case page names the operator who filed it.
	op.Navigate("/cases/" + caseID)
	assertText(t, op, "Presentata dall'operatore Operatore Tradate per conto di Luca Colombo")
	op.Axe()

	// The citizen activates the account: a wrong code first.
	cz := browsertest.NewPage(t, s.srv.URL, "cittadino")
	cz.Navigate("/attiva")
	assertTitle(t, cz, "Attiva il tuo account")
	cz.Axe()
	fillActivation := func(code, password string) {
		cz.Fill("Nome utente", username)
		cz.Fill("Codice di attivazione", code)
		cz.Fill("Nuova password", password)
		cz.Fill("Ripeti la password", password)
		cz.Submit("Attiva l'account")
	}
	fillActivation("AAAA-BBBB-CCCC", "una password lunga")
	// One answer for every wrong username or code (nothing tells which
	// accounts wait for activation, nothing counts down to a lock).
	if !cz.Has("#error-summary") || !strings.Contains(cz.MainText(), "nome utente o codice di attivazione errati") ||
		strings.Contains(cz.MainText(), "tentativi rimasti") {
		t.Fatalf("wrong code:\n%s", cz.MainText())
	}
	cz.Axe()
	fillActivation(strings.ToLower(code), "una password lunga")
	if !strings.HasPrefix(cz.Path(), "/login") {
		t.Fatalf("after activating, at %s:\n%s", cz.Path(), cz.MainText())
	}
	assertText(t, cz, "attivato")
	cz.Axe()
	cz.Fill("Nome utente", username)
	cz.Fill("Password", "una password lunga")
	cz.Submit("Accedi")
	assertPath(t, cz, "/me")
	assertText(t, cz, caseID)
	cz.Axe()
	cz.Screenshot("citizen-area")

	// The Social Point's contact for the receipt: the operator phones and records it.
	op.FollowIn("nav", "Contatti da fare")
	assertTitle(t, op, "Contatti da fare")
	op.ReloadUntil("the contact task of "+caseID, func() bool {
		return strings.Contains(op.MainText(), "Domanda ricevuta — Pratica "+caseID)
	})
	assertText(t, op, "Telefono: 0331 123456", "Luca Colombo")
	op.Axe()
	op.Fill("Cittadino avvisato per telefono", "true")
	op.Fill("Nota (facoltativa)", "Avvisato, passerà allo sportello")
	op.Submit("Registra l'esito")
	assertText(t, op, "Esito registrato.")
	if strings.Contains(op.MainText(), "Domanda ricevuta — Pratica "+caseID) {
		t.Fatalf("the recorded contact is still to do:\n%s", op.MainText())
	}
	op.Axe()
	op.Follow("Completati")
	assertText(t, op, "Esito: Cittadino avvisato per telefono")
	op.Axe()
	if n := s.count(`SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'contact_phoned'`, caseID); n != 1 {
		t.Fatalf("contact_phoned events: %d", n)
	}

	// The desk's pages on a phone: no sideways scrolling.
	phone := browsertest.NewPage(t, s.srv.URL, "telefono")
	phone.Phone()
	webLogin(t, phone, "operatore.tradate")
	for _, path := range []string{"/desk", "/desk/register", citizenPage, "/desk/contacts?status=done", "/attiva"} {
		phone.Navigate(path)
		var wide bool
		phone.Eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &wide)
		if wide {
			t.Errorf("%s scrolls sideways on a phone", path)
		}
		phone.Axe()
	}
	// English second.
	phone.Navigate("/lang/en?next=%2Fdesk%2Fcontacts%3Fstatus%3Ddone")
	assertPage(t, phone, "Contacts to make", "Outcome: Citizen told by phone")
	assertCleanConsole(t, []string{"status of 422"}, op, cz, phone)
}
