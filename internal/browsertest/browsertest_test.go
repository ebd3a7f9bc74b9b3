package browsertest

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Close()
	os.Exit(code)
}

const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

const pixel = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

func page(title, head, body string) string {
	return `<!doctype html><html lang="it"><head><meta charset="utf-8"><title>` + title + `</title>` + head +
		`</head><body><header><p>Prova</p></header><main id="main"><h1>` + title + `</h1>` + body + `</main></body></html>`
}

// testSite serves a small accessible form, an inaccessible page, and the
// answer to the form (with and without htmx boosting), under the portal's CSP.
func testSite(t *testing.T) *httptest.Server {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	htmxPath := filepath.Join(root, "api/web/node_modules/htmx.org/dist/htmx.min.js")
	form := func(boost bool) string {
		head, attr := "", ""
		if boost {
			head = `<meta name="htmx-config" content='{"includeIndicatorStyles":false}'><script src="/htmx.min.js" defer></script>`
			attr = ` hx-boost="true"`
		}
		return page("Domanda", head, `<form method="post" action="/answer"`+attr+`>
<p><img src="`+pixel+`" alt="Stemma del comune"></p>
<div><label for="nome">Nome *</label><input id="nome" name="/applicant/first_name" type="text" aria-describedby="nome-hint">
<small id="nome-hint">Come sul documento.</small></div>
<div><label>Indirizzo <input name="/residence/address" type="text"></label></div>
<div><label for="email">Indirizzo e-mail</label><input id="email" name="/applicant/email" type="email"></div>
<div><label for="nascita">Data di nascita</label><input id="nascita" name="/applicant/birth_date" type="date"></div>
<div><label for="comune">Comune</label><select id="comune" name="/residence/municipality">
<option value="">Scegli</option><option value="tradate">Tradate</option><option value="vedano-olona">Vedano Olona</option></select></div>
<fieldset><legend>Consegna</legend>
<input type="radio" id="d1" name="/delivery" value="download"><label for="d1">Scarico online</label>
<input type="radio" id="d2" name="/delivery" value="home"><label for="d2">Consegna a domicilio</label></fieldset>
<div><input type="checkbox" id="privacy" name="/declarations/privacy" value="true"><label for="privacy">Ho letto l'informativa</label></div>
<button type="submit">Invia la domanda</button> <button type="button">Annulla</button>
</form><p><a href="/bad">Pagina con problemi</a></p>`)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /good", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		fmt.Fprint(w, form(false))
	})
	mux.HandleFunc("GET /boosted", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		fmt.Fprint(w, form(true))
	})
	mux.HandleFunc("GET /htmx.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, htmxPath)
	})
	mux.HandleFunc("POST /answer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var keys []string
		for k := range r.PostForm {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteString("<dl>")
		for _, k := range keys {
			fmt.Fprintf(&b, "<dt>%s</dt><dd>%s</dd>", html.EscapeString(k), html.EscapeString(r.PostForm.Get(k)))
		}
		b.WriteString("</dl>")
		fmt.Fprintf(&b, "<p>htmx: %q</p>", r.Header.Get("HX-Request"))
		fmt.Fprint(w, page("Ricevuta", "", b.String()))
	})
	mux.HandleFunc("GET /bad", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		fmt.Fprint(w, page("Pagina con problemi", "", `<img src="`+pixel+`"><form><input type="text" name="q"></form>`))
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "non trovato", http.StatusNotFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestAxePassesAnAccessiblePage(t *testing.T) {
	srv := testSite(t)
	p := NewPage(t, srv.URL, "visitor")
	p.Navigate("/good")
	Axe(t, p.Ctx)
	p.Axe()
}

func TestAxeReportsViolations(t *testing.T) {
	srv := testSite(t)
	p := NewPage(t, srv.URL, "visitor")
	p.Navigate("/bad")
	vs, err := RunAxe(p.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]Violation{}
	for _, v := range vs {
		ids[v.ID] = v
	}
	for _, want := range []string{"image-alt", "label"} {
		v, ok := ids[want]
		if !ok {
			t.Errorf("axe did not report %q; got %v", want, slices.Collect(func(yield func(string) bool) {
				for id := range ids {
					if !yield(id) {
						return
					}
				}
			}))
			continue
		}
		if len(v.Nodes) == 0 || len(v.Nodes[0].Target) == 0 || v.Nodes[0].HTML == "" || v.Impact == "" || v.Help == "" {
			t.Errorf("%s: incomplete report %+v", want, v)
		}
	}
	report := FormatViolations(vs)
	for _, want := range []string{"image-alt [critical]", "label [critical]", `<img src="data:image/gif`, `<input type="text" name="q">`, "at img"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	// A second run on the same document reuses the injected script.
	again, err := RunAxe(p.Ctx)
	if err != nil || len(again) != len(vs) {
		t.Errorf("second run: %d violations, %v; first run %d", len(again), err, len(vs))
	}
}

// The Axe wrapper fails its test on the inaccessible page: run against a
// recording testing.TB so the outer test stays green.
func TestAxeFailsTheTest(t *testing.T) {
	srv := testSite(t)
	p := NewPage(t, srv.URL, "visitor")
	p.Navigate("/bad")
	rec := &recorder{TB: t}
	Axe(rec, p.Ctx)
	if !rec.failed || !strings.Contains(rec.msg, "image-alt") || !strings.Contains(rec.msg, "/bad") {
		t.Fatalf("Axe did not fail with the violations: failed=%v %q", rec.failed, rec.msg)
	}
}

type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg += fmt.Sprintf(format, args...)
}
func (r *recorder) Fatal(args ...any) { r.failed = true; r.msg += fmt.Sprint(args...) }

func TestFormHelpers(t *testing.T) {
	srv := testSite(t)
	for _, path := range []string{"/good", "/boosted"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			p := NewPage(t, srv.URL, "citizen")
			p.Navigate(path)
			p.Fill("Nome", "Maria")
			p.Fill("Indirizzo", "Via Roma 1")
			p.Fill("Indirizzo e-mail", "maria@example.org")
			p.Fill("Data di nascita", "1980-01-31")
			p.Fill("Comune", "Vedano Olona")
			p.Fill("Consegna a domicilio", "true")
			p.FillByName("/delivery", "download")
			p.Fill("Ho letto l'informativa", "true")
			if got := p.Value(p.Field("Nome")); got != "Maria" {
				t.Fatalf("Nome = %q", got)
			}
			p.Submit("Invia la domanda")
			p.WaitText("Ricevuta")
			if got := p.Text("h1"); got != "Ricevuta" {
				t.Fatalf("h1 = %q", got)
			}
			text := p.MainText()
			for _, want := range []string{"/applicant/first_name\nMaria", "/residence/address\nVia Roma 1",
				"/applicant/email\nmaria@example.org", "/applicant/birth_date\n1980-01-31",
				"/residence/municipality\nvedano-olona", "/delivery\ndownload", "/declarations/privacy\ntrue"} {
				if !strings.Contains(text, want) {
					t.Errorf("answer lacks %q:\n%s", want, text)
				}
			}
			boosted := strings.Contains(text, `htmx: "true"`)
			if boosted != (path == "/boosted") {
				t.Errorf("boosted request = %v on %s", boosted, path)
			}
			for _, line := range p.Console() {
				if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "exception") {
					t.Errorf("console: %s", line)
				}
			}
			p.Axe()
		})
	}
}

func TestHelpersFailClearly(t *testing.T) {
	srv := testSite(t)
	p := NewPage(t, srv.URL, "visitor")
	if st := p.NavigateStatus("/missing"); st != http.StatusNotFound {
		t.Errorf("status of /missing = %d", st)
	}
	p.Navigate("/good")
	// "Indirizzo" matches exactly one label although "Indirizzo e-mail" starts with it.
	if sel := p.Field("Indirizzo"); sel == "#email" {
		t.Errorf("Indirizzo resolved to the e-mail field")
	}
	rec := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		p.t = rec
		defer func() { p.t = t }()
		p.Fill("Codice fiscale", "X")
	}()
	if !strings.Contains(rec.msg, `no field labelled "Codice fiscale"`) {
		t.Errorf("missing label message: %q", rec.msg)
	}
}

type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}

func TestScreenshotAndArtifactsDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvArtifacts, dir)
	srv := testSite(t)
	p := NewPage(t, srv.URL, "visitor one")
	p.Navigate("/good")
	path := p.Screenshot("home page")
	want := filepath.Join(dir, "TestScreenshotAndArtifactsDir", "01-visitor_one-home_page.png")
	if path != want {
		t.Fatalf("screenshot at %s, want %s", path, want)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 100 || string(b[1:4]) != "PNG" {
		t.Fatalf("not a PNG: %d bytes, %v", len(b), err)
	}
	p.saveFailure()
	for _, f := range []string{"failure-visitor_one.png", "failure-visitor_one.html"} {
		if _, err := os.Stat(filepath.Join(dir, "TestScreenshotAndArtifactsDir", f)); err != nil {
			t.Errorf("failure artifact: %v", err)
		}
	}
}

func TestMissingChromiumFailsClearly(t *testing.T) {
	t.Setenv(EnvChromium, filepath.Join(t.TempDir(), "no-chromium"))
	_, err := ChromiumPath()
	if err == nil || !strings.Contains(err.Error(), "install chromium (make deps)") {
		t.Fatalf("error = %v", err)
	}
}

func TestSeparateCookiesPerPage(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /set", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: r.URL.Query().Get("v"), Path: "/", HttpOnly: true})
		fmt.Fprint(w, page("Fatto", "", "<p>ok</p>"))
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("who")
		v := "nessuno"
		if err == nil {
			v = c.Value
		}
		fmt.Fprint(w, page("Chi", "", "<p id=who>"+html.EscapeString(v)+"</p>"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	a, b, c := NewPage(t, srv.URL, "a"), NewPage(t, srv.URL, "b"), NewPage(t, srv.URL, "c")
	a.Navigate("/set?v=anna")
	b.Navigate("/set?v=bruno")
	for _, tc := range []struct {
		p    *Page
		want string
	}{{a, "anna"}, {b, "bruno"}, {c, "nessuno"}} {
		tc.p.Navigate("/get")
		if got := tc.p.Text("#who"); got != tc.want {
			t.Errorf("%s sees cookie %q, want %q", tc.p.User, got, tc.want)
		}
	}
}

// TestPrintKeepsReducedMotion: printing a page and coming back to the screen
// keeps reduced motion. Setting only the media type through the DevTools
// protocol clears it, which brought smooth scrolling back and made a later
// click on a checkbox's label land where the label was not yet.
func TestPrintKeepsReducedMotion(t *testing.T) {
	srv := testSite(t)
	p := NewPage(t, srv.URL, "visitor")
	p.Navigate("/good")
	media := func() (print, reduced bool) {
		p.Eval(`matchMedia('print').matches`, &print)
		p.Eval(`matchMedia('(prefers-reduced-motion: reduce)').matches`, &reduced)
		return
	}
	if print, reduced := media(); print || !reduced {
		t.Fatalf("a new page: print %v, reduced motion %v", print, reduced)
	}
	p.EmulateMedia("print")
	if print, reduced := media(); !print || !reduced {
		t.Fatalf("printing: print %v, reduced motion %v", print, reduced)
	}
	if pdf := p.PrintToPDF(); !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("not a PDF: %d bytes", len(pdf))
	}
	p.EmulateMedia("")
	if print, reduced := media(); print || !reduced {
		t.Fatalf("back on the screen: print %v, reduced motion %v", print, reduced)
	}
}
