package paysandbox

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"sportello/internal/i18n"
)

// pageText holds the hosted page's words in one language.
type pageText struct {
	Lang, Title, Intro, Amount, Description, Reference, Status, Pay, Cancel, Other, OtherLang,
	Done, Back, Sandbox string
	Statuses map[string]string
}

var pageTexts = map[string]pageText{
	"it": {Lang: "it", Title: "Pagamento", Intro: "Controlla i dati e conferma il pagamento.",
		Amount: "Importo", Description: "Causale", Reference: "Riferimento", Status: "Stato",
		Pay: "Paga", Cancel: "Annulla", Other: "en", OtherLang: "English",
		Done: "Questo pagamento è già concluso.", Back: "Torna al sito", Sandbox: "Ambiente di prova: nessun addebito reale.",
		Statuses: map[string]string{StatusPending: "in attesa", StatusCaptured: "pagato", StatusCanceled: "annullato"}},
	"en": {Lang: "en", Title: "Payment", Intro: "Check the details and confirm the payment.",
		Amount: "Amount", Description: "Description", Reference: "Reference", Status: "Status",
		Pay: "Pay", Cancel: "Cancel", Other: "it", OtherLang: "Italiano",
		Done: "This payment is already concluded.", Back: "Back to the site", Sandbox: "Sandbox: no real charge.",
		Statuses: map[string]string{StatusPending: "pending", StatusCaptured: "paid", StatusCanceled: "canceled"}},
}

var pageTmpl = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="{{.T.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T.Title}} – {{.P.Description}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1a1a1a}
header,main{max-width:32rem;margin:0 auto;padding:1rem}
header{display:flex;justify-content:space-between;align-items:center}
a{color:#0050a0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.5rem 1rem;background:#fff;padding:1rem;border-radius:.5rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
form{display:inline}
button{font-size:1rem;padding:.75rem 1.5rem;margin:1rem .5rem 0 0;border-radius:.4rem;border:2px solid #0050a0;cursor:pointer}
button.pay{background:#0050a0;color:#fff}button.cancel{background:#fff;color:#0050a0}
button:focus-visible,a:focus-visible{outline:3px solid #b35900;outline-offset:2px}
.note{font-size:.9rem;color:#4a4a4a}
</style>
</head>
<body>
<header>
<p class="note">{{.T.Sandbox}}</p>
<a href="?lang={{.T.Other}}" lang="{{.T.Other}}" hreflang="{{.T.Other}}">{{.T.OtherLang}}</a>
</header>
<main id="main">
<h1>{{.T.Title}}</h1>
{{if eq .P.Status "pending"}}<p>{{.T.Intro}}</p>{{else}}<p role="status">{{.T.Done}}</p>{{end}}
<dl>
<dt>{{.T.Amount}}</dt><dd>{{.Amount}}</dd>
<dt>{{.T.Description}}</dt><dd>{{.P.Description}}</dd>
<dt>{{.T.Reference}}</dt><dd>{{.P.MerchantReference}}</dd>
<dt>{{.T.Status}}</dt><dd>{{index .T.Statuses .P.Status}}</dd>
</dl>
{{if eq .P.Status "pending"}}
<form method="post" action="/pay/{{.P.ID}}/confirm"><input type="hidden" name="lang" value="{{.T.Lang}}"><button type="submit" class="pay">{{.T.Pay}} {{.Amount}}</button></form>
<form method="post" action="/pay/{{.P.ID}}/cancel"><input type="hidden" name="lang" value="{{.T.Lang}}"><button type="submit" class="cancel">{{.T.Cancel}}</button></form>
{{else}}
<p><a href="{{.Return}}">{{.T.Back}}</a></p>
{{end}}
</main>
</body>
</html>
`))

// pageLang picks the page's language: ?lang= or the form's lang, then
// Accept-Language, then Italian.
func pageLang(r *http.Request) pageText {
	if t, ok := pageTexts[r.FormValue("lang")]; ok {
		return t
	}
	for part := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if t, ok := pageTexts[base]; ok {
			return t
		}
	}
	return pageTexts["it"]
}

// formatEuro writes cents the Italian way for Italian ("€ 1.234,50") and
// the English way otherwise ("€1,234.50").
func formatEuro(cents int64, lang string) string { return i18n.Money(lang, cents) }

func returnURL(p Payment) string {
	u, err := url.Parse(p.ReturnURL)
	if err != nil {
		return p.ReturnURL
	}
	q := u.Query()
	q.Set("payment_id", p.ID)
	q.Set("status", p.Status)
	u.RawQuery = q.Encode()
	return u.String()
}

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action *; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	t := pageLang(r)
	s.mu.Lock()
	p, ok := s.payments[r.PathValue("id")]
	var snap Payment
	if ok {
		snap = p.Payment
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "payment not found / pagamento non trovato", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := pageTmpl.Execute(w, map[string]any{"T": t, "P": snap, "Amount": formatEuro(snap.AmountCents, t.Lang), "Return": returnURL(snap)})
	if err != nil {
		s.log.Error("paysandbox: page", "err", err)
	}
}

// choose records the payer's choice and sends the browser back to the
// merchant. A second click on a concluded payment changes nothing.
func (s *Server) choose(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	var capture bool
	switch r.PathValue("choice") {
	case "confirm":
		capture = true
	case "cancel":
	default:
		http.NotFound(w, r)
		return
	}
	p, _, err := s.decide(r.PathValue("id"), capture)
	if errors.Is(err, errNotFound) {
		http.Error(w, "payment not found / pagamento non trovato", http.StatusNotFound)
		return
	}
	http.Redirect(w, r, returnURL(p), http.StatusSeeOther)
}
