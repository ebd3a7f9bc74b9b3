package api_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sportello/forms"
	"sportello/internal/seed"
)

// browser is a minimal cookie-keeping page client. It keeps cookies by
// hand because net/http/cookiejar does not send Secure cookies over the
// tests' plain-HTTP server, while browsers do on localhost.
type browser struct {
	t       *testing.T
	e       *env
	cookies map[string]string
}

func (e *env) browser() *browser {
	return &browser{t: e.t, e: e, cookies: map[string]string{}}
}

// page is a fetched HTML page.
type page struct {
	status   int
	header   http.Header
	body     string
	location string
}

func (b *browser) send(method, path string, form url.Values, headers ...hdr) page {
	b.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for _, h := range headers {
		for k, v := range h {
			req.Header.Set(k, v)
		}
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(b.cookies, ck.Name)
		} else {
			b.cookies[ck.Name] = ck.Value
		}
	}
	return page{status: res.StatusCode, header: res.Header, body: string(raw), location: res.Header.Get("Location")}
}

func (b *browser) get(path string, headers ...hdr) page { return b.send("GET", path, nil, headers...) }

func (b *browser) post(path string, form url.Values, headers ...hdr) page {
	return b.send("POST", path, form, headers...)
}

// follow GETs the redirect target of p (and of the pages after it).
func (b *browser) follow(p page) page {
	b.t.Helper()
	for i := 0; i < 5 && p.status >= 300 && p.status < 400; i++ {
		p = b.get(p.location)
	}
	return p
}

// login logs user in through the login page.
func (b *browser) login(user string) {
	b.t.Helper()
	p := b.post("/login", url.Values{"username": {user}, "password": {seed.DemoPassword}, "next": {"/"}})
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d\n%s", user, p.status, p.body)
	}
}

func expectPage(t *testing.T, p page, status int, contains ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d\n%s", p.status, status, p.body)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			t.Errorf("page lacks %q\n%s", s, p.body)
		}
	}
}

func TestWebLoginSessionCookie(t *testing.T) {
	e := newEnv(t)
	b := e.browser()

	p := b.get("/")
	expectPage(t, p, http.StatusOK, `<html lang="it">`, "Bandi aperti", `href="/login?next=`)
	csp := p.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(scriptSrc(csp), "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
		if got := p.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]`).MatchString(p.body) || regexp.MustCompile(`\son[a-z]+=`).MatchString(p.body) {
		t.Errorf("inline script or event handler in the page")
	}

	// A wrong password is an error next to the field, not a 500.
	p = b.post("/login", url.Values{"username": {"cittadino.tradate"}, "password": {"nope"}})
	expectPage(t, p, http.StatusUnprocessableEntity, "Nome utente o password non corretti.", `id="password-error"`,
		`aria-invalid="true"`, `href="#password"`)
	if _, ok := b.cookies["__Host-sportello_session"]; ok {
		t.Fatal("a failed login set a session cookie")
	}

	// A good one sets a __Host- cookie with the right attributes.
	res := b.post("/login", url.Values{"username": {"cittadino.tradate"}, "password": {seed.DemoPassword}, "next": {"/me"}})
	if res.status != http.StatusSeeOther || res.location != "/me" {
		t.Fatalf("login: %d %q", res.status, res.location)
	}
	var sc *http.Cookie
	for _, ck := range (&http.Response{Header: res.header}).Cookies() {
		if ck.Name == "__Host-sportello_session" {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Domain != "" {
		t.Fatalf("session cookie %+v", sc)
	}
	p = b.follow(res)
	expectPage(t, p, http.StatusOK, "Area personale", "Maria Rossi")

	// Wrong role: a 403 page; unknown page: a 404 page, both in HTML.
	expectPage(t, b.get("/nowhere"), http.StatusNotFound, "Pagina non trovata")

	// Logout ends the session.
	p = b.post("/logout", url.Values{})
	if p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.status)
	}
	p = b.get("/me")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?next=") {
		t.Fatalf("after logout /me: %d %q", p.status, p.location)
	}
}

// scriptSrc is the script-src directive of a CSP.
func scriptSrc(csp string) string {
	for _, d := range strings.Split(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "script-src") {
			return d
		}
	}
	return ""
}

func TestWebCrossOriginPostRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("cittadino.tradate")
	for name, h := range map[string]hdr{
		"sec-fetch-site": {"Sec-Fetch-Site": "cross-site"},
		"origin":         {"Origin": "https://evil.example"},
	} {
		p := b.post("/logout", url.Values{}, h)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "Accesso non consentito") {
			t.Errorf("%s: status %d", name, p.status)
		}
	}
	// The session survived both attempts.
	expectPage(t, b.get("/me"), http.StatusOK, "Le mie pratiche")
	// Same-origin posts pass.
	p := b.post("/logout", url.Values{}, hdr{"Sec-Fetch-Site": "same-origin"})
	if p.status != http.StatusSeeOther {
		t.Errorf("same-origin logout: %d", p.status)
	}
}

func TestWebLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.get("/lang/en?next=/login")
	if p.status != http.StatusSeeOther || p.location != "/login" {
		t.Fatalf("lang: %d %q", p.status, p.location)
	}
	p = b.follow(p)
	expectPage(t, p, http.StatusOK, `<html lang="en">`, "Sign in with username and password", "Username")
	p = b.get("/lang/en?next=https://evil.example/")
	if p.location != "/" {
		t.Errorf("open redirect: %q", p.location)
	}
	expectPage(t, b.follow(b.post("/lang/it", url.Values{"next": {"/"}})), http.StatusOK, `<html lang="it">`, "Bandi aperti")

	// The switch in the header leads back to the same page.
	p = b.get("/login?next=%2Fme")
	link := regexp.MustCompile(`href="(/lang/en\?next=[^"]*)"`).FindStringSubmatch(p.body)
	if link == nil {
		t.Fatal("no language switch in the header")
	}
	p = b.get(html.UnescapeString(link[1]))
	if p.status != http.StatusSeeOther || p.location != "/login?next=%2Fme" {
		t.Fatalf("switch link %s: %d %q", link[1], p.status, p.location)
	}
	expectPage(t, b.follow(p), http.StatusOK, `<html lang="en">`)
}

// applicationForm is the data step's post for a valid application of user.
func applicationForm(t *testing.T, user string) url.Values {
	d := dataOf(application(t, user))
	a := d["applicant"].(map[string]any)
	r := d["residence"].(map[string]any)
	return url.Values{
		"/applicant/first_name":   {a["first_name"].(string)},
		"/applicant/last_name":    {a["last_name"].(string)},
		"/applicant/tax_code":     {a["tax_code"].(string)},
		"/applicant/birth_date":   {a["birth_date"].(string)},
		"/applicant/email":        {a["email"].(string)},
		"/residence/municipality": {r["municipality"].(string)},
		"/residence/address":      {r["address"].(string)},
		"/household/members":      {"3"},
		"/household/minors":       {"1"},
		"/isee_euro":              {"4500,50"},
		"/delivery":               {"download"},
		"/declarations/truthful":  {"true"},
		"/declarations/privacy":   {"true"},
	}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="(data|token)" value="([^"]*)">`)

// summaryFields reads the hidden draft and token of the summary page.
func summaryFields(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		if !v.Has(m[1]) {
			v.Set(m[1], html.UnescapeString(m[2]))
		}
	}
	if v.Get("data") == "" || v.Get("token") == "" {
		t.Fatalf("summary without draft or token:\n%s", body)
	}
	return v
}

func TestWebApplicationInvalidData(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("cittadino.tradate")

	expectPage(t, b.get("/apply/buoni-spesa"), http.StatusOK, "Informativa sul trattamento dei dati personali",
		`href="/apply/buoni-spesa/data"`)
	expectPage(t, b.get("/apply/buoni-spesa/data"), http.StatusOK, `name="/applicant/first_name"`, `value="Maria"`)

	form := applicationForm(t, "cittadino.tradate")
	form.Set("/residence/address", "x")
	// The message the validator gives for this field.
	d := dataOf(application(t, "cittadino.tradate"))
	d["residence"].(map[string]any)["address"] = "x"
	raw, _ := json.Marshal(d)
	_, problems, err := forms.MustRegistry().Validate("buoni-spesa", raw, time.Now())
	if err != nil || len(problems) != 1 || problems[0].Pointer != "/residence/address" {
		t.Fatalf("expected one problem at /residence/address: %v %+v", err, problems)
	}

	p := b.post("/apply/buoni-spesa/data", form)
	expectPage(t, p, http.StatusUnprocessableEntity, `id="error-summary"`, `href="#f-residence-address"`,
		html.EscapeString(problems[0].In("it")))
	input := regexp.MustCompile(`<input[^>]*id="f-residence-address"[^>]*>`).FindString(p.body)
	if !strings.Contains(input, `aria-invalid="true"`) || !strings.Contains(input, `value="x"`) ||
		!strings.Contains(input, "f-residence-address-error") {
		t.Errorf("address input: %s", input)
	}
	errSpan := regexp.MustCompile(`id="f-residence-address-error"[^>]*>([^<]*)`).FindStringSubmatch(p.body)
	if errSpan == nil || !strings.Contains(html.UnescapeString(p.body[strings.Index(p.body, `id="f-residence-address-error"`):]), problems[0].In("it")) {
		t.Errorf("no error next to the address field")
	}
	// A value of the wrong type is an error too, not a 500.
	form = applicationForm(t, "cittadino.tradate")
	form.Set("/household/members", "tre")
	p = b.post("/apply/buoni-spesa/data", form)
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `href="#f-household-members"`) {
		t.Errorf("wrong type: %d", p.status)
	}
	if n := e.countCases(); n != 0 {
		t.Fatalf("%d cases stored after invalid posts", n)
	}
	// In English the labels and messages are English.
	b.get("/lang/en")
	p = b.post("/apply/buoni-spesa/data", form)
	expectPage(t, p, http.StatusUnprocessableEntity, "Members", `lang="en"`)
}

func TestWebApplicationFlow(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("cittadino.tradate")

	p := b.post("/apply/buoni-spesa/data", applicationForm(t, "cittadino.tradate"))
	expectPage(t, p, http.StatusOK, "Riepilogo", "Via Roma 1", "Scarico online / stampa")
	fields := summaryFields(t, p.body)
	if n := e.countCases(); n != 0 {
		t.Fatalf("the summary stored %d cases", n)
	}

	// "Edit" goes back to the form with the draft's values.
	expectPage(t, b.post("/apply/buoni-spesa/data", url.Values{"_edit": {"1"}, "data": {fields.Get("data")}}),
		http.StatusOK, `value="Via Roma 1"`)

	first := b.post("/apply/buoni-spesa/summary", fields)
	if first.status != http.StatusSeeOther || !strings.HasPrefix(first.location, "/cases/BS-") {
		t.Fatalf("file: %d %q\n%s", first.status, first.location, first.body)
	}
	// A double submit of the same summary files once.
	second := b.post("/apply/buoni-spesa/summary", fields)
	if second.status != http.StatusSeeOther || second.location != first.location {
		t.Fatalf("second submit: %d %q, want %q", second.status, second.location, first.location)
	}
	if n := e.countCases(); n != 1 {
		t.Fatalf("%d cases filed, want 1", n)
	}
	caseURL, _, _ := strings.Cut(first.location, "?")
	caseID := strings.TrimPrefix(caseURL, "/cases/")
	expectPage(t, b.get(first.location), http.StatusOK, "Domanda presentata", caseID, "Cronologia")
	expectPage(t, b.get("/me"), http.StatusOK, caseID)

	// Another citizen cannot see it, nor reply to it.
	other := e.browser()
	other.login("cittadino.vedano")
	expectPage(t, other.get(caseURL), http.StatusNotFound, "Pagina non trovata")
	expectPage(t, other.post(caseURL+"/reply", url.Values{"message": {"ciao"}}), http.StatusNotFound)
	// Nor can a merchant (wrong role).
	m := e.browser()
	m.login("esercente.tradate")
	if p := m.get(caseURL); p.status != http.StatusForbidden {
		t.Errorf("merchant on a case page: %d", p.status)
	}
}

func TestWebCaseReplyAndVoucher(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	tk := e.waitTask("operatore.tradate", c.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate",
		map[string]any{"outcome": "request_info", "reason": "Conferma la composizione del nucleo."}), http.StatusOK)

	b := e.browser()
	b.login("cittadino.tradate")
	caseURL := "/cases/" + c.ID
	p := b.get(caseURL)
	expectPage(t, p, http.StatusOK, "Integrazione richiesta", "Conferma la composizione del nucleo.", "Invia la risposta",
		"Il Comune ha chiesto informazioni")
	token := regexp.MustCompile(`name="token" value="([0-9a-f]{32})"`).FindStringSubmatch(p.body)
	if token == nil {
		t.Fatal("reply form without token")
	}
	p = b.post(caseURL+"/reply", url.Values{"message": {"  "}, "token": {token[1]}})
	expectPage(t, p, http.StatusUnprocessableEntity, "Scrivi la risposta.", `aria-invalid="true"`, `href="#reply-message"`)
	reply := url.Values{"message": {"Siamo in quattro."}, "token": {token[1]}}
	p = b.post(caseURL+"/reply", reply)
	if p.status != http.StatusSeeOther || p.location != caseURL {
		t.Fatalf("reply: %d %q\n%s", p.status, p.location, p.body)
	}
	expectPage(t, b.follow(p), http.StatusOK, "Risposta inviata", "Hai inviato le informazioni richieste")
	// The same form posted again is not a second reply.
	if p = b.post(caseURL+"/reply", reply); p.status != http.StatusSeeOther {
		t.Fatalf("repeated reply: %d", p.status)
	}

	// Second round: approval, then the voucher page.
	var tk2 taskView
	deadline := time.Now().Add(30 * time.Second)
	for tk2.ID == "" || tk2.ID == tk.ID {
		if time.Now().After(deadline) {
			t.Fatalf("no second task\n%s", e.workflowDiagnosis(c.ID))
		}
		tk2 = e.waitTask("operatore.tradate", c.ID)
		time.Sleep(50 * time.Millisecond)
	}
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk2.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	r := e.do("POST", "/api/v1/tasks/"+tk2.ID+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"})
	expectStatus(t, r, http.StatusOK)
	var dec struct {
		VoucherID string `json:"voucher_id"`
	}
	r.json(t, &dec)
	var v struct {
		Code           string `json:"code"`
		AvailableCents int64  `json:"available_cents"`
	}
	for deadline = time.Now().Add(30 * time.Second); v.AvailableCents == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("voucher never released\n%s", e.workflowDiagnosis(c.ID))
		}
		r = e.do("GET", "/api/v1/vouchers/"+dec.VoucherID, "cittadino.tradate", nil)
		expectStatus(t, r, http.StatusOK)
		r.json(t, &v)
	}
	vURL := "/vouchers/" + dec.VoucherID
	expectPage(t, b.get(caseURL), http.StatusOK, "Accolta", `href="`+vURL+`"`)
	expectPage(t, b.get("/me"), http.StatusOK, v.Code)
	expectPage(t, b.get(vURL), http.StatusOK, v.Code, "valido fino al", "Disponibile", "Quota resa disponibile", `src="`+vURL+`/qr.png"`,
		`href="`+vURL+`/pdf"`, `href="/shops?municipality=tradate"`)
	if p := b.get(vURL + "/qr.png"); p.status != http.StatusOK || p.header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(p.body, "\x89PNG") {
		t.Errorf("qr: %d %s", p.status, p.header.Get("Content-Type"))
	}
	if p := b.get(vURL + "/pdf"); p.status != http.StatusOK || p.header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(p.body, "%PDF") {
		t.Errorf("pdf: %d %s", p.status, p.header.Get("Content-Type"))
	}
	other := e.browser()
	other.login("cittadino.vedano")
	for _, u := range []string{vURL, vURL + "/qr.png", vURL + "/pdf"} {
		if p := other.get(u); p.status != http.StatusNotFound {
			t.Errorf("%s as another citizen: %d", u, p.status)
		}
	}
}
