package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/calendar"
	"sportello/internal/i18n"
	"sportello/internal/store"
	"sportello/internal/textcheck"
)

// view is what every page template receives. Handlers fill Title and Data;
// render fills the rest.
type view struct {
	Lang      string          // "it" or "en"
	Title     string          // the page's h1 and <title>, already translated
	User      *store.UserView // nil when nobody is logged in
	Flash     *flashView      // one-shot message from the previous request
	Path      string          // this page's path and query, for the language switch
	LoginHref string          // the header's "Accedi": back to this page, except from the sign-in pages
	RequestID string          // shown on error pages
	Nav       string          // active main-menu entry ("home", "me", "inbox", ...)
	Crumbs    []crumb         // breadcrumb before the current page (optional)
	Data      any             // page-specific data
	Errors    []summaryItem   // the error summary at the top of the page's form
	Now       time.Time       // the server's clock at render time
	Status    int             // the HTTP status of the response
	Meta      map[string]any  // free-form extras for layouts and partials
	District  *districtView   // the district shown in the header and footer (nil: generic texts)
}

// crumb is one breadcrumb link.
type crumb struct {
	Href, Text string
}

// summaryItem is one entry of a form's error summary: a link to the field.
type summaryItem struct {
	Href string // "#<field id>"
	Text string // "<label>: <message>"
}

// flashView is a one-shot message shown at the top of the next page.
type flashView struct {
	Kind string // "success", "info", "warning" or "danger"
	Text string
}

// fieldView describes one simple (non-schema) form field for the
// "field-input" and "field-textarea" partials (part_field.html).
type fieldView struct {
	Name         string // form field name
	ID           string // element id ("f-" + Name when empty)
	Label        string
	Type         string // input type ("text" when empty)
	Value        string
	Hint         string
	Error        string // shown next to the field, sets aria-invalid
	Required     bool
	Autocomplete string
	Extra        map[string]string // extra attributes (min, max, step, inputmode, ...)
	Rows         int               // a textarea's rows (5 when 0)
}

// selectView is a select field (the "field-select" partial): its choices,
// and the error shown next to it (sets aria-invalid).
type selectView struct {
	Name, ID, Label, Error string
	Options                []staffOption
}

// FieldID is the element id of the field.
func (f fieldView) FieldID() string {
	if f.ID != "" {
		return f.ID
	}
	return "f-" + strings.NewReplacer("/", "-", "_", "-", ".", "-").Replace(strings.TrimPrefix(f.Name, "/"))
}

// pageSet is the parsed templates of one language: every page template
// cloned from the layout and partials.
type pageSet map[string]*template.Template

// webTemplates are the templates by language, parsed once.
type webTemplates map[string]pageSet

const templateDir = "templates"

// parseTemplates parses every template twice, once per language, so that
// the template func t needs no language argument.
func parseTemplates(fsys fs.FS) (webTemplates, error) {
	entries, err := fs.ReadDir(fsys, templateDir)
	if err != nil {
		return nil, err
	}
	var shared, pages []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".html") {
			continue
		}
		if name == "layout.html" || strings.HasPrefix(name, "part_") {
			shared = append(shared, path.Join(templateDir, name))
		} else {
			pages = append(pages, name)
		}
	}
	out := webTemplates{}
	for _, lang := range languages {
		base, err := template.New("").Funcs(templateFuncs(lang)).ParseFS(fsys, shared...)
		if err != nil {
			return nil, fmt.Errorf("web: parse layout: %w", err)
		}
		set := pageSet{}
		for _, p := range pages {
			t, err := base.Clone()
			if err != nil {
				return nil, err
			}
			if _, err := t.ParseFS(fsys, path.Join(templateDir, p)); err != nil {
				return nil, fmt.Errorf("web: parse template %s: %w", p, err)
			}
			set[strings.TrimSuffix(p, ".html")] = t
		}
		out[lang] = set
	}
	return out, nil
}

func templateFuncs(lang string) template.FuncMap {
	return template.FuncMap{
		// t translates a catalogue key: {{t "home.title"}}, {{t "home.welcome" .User.DisplayName}}.
		"t": func(key string, args ...any) string { return translate(lang, key, args...) },
		// tk translates a key built from a prefix and a value: {{tk "status." .Status}}.
		"tk": func(prefix string, v any) string {
			key := prefix + fmt.Sprint(v)
			if !hasMessage(key) {
				return fmt.Sprint(v)
			}
			return translate(lang, key)
		},
		"lang": func() string { return lang },
		// euro formats cents (int64, *int64 or int): {{euro .AmountCents}}.
		"euro": func(v any) string {
			switch n := v.(type) {
			case int64:
				return formatEuro(lang, n)
			case *int64:
				if n == nil {
					return ""
				}
				return formatEuro(lang, *n)
			case int:
				return formatEuro(lang, int64(n))
			}
			return fmt.Sprint(v)
		},
		"date": func(t time.Time) string { return formatDate(lang, t) },
		// validUntil is the platform's one wording of an expiry
		// (i18n.ValidUntil): "valido fino al 31 marzo 2027 (incluso)".
		"validUntil": func(t time.Time) string { return i18n.ValidUntil(lang, t, calendar.Rome()) },
		"datetime":   func(t time.Time) string { return formatDateTime(lang, t) },
		// deref reads an optional string or number ("" for nil).
		"deref": func(v any) any {
			switch p := v.(type) {
			case *string:
				if p == nil {
					return ""
				}
				return *p
			case *int64:
				if p == nil {
					return int64(0)
				}
				return *p
			}
			return v
		},
		// dict builds a map for partials: {{template "x" dict "A" 1 "B" 2}}.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, errors.New("dict: keys must be strings")
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"pathEscape":  url.PathEscape,
		"queryEscape": url.QueryEscape,
		"add":         func(a, b int) int { return a + b },
	}
}

// t translates key in the language of the request.
func (s *Site) t(c *gin.Context, key string, args ...any) string {
	return translate(pageLang(c), key, args...)
}

// render writes a page: the named page template inside the layout, with
// the language, the user, the flash message and the request path filled in.
func (s *Site) render(c *gin.Context, status int, name string, v view) {
	lang := pageLang(c)
	set := s.templates[lang]
	t, ok := set[name]
	if !ok {
		s.log.ErrorContext(c.Request.Context(), "unknown page template", "template", name, "request_id", httpx.RequestID(c))
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	v.Lang = lang
	if httpx.LoggedIn(c) {
		uv := httpx.CurrentUser(c)
		v.User = &uv
	}
	userDistrict := ""
	if v.User != nil {
		userDistrict = v.User.District
	}
	v.District = s.district(c, lang, userDistrict)
	if v.Flash == nil {
		v.Flash = takeFlash(c)
	}
	v.Path = c.Request.URL.RequestURI()
	v.LoginHref = loginHref(c.Request.URL.Path, v.Path, c.Request.URL.Query())
	v.RequestID = httpx.RequestID(c)
	v.Now = s.Now()
	v.Status = status
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render page", "template", name, "request_id", httpx.RequestID(c), "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	if c.GetHeader("HX-Boosted") == "true" && c.Request.Method == http.MethodGet {
		// A boosted navigation that followed a redirect: show the final URL.
		c.Header("HX-Push-Url", v.Path)
	}
	// Text stored before the input rules (textcheck) may hold bidirectional
	// or control characters, e.g. a name with U+202E that shows reversed: the
	// page shows them as U+FFFD instead. The templates hold none.
	c.Data(status, "text/html; charset=utf-8", []byte(textcheck.Neutralize(buf.String())))
}

// pageError renders the error page for status (403, 404, 500, ...) and
// aborts the chain.
func (s *Site) pageError(c *gin.Context, status int) {
	key := fmt.Sprint(status)
	if !hasMessage("error.title." + key) {
		key = "500"
		if status < 500 {
			key = "400"
		}
	}
	s.render(c, status, "error", view{
		Title: s.t(c, "error.title."+key),
		Data:  map[string]any{"Text": s.t(c, "error.text."+key), "Status": status},
	})
	c.Abort()
}

// pageFail maps err like the JSON API does and renders the error page; an
// expired session sends the visitor to the login page.
func (s *Site) pageFail(c *gin.Context, err error) {
	he := httpx.From(err)
	if he.Status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "page failed", "request_id", httpx.RequestID(c),
			"method", c.Request.Method, "path", c.Request.URL.Path, "status", he.Status, "err", err)
	} else if he.Cause != nil {
		s.log.DebugContext(c.Request.Context(), "page refused", "request_id", httpx.RequestID(c),
			"status", he.Status, "code", he.Code, "err", he.Cause)
	}
	if he.Status == http.StatusUnauthorized {
		s.redirectToLogin(c)
		return
	}
	s.pageError(c, he.Status)
}

// errAnswered is returned by a helper that already answered the request
// (a redirect): page writes nothing more.
var errAnswered = errors.New("web: answered")

// page adapts a page handler that returns an error to gin: the error
// becomes an error page, mapped like the JSON API's errors.
func (s *Site) page(f func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := f(c); err != nil && !errors.Is(err, errAnswered) {
			s.pageFail(c, err)
		}
	}
}

// redirect answers a form post with 303 See Other (Post/Redirect/Get).
func redirect(c *gin.Context, to string) {
	c.Redirect(http.StatusSeeOther, to)
	c.Abort()
}

const flashCookie = "sportello_flash"

// setFlash queues a one-shot message for the next page: kind is a
// Bootstrap alert kind ("success", "info", "warning", "danger"), key a
// catalogue key, args its (string) arguments.
func setFlash(c *gin.Context, kind, key string, args ...string) {
	v := url.Values{"k": {kind}, "m": {key}, "a": args}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: v.Encode(), Path: "/", MaxAge: 60,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

// takeFlash reads and clears the flash message (nil when there is none or
// it names no catalogue key).
func takeFlash(c *gin.Context) *flashView {
	raw, err := c.Cookie(flashCookie)
	if err != nil || raw == "" {
		return nil
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	v, err := url.ParseQuery(raw)
	if err != nil || !hasMessage(v.Get("m")) {
		return nil
	}
	kind := v.Get("k")
	switch kind {
	case "success", "info", "warning", "danger":
	default:
		kind = "info"
	}
	args := make([]any, 0, len(v["a"]))
	for _, a := range v["a"] {
		args = append(args, a)
	}
	return &flashView{Kind: kind, Text: translate(pageLang(c), v.Get("m"), args...)}
}
