package e2e

import (
	"net/url"
	"strings"
	"testing"
)

// TestWebBeneComuneJourney (issue 15, part 3): the second district end to
// end in Chromium, as its README walk-through tells it, with axe on every
// page: Elena Zanon (cittadina.piazzola) sees Bene Comune's portal (its
// name and colour, its services with her price), applies to Piazzola sul
// Brenta's food-voucher call from the open calls; Piazzola's operator
// approves it by the call's rule; Alimentari Camerini redeems part of the
// voucher; Elena reads it in English. Tradate's supervisor cannot open the
// case, and Bene Comune's operator sees nothing of Tradate in the inbox.
func TestWebBeneComuneJourney(t *testing.T) {
	s := newStack(t)
	const tax = "ZNNLNE83B54G224T"

	citizen := loggedIn(t, s.srv.URL, "cittadina", "cittadina.piazzola")
	citizen.Navigate("/")
	assertTitle(t, citizen, "")
	if html := citizen.HTML(); !strings.Contains(html, "Welfare Bene Comune") || !strings.Contains(html, "#1b6b50") ||
		strings.Contains(html, "Ambito territoriale di Tradate") {
		t.Errorf("the home page is not Bene Comune's:\n%s", citizen.Text("header"))
	}
	citizen.Axe()
	citizen.Navigate("/services")
	assertText(t, citizen, "Tutoraggio compiti online", "Sostegno pedagogico domiciliare", "Laboratori di lettura")
	citizen.Axe()

	// The open calls: Piazzola's food vouchers, nothing of Tradate's.
	citizen.Navigate("/open-calls")
	assertText(t, citizen, "Piazzola sul Brenta", "Buoni spesa - Piazzola sul Brenta")
	if strings.Contains(citizen.MainText(), "Tradate") {
		t.Errorf("Bene Comune's open calls show Tradate:\n%s", citizen.MainText())
	}
	citizen.Axe()
	citizen.ClickAndWait(`main a[href="/apply/buoni-spesa?call=buoni-spesa-piazzola-sul-brenta"]`)
	assertStep(t, citizen, 1, "Informativa")
	citizen.Axe()
	citizen.Follow("Compila la domanda")
	assertStep(t, citizen, 2, "Dati")
	fillApplication(citizen, map[string]string{
		"Nome": "Elena", "Cognome": "Zanon", "Codice fiscale": tax, "Data di nascita": "1983-02-14",
		"Indirizzo e-mail": "elena.zanon@example.org", "Comune": "piazzola-sul-brenta", "Indirizzo": "Via dei Contarini 5",
		"Componenti": "3", "Minorenni": "1", "ISEE (euro)": "7000",
	})
	citizen.Axe()
	citizen.Submit("Vai al riepilogo")
	assertStep(t, citizen, 3, "Riepilogo")
	if citizen.Has("#error-summary") {
		t.Fatalf("valid data reported as invalid:\n%s", citizen.MainText())
	}
	assertText(t, citizen, "Elena", "Zanon", tax, "Piazzola sul Brenta")
	citizen.Axe()
	citizen.Submit("Invia la domanda")
	path, _, _ := strings.Cut(citizen.Path(), "?")
	caseID, _ := url.PathUnescape(strings.TrimPrefix(path, "/cases/"))
	if !strings.HasPrefix(path, "/cases/") || !caseNumberRE.MatchString(caseID) {
		t.Fatalf("after confirming, at %s:\n%s", citizen.Path(), citizen.MainText())
	}
	assertText(t, citizen, caseID, "Presentata")
	citizen.Axe()
	if n := s.count(`SELECT count(*) FROM cases WHERE id = $1 AND district_id = 'alta-padovana' AND municipality_id = 'piazzola-sul-brenta'
		AND fund_id = 'buoni-spesa-piazzola-sul-brenta'`, caseID); n != 1 {
		t.Fatalf("case %s is not Piazzola's food-voucher case (%d rows)", caseID, n)
	}

	// Piazzola's operator reviews it: 3 members, 1 minor → EUR 150 + 2 ×
	// 100 + 50 = 400 by the call's rule.
	worker := loggedIn(t, s.srv.URL, "operatore", "operatore.piazzola")
	worker.Navigate("/inbox")
	worker.ReloadUntil("case "+caseID+" in the inbox", func() bool { return strings.Contains(worker.MainText(), caseID) })
	if strings.Contains(worker.HTML(), "Ambito territoriale di Tradate") {
		t.Error("Bene Comune's inbox shows Tradate")
	}
	worker.Axe()
	worker.FollowIn("main", caseID)
	assertText(t, worker, caseID, "Elena", "Zanon")
	worker.SubmitIn("main", "Prendi in carico")
	worker.Axe()
	worker.Fill("Accogli la domanda", "true")
	worker.Submit("Registra la decisione")
	assertText(t, worker, "Accolta", "400,00")
	worker.Axe()

	// Tradate's supervisor cannot open it.
	tradate := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	if st := tradate.NavigateStatus("/cases/" + url.PathEscape(caseID)); st != 404 {
		t.Errorf("Tradate's supervisor opens Bene Comune's case: %d", st)
	}
	tradate.Axe()

	// The first tranche (half) reaches Elena's personal area.
	citizen.Navigate("/me")
	citizen.ReloadUntil("the voucher's first tranche", func() bool { return strings.Contains(citizen.MainText(), "200,00") })
	code := voucherCodeRE.FindString(citizen.MainText())
	if code == "" {
		t.Fatalf("no voucher code in the personal area:\n%s", citizen.MainText())
	}
	citizen.Axe()

	// Alimentari Camerini redeems EUR 12.50 at its till.
	merchant := loggedIn(t, s.srv.URL, "esercente", "esercente.piazzola")
	merchant.Navigate("/till")
	merchant.Axe()
	merchant.Fill("Codice del buono", code)
	merchant.Fill("Importo in euro", "12,50")
	merchant.PressEnterIn(merchant.Field("Importo in euro"))
	assertText(t, merchant, "12,50", "187,50")
	merchant.Axe()

	// In English.
	citizen.Navigate("/lang/en?next=/me")
	assertTitle(t, citizen, "Personal area")
	if html := citizen.HTML(); !strings.Contains(html, "Welfare Bene Comune (common-good welfare)") {
		t.Errorf("the English header is not Bene Comune's:\n%s", citizen.Text("header"))
	}
	citizen.ReloadUntil("the balance after the redemption", func() bool { return strings.Contains(citizen.MainText(), "187.50") })
	citizen.Axe()
	citizen.Navigate("/open-calls")
	assertText(t, citizen, "Piazzola sul Brenta")
	citizen.Axe()

	s.assertBooksBalance()
	assertCleanConsole(t, []string{"status of 404"}, citizen, worker, merchant, tradate)
}
