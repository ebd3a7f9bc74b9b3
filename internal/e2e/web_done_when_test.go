package e2e

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sportello/internal/browsertest"
	"sportello/internal/seed"
	"sportello/internal/testidp"
)

// TestWebCitizenFromHomeToPrintedVoucherWithSPID walks issue 16's "done
// when" for the citizen: from the home page Luca Colombo signs in with
// SPID/CIE at the test identity provider (account made on the spot), files
// the food-voucher application, is told by when to expect the answer; once
// approved, he prints his voucher, whose part for the shop carries the code
// but not his name. axe on every page. (The social worker's half, a citizen
// without e-mail served with the letter: TestWebServeCitizenWithoutEmailLetterIncluded.)
func TestWebCitizenFromHomeToPrintedVoucherWithSPID(t *testing.T) {
	s, _ := newSignInStack(t)
	luca := seed.Residents()[2]

	p := browsertest.NewPage(t, s.srv.URL, "luca")
	p.Navigate("/")
	p.FollowIn("header", "Accedi")
	p.Follow("Entra con SPID/CIE")
	signInAt(t, p, luca.TaxCode(), testidp.SpidL2)
	assertPath(t, p, "/")
	assertText(t, p, "Benvenuto, Luca Colombo")
	p.Axe()
	p.ClickAndWait(`main a[href="/apply/buoni-spesa"]`)
	assertPath(t, p, "/apply/buoni-spesa")
	p.Axe()
	p.Follow("Compila la domanda")
	assertPath(t, p, "/apply/buoni-spesa/data")
	p.Axe()
	fillApplication(p, map[string]string{
		"Nome": "Luca", "Cognome": "Colombo", "Codice fiscale": luca.TaxCode(), "Data di nascita": "1990-07-22",
		"Indirizzo e-mail": "luca.colombo@example.org", "Comune": "tradate", "Indirizzo": "Via Manzoni 3",
		"Componenti": "3", "Minorenni": "1", "ISEE (euro)": "4000",
	})
	p.Submit("Vai al riepilogo")
	if p.Has("#error-summary") {
		t.Fatalf("valid data reported as invalid:\n%s", p.MainText())
	}
	p.Axe()
	p.Submit("Invia la domanda")
	path, _, _ := strings.Cut(p.Path(), "?")
	if !strings.HasPrefix(path, "/cases/") {
		t.Fatalf("after confirming, at %s:\n%s", path, p.MainText())
	}
	caseID, _ := url.PathUnescape(strings.TrimPrefix(path, "/cases/"))
	assertText(t, p, caseID, "Riceverai una risposta entro il")
	p.Axe()

	// Tradate's social worker approves (over the API: the review's pages
	// are walked by TestWebFoodVoucherJourney).
	op := s.login("operatore.tradate")
	task := s.taskOf(t, caseID, "")
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+task+"/claim", nil, nil)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+task+"/decision", map[string]any{"outcome": "approve"}, nil)

	p.Navigate("/me")
	p.ReloadUntil("the voucher", func() bool { return p.Has(`main a[href^="/vouchers/"]`) })
	p.ClickAndWait(`main a[href^="/vouchers/"]`)
	p.Axe()
	code := voucherCodeRE.FindString(p.MainText())
	href := p.Attr(`main a[href$="/pdf"]`, "href")
	if code == "" || href == "" {
		t.Fatalf("voucher page without code or print link:\n%s", p.MainText())
	}
	pdf := printPDF(t, p, s.srv.URL+href)
	file := filepath.Join(t.TempDir(), "voucher.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	const shopHead, keepHead = "PARTE DA MOSTRARE ALL'ESERCENTE", "PARTE DA CONSERVARE"
	shop, keep := strings.Index(text, shopHead), strings.Index(text, keepHead)
	if shop < 0 || keep < 0 {
		t.Fatalf("the voucher's two parts are not found:\n%s", text)
	}
	shopPart := text[shop:]
	if keep > shop {
		shopPart = text[shop:keep]
	}
	if !strings.Contains(shopPart, code) {
		t.Errorf("the shop's part lacks the code %s:\n%s", code, shopPart)
	}
	for _, secret := range []string{"Luca", "Colombo", luca.TaxCode(), "Via Manzoni"} {
		if strings.Contains(shopPart, secret) {
			t.Errorf("the shop's part shows %q:\n%s", secret, shopPart)
		}
	}
	if !strings.Contains(text, "Luca Colombo") {
		t.Errorf("the holder's part lacks the holder's name:\n%s", text)
	}
}
