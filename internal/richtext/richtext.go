// Package richtext is the one place where the text of the public
// information pages and news items (issue 15) is checked and turned into
// HTML. Supervisors write a small Markdown-like language; nothing else is
// stored, and nothing is rendered that this package did not build itself:
//
//	## Heading              (### for a sub-heading; the page's title is its h1)
//	A paragraph: lines up to a blank line.
//	- item                  (or "* item": a bulleted list)
//	1. item                 (a numbered list)
//	**bold** and [text](https://example.org), [text](/attiva),
//	[text](mailto:a@b.it), [text](tel:+390331826811)
//
// Check refuses raw HTML (a "<" followed by a letter, "/", "!" or "?"), an
// h1 ("# "), a link whose address is not https, http, mailto, tel or a
// path of this site (so never javascript: or data:), an unclosed link and
// text over MaxBody characters. Render escapes every character of the text
// (through html/template's escaper) and writes only the elements above, so
// even text stored before a rule existed, or written past Check, renders
// as inert text. Characters themselves (control, bidi) are the rule of
// internal/textcheck, which the adapters apply to every posted value;
// Render neutralises them again with textcheck.Neutralize.
package richtext

import (
	"html/template"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"sportello/internal/textcheck"
)

// Limits of a page or news item.
const (
	MaxTitle = 200
	MaxBody  = 20000
)

// Problem codes of Check: the "code" of the API's field errors; the
// message ids are "richtext.err.<code>".
const (
	CodeHTML     = "raw_html"
	CodeHeading1 = "heading_level"
	CodeLink     = "link_address"
	CodeLinkForm = "link_unclosed"
	CodeTooLong  = "too_long"
)

// Problem is what Check found wrong, and on which line (1-based).
type Problem struct {
	Code string
	Line int
}

// Check returns the first problem of src, or nil when it may be stored.
func Check(src string) *Problem {
	if utf8.RuneCountInString(src) > MaxBody {
		return &Problem{Code: CodeTooLong}
	}
	for i, line := range strings.Split(normalize(src), "\n") {
		n := i + 1
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "# ") || t == "#" {
			return &Problem{Code: CodeHeading1, Line: n}
		}
		if hasTag(t) {
			return &Problem{Code: CodeHTML, Line: n}
		}
		if code := checkLinks(t); code != "" {
			return &Problem{Code: code, Line: n}
		}
	}
	return nil
}

// normalize gives src Unix line ends.
func normalize(src string) string {
	return strings.ReplaceAll(strings.ReplaceAll(src, "\r\n", "\n"), "\r", "\n")
}

// hasTag reports a "<" that opens markup: a tag, a closing tag, a comment
// or a processing instruction. "a < b" and "<3" are text.
func hasTag(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '<' || i+1 == len(s) {
			continue
		}
		r, _ := utf8.DecodeRuneInString(s[i+1:])
		if unicode.IsLetter(r) || r == '/' || r == '!' || r == '?' {
			return true
		}
	}
	return false
}

// checkLinks checks every link "[text](address)" of a line.
func checkLinks(s string) string {
	for {
		i := strings.Index(s, "](")
		if i < 0 {
			return ""
		}
		j := strings.IndexByte(s[i+2:], ')')
		if j < 0 || !strings.Contains(s[:i], "[") {
			return CodeLinkForm
		}
		if !SafeURL(s[i+2 : i+2+j]) {
			return CodeLink
		}
		s = s[i+2+j+1:]
	}
}

// SafeURL reports whether a link address may be written into a page:
// https, http, mailto and tel addresses, and paths of this site ("/x", not
// "//host").
func SafeURL(raw string) bool {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.ContainsAny(raw, " \t\"'<>\\`") {
		return false
	}
	if strings.HasPrefix(raw, "/") {
		return !strings.HasPrefix(raw, "//")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http":
		return u.Host != ""
	case "mailto", "tel":
		return u.Opaque != ""
	}
	return false
}

// Render writes src as HTML: headings (h2, h3), paragraphs, lists, bold
// and links; every other character is escaped text. A link Check would
// refuse is written as its text.
func Render(src string) template.HTML {
	var b strings.Builder
	lines := strings.Split(normalize(textcheck.Neutralize(src)), "\n")
	var para []string
	list := "" // "ul", "ol" or ""
	flush := func() {
		if len(para) > 0 {
			b.WriteString("<p>")
			b.WriteString(inline(strings.Join(para, " ")))
			b.WriteString("</p>\n")
			para = nil
		}
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	for _, line := range lines {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case strings.HasPrefix(t, "### "):
			flush()
			b.WriteString("<h3>" + inline(strings.TrimSpace(t[4:])) + "</h3>\n")
		case strings.HasPrefix(t, "## "):
			flush()
			b.WriteString("<h2>" + inline(strings.TrimSpace(t[3:])) + "</h2>\n")
		case listItem(t, "ul") != "":
			openList(&b, &para, &list, "ul", flush)
			b.WriteString("<li>" + inline(listItem(t, "ul")) + "</li>\n")
		case listItem(t, "ol") != "":
			openList(&b, &para, &list, "ol", flush)
			b.WriteString("<li>" + inline(listItem(t, "ol")) + "</li>\n")
		default:
			if list != "" {
				flush()
			}
			para = append(para, t)
		}
	}
	flush()
	return template.HTML(b.String()) //nolint:gosec // built from escaped text and fixed elements only
}

// openList starts a list of kind unless one is open.
func openList(b *strings.Builder, para *[]string, list *string, kind string, flush func()) {
	if *list == kind {
		return
	}
	if len(*para) > 0 || *list != "" {
		flush()
	}
	*list = kind
	b.WriteString("<" + kind + ">\n")
}

// listItem is the text of a list line of kind, or "".
func listItem(t, kind string) string {
	if kind == "ul" {
		if strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") {
			return strings.TrimSpace(t[2:])
		}
		return ""
	}
	i := 0
	for i < len(t) && i < 3 && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i > 0 && strings.HasPrefix(t[i:], ". ") {
		return strings.TrimSpace(t[i+2:])
	}
	return ""
}

// inline writes a line's text: links and bold, the rest escaped.
func inline(s string) string {
	var b strings.Builder
	for s != "" {
		open := strings.IndexByte(s, '[')
		bold := strings.Index(s, "**")
		if open < 0 && bold < 0 {
			b.WriteString(esc(s))
			break
		}
		if bold >= 0 && (open < 0 || bold < open) {
			end := strings.Index(s[bold+2:], "**")
			if end < 0 {
				b.WriteString(esc(s))
				break
			}
			b.WriteString(esc(s[:bold]) + "<strong>" + esc(s[bold+2:bold+2+end]) + "</strong>")
			s = s[bold+2+end+2:]
			continue
		}
		mid := strings.Index(s[open:], "](")
		if mid < 0 {
			b.WriteString(esc(s))
			break
		}
		mid += open
		end := strings.IndexByte(s[mid+2:], ')')
		if end < 0 {
			b.WriteString(esc(s))
			break
		}
		end += mid + 2
		text, addr := s[open+1:mid], strings.TrimSpace(s[mid+2:end])
		b.WriteString(esc(s[:open]))
		if SafeURL(addr) && strings.TrimSpace(text) != "" {
			b.WriteString(`<a href="` + template.HTMLEscapeString(addr) + `">` + esc(text) + "</a>")
		} else {
			b.WriteString(esc(text))
		}
		s = s[end+1:]
	}
	return b.String()
}

func esc(s string) string { return template.HTMLEscapeString(s) }
