package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"sportello/internal/browsertest"
	"sportello/internal/seed"
)

// TestWebServeCitizenWithoutEmailLetterIncluded (issue 16): a social
// worker serves a citizen without e-mail end to end. The desk registers
// Luca Colombo (no e-mail, home delivery) and files his application; it is
// approved; the contacts page shows one task for the case (the voucher to
// deliver, carrying the earlier notices); the case page links the letter
// to post, which prints (a PDF, audited); the delivery is recorded and the
// case has no open contact left. axe checks the pages, in both languages.
func TestWebServeCitizenWithoutEmailLetterIncluded(t *testing.T) {
	s := newStack(t)
	luca := seed.Residents()[2]
	api := s.login("operatore.tradate")
	var reg struct {
		Citizen struct {
			ID string `json:"id"`
		} `json:"citizen"`
	}
	api.mustCall(http.StatusCreated, "POST", "/api/v1/citizens", map[string]any{"tax_code": luca.TaxCode(), "first_name": "Luca",
		"last_name": "Colombo", "phone": "0331 123456", "address": "Via Manzoni 3, 21049 Tradate", "home_delivery": true}, &reg)
	app := application(luca.TaxCode(), "tradate", 3, 1, 4000)
	app["privacy_consent_signed"] = true
	data := app["data"].(map[string]any)
	data["applicant"].(map[string]any)["first_name"], data["applicant"].(map[string]any)["last_name"] = "Luca", "Colombo"
	data["applicant"].(map[string]any)["birth_date"] = "1990-07-22"
	delete(data["applicant"].(map[string]any), "email") // no e-mail: the Social Point tells him
	data["delivery"] = "home"
	var created struct {
		ID string `json:"id"`
	}
	api.mustCall(http.StatusCreated, "POST", "/api/v1/citizens/"+reg.Citizen.ID+"/applications", app, &created)
	caseID := created.ID

	op := loggedIn(t, s.srv.URL, "operatore", "operatore.tradate")
	// The review: claim and approve on the case page.
	op.Navigate("/cases/" + caseID)
	op.ReloadUntil("the review task of "+caseID, func() bool { return strings.Contains(op.MainText(), "Prendi in carico") })
	op.SubmitIn("main", "Prendi in carico")
	op.Fill("Accogli la domanda", "true")
	op.Submit("Registra la decisione")
	assertText(t, op, "Accolta")

	// One contact task for the case: the voucher to deliver at home.
	op.Navigate("/desk/contacts")
	op.ReloadUntil("the voucher contact of "+caseID, func() bool {
		return strings.Contains(op.MainText(), "Buono disponibile") && strings.Count(op.MainText(), "Pratica "+caseID) >= 1 &&
			s.count(`SELECT count(*) FROM tasks WHERE case_id = $1 AND kind = 'contact' AND status IN ('open', 'claimed')`, caseID) == 1 &&
			s.count(`SELECT count(*) FROM tasks WHERE case_id = $1 AND kind = 'contact'`, caseID) == 3
	})
	assertText(t, op, "Luca Colombo")
	op.Axe()

	// The letter to post, from the case page.
	op.Navigate("/cases/" + caseID)
	href := op.Attr(`a[href$="/letter.pdf"]`, "href")
	if href != "/cases/"+caseID+"/letter.pdf" || !op.Has(`a[href$="/voucher.pdf"]`) {
		t.Fatalf("the case page links no letter (%q)", href)
	}
	op.Axe()
	printPDF(t, op, s.srv.URL+href)
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'print_voucher' AND case_id = $1 AND actor_username = 'operatore.tradate'`, caseID); n != 1 {
		t.Fatalf("%d print_voucher audit rows, want 1", n)
	}

	// Delivered: recorded on the contacts page; nothing left to do.
	op.Navigate("/desk/contacts")
	op.Fill("Buono consegnato a domicilio", "true")
	op.Submit("Registra l'esito")
	assertText(t, op, "Esito registrato.")
	if n := s.count(`SELECT count(*) FROM tasks WHERE case_id = $1 AND kind = 'contact' AND status IN ('open', 'claimed')`, caseID); n != 0 {
		t.Fatalf("%d contact tasks still open", n)
	}
	op.Axe()
	op.Navigate("/lang/en?next=/cases/" + caseID)
	assertText(t, op, "Print the letter to post, with the voucher (PDF)")
	op.Axe()
}

// printPDF downloads the PDF at url with the cookies of p's session, as the
// browser's print link would, and fails the test unless it is one.
func printPDF(t *testing.T, p *browsertest.Page, url string) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Cookies() {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(body), "%PDF-") {
		t.Fatalf("%s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
	}
	return body
}
