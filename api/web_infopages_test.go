package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The public information pages: linked from every page's footer, open to
// anyone in Italian and English, the default district unless ?district=
// names another (a signed-in person sees their own); the credentials page
// links the activation and the SPID/CIE sign-in, the privacy notice the
// retention facts, the accessibility statement AgID's form.
func TestWebInfoPagesPublic(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	home := b.get("/")
	for _, href := range []string{`href="/informazioni"`, `href="/informazioni/credenziali"`, `href="/informazioni/privacy"`,
		`href="/informazioni/accessibilita"`, `href="/informazioni/note-legali"`, `href="/informazioni/contatti"`, `href="/notizie"`} {
		if !strings.Contains(home.body, href) {
			t.Errorf("the footer lacks %s", href)
		}
	}
	p := b.get("/informazioni")
	expectPage(t, p, http.StatusOK, "<h1>Informazioni</h1>", "Orari del call center durante le festività", `name="district"`,
		`href="/informazioni/contatti"`, "Contatti e orari del call center")
	expectPage(t, b.get("/informazioni/contatti"), http.StatusOK, "0331 826811", `href="tel:+390331826811"`, "Social Point di Vedano Olona",
		"dal lunedì al venerdì dalle 9:00 alle 12:30")
	expectPage(t, b.get("/informazioni/credenziali"), http.StatusOK, `href="/attiva"`, `href="/login/spid"`, "Entra con SPID o CIE")
	expectPage(t, b.get("/informazioni/privacy"), http.StatusOK, "Titolare del trattamento", "Responsabile della protezione dei dati",
		"Finalità e basi giuridiche", "Conservazione", `href="/privacy"`, "dpo@ambito-tradate.example")
	expectPage(t, b.get("/informazioni/accessibilita"), http.StatusOK, "Stato di conformità", "Contenuti non accessibili",
		"Redazione della dichiarazione di accessibilità", "Meccanismo di feedback e recapiti", `href="https://form.agid.gov.it/"`,
		"Procedura di attuazione")
	expectPage(t, b.get("/informazioni/note-legali"), http.StatusOK, "Legge applicabile")
	expectPage(t, b.get("/informazioni/servizi"), http.StatusOK, "SilverCare", `href="/services"`)
	expectPage(t, b.get("/informazioni/sconosciuta"), http.StatusNotFound)
	expectPage(t, b.get("/informazioni?district=nessuno"), http.StatusNotFound)

	// Another district, kept in the links.
	p = b.get("/informazioni?district=alta-padovana")
	expectPage(t, p, http.StatusOK, `href="/informazioni/contatti?district=alta-padovana"`, `<option value="alta-padovana" selected>`)
	expectPage(t, b.get("/informazioni/contatti?district=alta-padovana"), http.StatusOK, "049 000 0100")

	// English.
	b.get("/lang/en?next=/")
	expectPage(t, b.get("/informazioni"), http.StatusOK, "<h1>Information</h1>", "Call-centre hours over the holidays")
	expectPage(t, b.get("/informazioni/accessibilita"), http.StatusOK, "Compliance status", "Non-accessible content",
		"Preparation of this statement", "Feedback and contact information", "Enforcement procedure")
	expectPage(t, b.get("/notizie"), http.StatusOK, "Applications for food vouchers are open")

	// A signed-in person sees their own district whatever the query says.
	b.login("supervisore.padova")
	expectPage(t, b.get("/informazioni/contatti?district=tradate"), http.StatusOK, "049 000 0100")
}

// The supervisors' editor: the list of pages and news, edit with preview,
// the 422s next to the fields, the 409 of a stale version, publishing and
// withdrawing; other roles get the 403 page.
func TestWebInfoPagesEditor(t *testing.T) {
	e := newEnv(t)
	op := e.browser()
	op.login("operatore.tradate")
	expectPage(t, op.get("/info-pages"), http.StatusForbidden)

	a, b := e.browser(), e.browser()
	a.login("supervisore")
	b.login("supervisore")
	expectPage(t, a.get("/info-pages"), http.StatusOK, `href="/info-pages/contatti/en"`, `href="/info-news/new"`, "Pubblicata")
	form := a.get("/info-pages/contatti/it")
	expectPage(t, form, http.StatusOK, `name="version" value="1"`, `id="info-body"`, "Contatti e orari del call center")

	body := "## Call center\n\nTelefono [0331 826 850](tel:+390331826850).\n\n- uno\n- due"
	v := url.Values{"title": {"Contatti"}, "body": {body}, "published": {"on"}, "version": {"1"}, "action": {"preview"}}
	expectPage(t, a.post("/info-pages/contatti/it", v), http.StatusOK, "Anteprima (non ancora salvata)", "<h2>Call center</h2>",
		`<a href="tel:+390331826850">`, "<li>uno</li>")

	// Invalid: the errors next to the fields and in the summary.
	bad := url.Values{"title": {""}, "body": {"<script>alert(1)</script>"}, "version": {"1"}, "action": {"save"}}
	p := a.post("/info-pages/contatti/it", bad)
	expectPage(t, p, http.StatusUnprocessableEntity, `href="#info-title"`, `href="#info-body"`, "il titolo è obbligatorio",
		"il codice HTML non è ammesso", `aria-invalid="true"`, "&lt;script&gt;")
	if strings.Contains(p.body, "<script>alert") {
		t.Fatal("the posted script came back as markup")
	}
	bad.Set("body", "[clic](javascript:alert(1))")
	bad.Set("title", "x")
	expectPage(t, a.post("/info-pages/contatti/it", bad), http.StatusUnprocessableEntity, "un collegamento può portare solo")

	// Both read version 1; a saves first, b's save is the 409 page with b's text kept.
	v.Set("action", "save")
	p = a.post("/info-pages/contatti/it", v)
	if p.status != http.StatusSeeOther || p.location != "/info-pages" {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	expectPage(t, a.follow(p), http.StatusOK, "Pagina salvata.", "versione 2")
	expectPage(t, e.browser().get("/informazioni/contatti"), http.StatusOK, "<li>due</li>")
	mine := url.Values{"title": {"Contatti di b"}, "body": {"Testo di b"}, "version": {"1"}, "action": {"save"}}
	expectPage(t, b.post("/info-pages/contatti/it", mine), http.StatusConflict, "Nel frattempo", "Testo di b", `id="info-conflict"`)

	// Withdrawn: the public page is gone (404), the editor still has it.
	v.Set("version", "2")
	v.Del("published")
	if p := a.post("/info-pages/contatti/it", v); p.status != http.StatusSeeOther {
		t.Fatalf("unpublish: %d %s", p.status, p.body)
	}
	expectPage(t, e.browser().get("/informazioni/contatti"), http.StatusNotFound)

	// News: a draft, then published.
	expectPage(t, a.get("/info-news/new"), http.StatusOK, `id="info-lang"`)
	n := url.Values{"title": {"Sportello chiuso il 7 dicembre"}, "lang": {"it"}, "body": {"Per la festa patronale."}, "version": {"0"}, "action": {"save"}}
	if p := a.post("/info-news/new", n); p.status != http.StatusSeeOther {
		t.Fatalf("news: %d %s", p.status, p.body)
	}
	if strings.Contains(e.browser().get("/informazioni").body, "Sportello chiuso il 7 dicembre") {
		t.Fatal("a draft is public")
	}
	list := a.get("/info-pages")
	m := regexp.MustCompile(`href="/info-news/([0-9a-f-]{36})">Modifica<span class="visually-hidden"> Sportello chiuso`).FindStringSubmatch(list.body)
	if m == nil {
		t.Fatalf("the editor does not list the draft:\n%s", list.body)
	}
	id := m[1]
	n.Set("published", "on")
	n.Set("version", strconv.Itoa(1))
	if p := a.post("/info-news/"+id, n); p.status != http.StatusSeeOther {
		t.Fatalf("publish news %s: %d %s", id, p.status, p.body)
	}
	expectPage(t, e.browser().get("/informazioni"), http.StatusOK, "Sportello chiuso il 7 dicembre")
	expectPage(t, a.get("/info-news/00000000-0000-4000-8000-000000000201"), http.StatusNotFound) // another district's
}
