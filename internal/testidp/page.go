package testidp

import (
	"html/template"
	"net/url"
)

// pageText holds the page's words in one language.
type pageText struct {
	Lang, Title, Intro, Who, Level, Enter, Cancel, Other, OtherLang, Test string
	Levels                                                                map[string]string
}

var pageTexts = map[string]pageText{
	"it": {Lang: "it", Title: "Identity provider di prova", Intro: "Scegli la persona con cui entrare e il livello di sicurezza.",
		Who: "Persona", Level: "Livello di sicurezza", Enter: "Entra", Cancel: "Annulla", Other: "en", OtherLang: "English",
		Test:   "Ambiente di prova: nessuna identità reale, nessuna password.",
		Levels: map[string]string{SpidL1: "SPID livello 1 (password)", SpidL2: "SPID livello 2 (password e codice)", SpidL3: "SPID livello 3 (dispositivo)"}},
	"en": {Lang: "en", Title: "Test identity provider", Intro: "Choose the person to sign in as and the level of assurance.",
		Who: "Person", Level: "Level of assurance", Enter: "Sign in", Cancel: "Cancel", Other: "it", OtherLang: "Italiano",
		Test:   "Test environment: no real identity, no password.",
		Levels: map[string]string{SpidL1: "SPID level 1 (password)", SpidL2: "SPID level 2 (password and code)", SpidL3: "SPID level 3 (device)"}},
}

type pageData struct {
	T        pageText
	Params   url.Values
	Citizens []Citizen
	Levels   []string
	Level    string
	// OtherHref is this page in the other language.
	OtherHref string
}

// forwarded are the request parameters the page posts back.
var forwarded = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "acr_values"}

var pageTmpl = template.Must(template.New("idp").Funcs(template.FuncMap{"forwarded": func() []string { return forwarded }}).Parse(`<!doctype html>
<html lang="{{.T.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1a1a1a}
header,main{max-width:36rem;margin:0 auto;padding:1rem}
header{display:flex;justify-content:space-between;align-items:center}
a{color:#0050a0}
fieldset{background:#fff;border:1px solid #5c6f82;border-radius:.5rem;margin:1rem 0;padding:1rem}
legend{font-weight:600;padding:0 .25rem}
label{display:block;padding:.35rem 0}
.note{font-size:.9rem;color:#4a4a4a}
button{font-size:1rem;padding:.75rem 1.5rem;margin:0 .5rem 0 0;border-radius:.4rem;border:2px solid #0050a0;cursor:pointer}
button.enter{background:#0050a0;color:#fff}button.cancel{background:#fff;color:#0050a0}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #b35900;outline-offset:2px}
</style>
</head>
<body>
<header>
<p class="note">{{.T.Test}}</p>
<a href="{{.OtherHref}}" lang="{{.T.Other}}" hreflang="{{.T.Other}}">{{.T.OtherLang}}</a>
</header>
<main id="main">
<h1>{{.T.Title}}</h1>
<p>{{.T.Intro}}</p>
<form method="post" action="authorize">
{{$p := .Params}}{{range forwarded}}<input type="hidden" name="{{.}}" value="{{$p.Get .}}">
{{end}}
<fieldset>
<legend>{{.T.Who}}</legend>
{{range $i, $c := .Citizens}}<label><input type="radio" name="citizen" value="{{$c.TaxCode}}"{{if eq $i 0}} checked{{end}}> {{$c.FirstName}} {{$c.LastName}} <span class="note">({{$c.TaxCode}}{{if $c.Note}}, {{$c.Note}}{{end}})</span></label>
{{end}}
</fieldset>
<fieldset>
<legend>{{.T.Level}}</legend>
{{$t := .T}}{{$l := .Level}}{{range .Levels}}<label><input type="radio" name="acr" value="{{.}}"{{if eq . $l}} checked{{end}}> {{index $t.Levels .}}</label>
{{end}}
</fieldset>
<button type="submit" class="enter">{{.T.Enter}}</button>
<button type="submit" class="cancel" name="cancel" value="1">{{.T.Cancel}}</button>
</form>
</main>
</body>
</html>
`))
