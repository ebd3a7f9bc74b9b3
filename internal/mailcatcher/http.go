package mailcatcher

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	_ "time/tzdata" // Europe/Rome for the received times
)

var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.UTC
	}
	return l
}()

var labels = map[string]map[string]string{
	"it": {
		"title": "Posta in arrivo (mail catcher)", "empty": "Nessun messaggio ricevuto.",
		"received": "Ricevuto", "from": "Da", "to": "A", "subject": "Oggetto", "nosubject": "(senza oggetto)",
		"inbox": "Posta in arrivo", "text": "Testo", "html": "HTML", "raw": "Sorgente (.eml)",
		"notext": "(nessuna parte di testo)", "message_id": "Message-ID", "envelope": "Busta SMTP",
		"count": "messaggi", "note": "Solo per sviluppo: raccoglie ogni e-mail inviata a questo server SMTP; nessuna viene recapitata.",
		"parse_error": "Messaggio non interpretabile del tutto",
	},
	"en": {
		"title": "Inbox (mail catcher)", "empty": "No messages received.",
		"received": "Received", "from": "From", "to": "To", "subject": "Subject", "nosubject": "(no subject)",
		"inbox": "Inbox", "text": "Text", "html": "HTML", "raw": "Source (.eml)",
		"notext": "(no text part)", "message_id": "Message-ID", "envelope": "SMTP envelope",
		"count": "messages", "note": "Development only: catches every e-mail sent to this SMTP server; nothing is delivered.",
		"parse_error": "Message could not be fully parsed",
	},
}

const pageCSS = `body{font-family:system-ui,Arial,sans-serif;margin:0;color:#1a1a1a;background:#f5f6f7}
header{background:#0066cc;color:#fff;padding:12px 24px;display:flex;justify-content:space-between;align-items:center}
header a{color:#fff}main{padding:16px 24px}table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:8px;border-bottom:1px solid #ddd;vertical-align:top}th{background:#eef1f4}
tr:hover td{background:#f2f7fc}.muted{color:#5c6f82;font-size:.9em}pre{white-space:pre-wrap;background:#fff;padding:12px;border:1px solid #ddd}
iframe{width:100%;height:600px;border:1px solid #ddd;background:#fff}dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px;background:#fff;padding:12px;border:1px solid #ddd}
dt{font-weight:bold}dd{margin:0;word-break:break-all}.warn{color:#a66300}`

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(rome).Format("02/01/2006 15:04:05")
	},
	"join": strings.Join,
}).Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="5">{{end}}
<title>{{.L.title}}</title><style>` + pageCSS + `</style></head><body>
<header><strong><a href="/?lang={{.Lang}}">{{.L.title}}</a></strong>
<span><a href="?lang=it" lang="it">Italiano</a> · <a href="?lang=en" lang="en">English</a></span></header><main>{{end}}

{{define "list"}}{{template "head" .}}
<p class="muted">{{.L.note}} {{len .Messages}} {{.L.count}}.</p>
{{if .Messages}}<table><thead><tr><th>{{.L.received}}</th><th>{{.L.from}}</th><th>{{.L.to}}</th><th>{{.L.subject}}</th></tr></thead><tbody>
{{range .Messages}}<tr><td>{{when .Received}}</td><td>{{if .HeaderFrom}}{{.HeaderFrom}}{{else}}{{.From}}{{end}}</td>
<td>{{if .HeaderTo}}{{.HeaderTo}}{{else}}{{join .To ", "}}{{end}}</td>
<td><a href="/messages/{{.ID}}?lang={{$.Lang}}">{{if .Subject}}{{.Subject}}{{else}}{{$.L.nosubject}}{{end}}</a></td></tr>
{{end}}</tbody></table>{{else}}<p>{{.L.empty}}</p>{{end}}
</main></body></html>{{end}}

{{define "message"}}{{template "head" .}}{{with .Message}}
<p><a href="/?lang={{$.Lang}}">← {{$.L.inbox}}</a></p>
<h1>{{if .Subject}}{{.Subject}}{{else}}{{$.L.nosubject}}{{end}}</h1>
<dl><dt>{{$.L.received}}</dt><dd>{{when .Received}}</dd>
<dt>{{$.L.from}}</dt><dd>{{.HeaderFrom}}</dd><dt>{{$.L.to}}</dt><dd>{{.HeaderTo}}</dd>
<dt>{{$.L.message_id}}</dt><dd>{{.MessageID}}</dd>
<dt>{{$.L.envelope}}</dt><dd>&lt;{{.From}}&gt; → {{range $i, $r := .To}}{{if $i}}, {{end}}&lt;{{$r}}&gt;{{end}}</dd></dl>
{{if .ParseError}}<p class="warn">{{$.L.parse_error}}: {{.ParseError}}</p>{{end}}
<h2>{{$.L.text}}</h2>{{if .Text}}<pre>{{.Text}}</pre>{{else}}<p class="muted">{{$.L.notext}}</p>{{end}}
{{if .HTML}}<h2>{{$.L.html}}</h2><iframe sandbox src="/messages/{{.ID}}/html" title="{{$.L.html}}"></iframe>{{end}}
<p><a href="/messages/{{.ID}}/raw">{{$.L.raw}}</a></p>
{{end}}</main></body></html>{{end}}
`))

type pageData struct {
	Lang     string
	L        map[string]string
	Refresh  bool
	Messages []Captured
	Message  Captured
}

func pageLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "it" || l == "en" {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if strings.HasPrefix(tag, "it") {
			return "it"
		}
		if strings.HasPrefix(tag, "en") {
			return "en"
		}
	}
	return "it"
}

// Handler serves the web inbox:
//
//	GET /                       list of messages, newest first
//	GET /messages/{id}          one message: headers, text part, HTML part in a sandboxed iframe
//	GET /messages/{id}/html     the HTML part alone, under a CSP sandbox
//	GET /messages/{id}/raw      the message source
//	GET /api/messages           JSON list, newest first
//	GET /api/messages/{id}      JSON of one message
//
// Labels are in Italian or English (?lang=it|en, else Accept-Language).
func (c *Catcher) Handler() http.Handler {
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, name string, d pageData) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		_ = pages.ExecuteTemplate(w, name, d)
	}
	find := func(w http.ResponseWriter, r *http.Request) (Captured, bool) {
		m, ok := c.Message(r.PathValue("id"))
		if !ok {
			http.Error(w, "message not found / messaggio non trovato", http.StatusNotFound)
		}
		return m, ok
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		lang := pageLang(r)
		page(w, "list", pageData{Lang: lang, L: labels[lang], Refresh: true, Messages: c.Messages()})
	})
	mux.HandleFunc("GET /messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		if m, ok := find(w, r); ok {
			lang := pageLang(r)
			page(w, "message", pageData{Lang: lang, L: labels[lang], Message: m})
		}
	})
	mux.HandleFunc("GET /messages/{id}/html", func(w http.ResponseWriter, r *http.Request) {
		m, ok := find(w, r)
		if !ok {
			return
		}
		// The message's own HTML, as sent: the sandbox (no scripts, no
		// same-origin, no forms) and the CSP keep it harmless, whether it
		// is framed by the message page or opened directly.
		asSent(w, "text/html; charset=utf-8", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(m.HTML))
	})
	mux.HandleFunc("GET /messages/{id}/raw", func(w http.ResponseWriter, r *http.Request) {
		m, ok := find(w, r)
		if !ok {
			return
		}
		asSent(w, "text/plain; charset=utf-8", "sandbox; default-src 'none'")
		w.Header().Set("Content-Disposition", "inline; filename=\""+url.PathEscape(m.ID)+".eml\"")
		_, _ = w.Write(m.Raw)
	})
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	mux.HandleFunc("GET /api/messages", func(w http.ResponseWriter, r *http.Request) {
		msgs := c.Messages()
		for i := range msgs {
			if msgs[i].To == nil {
				msgs[i].To = []string{}
			}
		}
		writeJSON(w, msgs)
	})
	mux.HandleFunc("GET /api/messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		if m, ok := find(w, r); ok {
			writeJSON(w, m)
		}
	})
	return mux
}

// asSent sets the headers of a message's own content served as it was
// sent: its type, never sniffed, and a sandboxing content security policy.
func asSent(w http.ResponseWriter, contentType, csp string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("X-Content-Type-Options", "nosniff")
}
