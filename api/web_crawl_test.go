package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"sportello/internal/i18n"
	"sportello/internal/seed"
)

// The crawl (issue 16): every demo account, in Italian and in English,
// walks every page reachable by links from the home page (same origin, GET
// only, bounded) and the test fails on what a reader should never see:
//
//   - an internal code: a snake_case token in the visible text (text nodes
//     and the alt, title, placeholder and aria-label attributes; e-mail
//     addresses, URLs and what a page marks as <code> on purpose, such as
//     the column names of the registry's CSV header, excepted);
//   - a text of the other language: a visible text that is one of the other
//     language's messages and none of this language's;
//   - a server error.
//
// All findings are reported at the end, one line each (role, language,
// page, what), so one run lists everything to fix.

// crawlPageBudget bounds the pages one account walks in one language;
// crawlQueryVariants bounds the distinct query strings of one path (pages,
// filters and sorts of a list are alike).
const (
	crawlPageBudget    = 120
	crawlQueryVariants = 2
)

// snakeToken is an internal code ("first_approval", "task_assigned").
var snakeToken = regexp.MustCompile(`\b[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]\b`)

// crawlNoise is what is not words in visible text: e-mail addresses, URLs
// and paths, usernames (operatore.tradate) and identifiers with dots.
var crawlNoise = regexp.MustCompile(`[\w.+-]+@[\w.-]+|https?://\S+|(?:^|\s)/\S*|\b\w+(?:\.\w+)+\b`)

// crawlAllowed is the allow-list of snake_case tokens that are not codes
// shown by mistake. Keep it very short, each with its reason.
var crawlAllowed = map[string]string{}

func TestWebCrawlNoRawCodes(t *testing.T) {
	e := newEnv(t)
	// Some data so that lists, timelines and the contacts page have rows: an
	// application in Tradate approved (its voucher), one in Vedano Olona
	// waiting for review, and a citizen without e-mail registered at the
	// desk with an application filed on their behalf (contact tasks).
	c := e.apply("cittadino.tradate")
	tk := e.waitTask("operatore.tradate", c.ID)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.tradate",
		map[string]any{"outcome": "approve"}), http.StatusOK)
	v := e.apply("cittadino.vedano")
	e.waitTask("operatore.vedano", v.ID)
	reg := e.register(lucaRegistration(""))
	r := e.do("POST", "/api/v1/citizens/"+reg.Citizen.ID+"/applications", "operatore.tradate", lucaApplication())
	expectStatus(t, r, http.StatusCreated)
	var filed caseView
	r.json(t, &filed)
	e.waitContact("operatore.tradate", filed.ID, "application_received")

	other := map[string]map[string]bool{i18n.IT: {}, i18n.EN: {}}
	own := map[string]map[string]bool{i18n.IT: {}, i18n.EN: {}}
	for _, lang := range []string{i18n.IT, i18n.EN} {
		for _, id := range i18n.IDs(lang) {
			own[lang][normSpace(i18n.T(lang, id))] = true
		}
	}
	for lang := range own {
		for text := range own[lang] {
			// A message that says something (a few words) is language-specific.
			if strings.Count(text, " ") >= 2 && !strings.Contains(text, "%") {
				for _, to := range []string{i18n.IT, i18n.EN} {
					if to != lang && !own[to][text] {
						other[to][text] = true
					}
				}
			}
		}
	}

	var findings []string
	seen := map[string]bool{}
	report := func(f string) {
		if !seen[f] {
			seen[f] = true
			findings = append(findings, f)
		}
	}
	// Every demo account, Tradate's (its district file's staff and the seed's
	// demo people) and Welfare Bene Comune's (its district file); Bene
	// Comune's must never reach one of Tradate's cases.
	type crawler struct{ Username, District string }
	var crawlers []crawler
	for _, u := range seed.DemoUsers() {
		crawlers = append(crawlers, crawler{u.Username, u.District})
	}
	files, err := seed.DistrictFiles(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, a := range f.Accounts {
			crawlers = append(crawlers, crawler{a.Username, f.ID})
		}
	}
	if len(crawlers) <= len(seed.DemoUsers()) {
		t.Fatal("no Bene Comune account to crawl with")
	}
	tradateCases := []string{c.ID, v.ID, filed.ID}
	for _, u := range crawlers {
		for _, lang := range []string{i18n.IT, i18n.EN} {
			b := e.browser()
			b.login(u.Username)
			b.get("/lang/" + lang + "?next=/")
			walked := crawl(t, b, func(path string, p page) {
				if p.status >= 500 {
					report(fmt.Sprintf("%s %s %s: status %d", u.Username, lang, path, p.status))
					return
				}
				if u.District != "tradate" {
					for _, id := range tradateCases {
						if strings.Contains(p.body, id) {
							report(fmt.Sprintf("%s %s %s: shows Tradate's case %s", u.Username, lang, path, id))
						}
					}
				}
				texts, err := visibleTexts(p.body)
				if err != nil {
					report(fmt.Sprintf("%s %s %s: %v", u.Username, lang, path, err))
					return
				}
				for _, text := range texts {
					for _, tok := range snakeToken.FindAllString(crawlNoise.ReplaceAllString(text, " "), -1) {
						if _, ok := crawlAllowed[tok]; !ok {
							report(fmt.Sprintf("%s %s %s: code %q in %q", u.Username, lang, path, tok, clipText(text)))
						}
					}
					if other[lang][text] {
						report(fmt.Sprintf("%s %s %s: text of the other language %q", u.Username, lang, path, clipText(text)))
					}
				}
			})
			t.Logf("%s %s: %d pages", u.Username, lang, walked)
			if walked < 3 {
				t.Errorf("%s %s: only %d pages walked: does the crawl still follow the links?", u.Username, lang, walked)
			}
		}
	}
	slices.Sort(findings)
	if len(findings) > 0 {
		t.Errorf("%d findings:\n%s", len(findings), strings.Join(findings, "\n"))
	}
}

// crawl walks the pages reachable from the home page by same-origin links,
// GET only, calling check on each HTML page; it returns how many it walked.
func crawl(t *testing.T, b *browser, check func(path string, p page)) int {
	t.Helper()
	queue := []string{"/"}
	visited := map[string]bool{"/": true}
	variants := map[string]int{}
	walked := 0
	for len(queue) > 0 && walked < crawlPageBudget {
		target := queue[0]
		queue = queue[1:]
		p := b.get(target)
		if p.status >= 300 && p.status < 400 {
			loc, err := url.Parse(p.location)
			if err != nil || loc.Host != "" || visited[loc.RequestURI()] || !crawlable(loc) {
				continue
			}
			visited[loc.RequestURI()] = true
			p = b.follow(p)
		}
		if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") && p.status < 500 {
			continue
		}
		walked++
		check(target, p)
		for _, href := range links(p.body) {
			u, err := url.Parse(href)
			if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") || !crawlable(u) {
				continue
			}
			u.Fragment = ""
			key := u.RequestURI()
			if visited[key] {
				continue
			}
			if u.RawQuery != "" {
				if variants[u.Path] >= crawlQueryVariants {
					continue
				}
				variants[u.Path]++
			}
			visited[key] = true
			queue = append(queue, key)
		}
	}
	return walked
}

// crawlable tells the links the crawl follows: not the language switch
// (the walk stays in one language), logging out, static files or downloads.
func crawlable(u *url.URL) bool {
	for _, prefix := range []string{"/lang/", "/logout", "/static/", "/api/", "/metrics"} {
		if strings.HasPrefix(u.Path, prefix) {
			return false
		}
	}
	for _, ext := range []string{".pdf", ".csv", ".json", ".js", ".css", ".png", ".svg", ".ico", ".woff2"} {
		if strings.HasSuffix(u.Path, ext) {
			return false
		}
	}
	return !strings.Contains(u.Path, "/pdf") && !strings.Contains(u.Path, "/csv")
}

// links returns the href of every a element of an HTML page.
func links(body string) []string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil
	}
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			for _, a := range n.Attr {
				if a.Key == "href" {
					out = append(out, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// visibleTexts returns the texts a reader sees or hears: each text node
// (outside script, style and template) and the alt, title, placeholder and
// aria-label attributes, spaces normalised.
func visibleTexts(body string) ([]string, error) {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	var out []string
	add := func(s string) {
		if s = normSpace(s); s != "" {
			out = append(out, s)
		}
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.ElementNode:
			switch n.Data {
			case "script", "style", "template", "noscript", "code":
				return // not words: a format shown as such (<code>) is not a code shown by mistake
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "alt", "title", "placeholder", "aria-label":
					add(a.Val)
				}
			}
		case html.TextNode:
			add(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out, nil
}

func normSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func clipText(s string) string {
	if r := []rune(s); len(r) > 90 {
		return string(r[:90]) + "…"
	}
	return s
}

// TestCrawlDetectors: the crawl's detectors find what they must and leave
// e-mail addresses, URLs and usernames alone.
func TestCrawlDetectors(t *testing.T) {
	texts, err := visibleTexts(`<html><body><p>Stato: first_approval</p><script>var a_b = 1</script>` +
		`<p>scrivi a maria.rossi@example.org o https://x.test/a_b, utente operatore.tradate</p>` +
		`<img alt="task_assigned"></body></html>`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, text := range texts {
		got = append(got, snakeToken.FindAllString(crawlNoise.ReplaceAllString(text, " "), -1)...)
	}
	if want := []string{"first_approval", "task_assigned"}; !slices.Equal(got, want) {
		t.Errorf("codes %v, want %v", got, want)
	}
}

// lucaApplication is the application the desk files for Luca Colombo (no
// e-mail, home delivery).
func lucaApplication() map[string]any {
	return map[string]any{"form": "buoni-spesa", "privacy_consent_signed": true, "data": map[string]any{
		"applicant": map[string]any{"first_name": "Luca", "last_name": "Colombo", "tax_code": luca().TaxCode(),
			"birth_date": "1990-07-22", "phone": "0331 123456"},
		"residence":    map[string]any{"municipality": "tradate", "address": "Via Manzoni 3"},
		"household":    map[string]any{"members": 3, "minors": 1},
		"isee_euro":    4000,
		"delivery":     "home",
		"declarations": map[string]any{"truthful": true, "privacy": true},
	}}
}
