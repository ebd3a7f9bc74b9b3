package htmlform

import (
	"encoding/json"
	"html/template"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"sportello/forms"
)

var registry = forms.MustRegistry()

// now is the reference instant for validation in tests.
var now = time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)

func buoniSpesa(t testing.TB) json.RawMessage {
	t.Helper()
	f, ok := registry.Get("buoni-spesa")
	if !ok {
		t.Fatal("form buoni-spesa missing")
	}
	return f.Schema
}

func taxCode(t testing.TB, first15 string) string {
	t.Helper()
	c, err := forms.TaxCodeCheckChar(first15)
	if err != nil {
		t.Fatal(err)
	}
	return first15 + string(c)
}

// validData returns a valid buoni-spesa application.
func validData(t testing.TB) map[string]any {
	return map[string]any{
		"applicant": map[string]any{
			"first_name": "Maria Luisa",
			"last_name":  "D'Angelo",
			"tax_code":   taxCode(t, "DNGMLS80A41L319"),
			"birth_date": "1980-01-01",
			"email":      "maria.dangelo@example.it",
			"phone":      "+39 0331 123456",
		},
		"residence": map[string]any{"municipality": "vedano-olona", "address": "Via Roma 12"},
		"household": map[string]any{"members": 4, "minors": 2},
		"isee_euro": 7450.35,
		"delivery":  "download",
		"declarations": map[string]any{
			"truthful": true,
			"privacy":  true,
		},
	}
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decode decodes JSON data for comparisons (numbers as float64).
func decode(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return m
}

func render(t testing.TB, schema, values json.RawMessage, problems []forms.FieldError, lang string) *html.Node {
	t.Helper()
	h, err := Render(schema, values, problems, lang)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return parseHTML(t, h)
}

// parseHTML parses a fragment inside a page's form, as browsers would.
func parseHTML(t testing.TB, h template.HTML) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader("<!DOCTYPE html><html lang=it><head><title>t</title></head><body><form method=post novalidate>" + string(h) + "<button type=submit>Avanti</button></form></body></html>"))
	if err != nil {
		t.Fatalf("parsing HTML: %v", err)
	}
	return doc
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func attrOr(n *html.Node, key string) string {
	v, _ := attr(n, key)
	return v
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attrOr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// all returns the elements below n (n included) that match.
func all(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func byID(t testing.TB, doc *html.Node, id string) *html.Node {
	t.Helper()
	found := all(doc, func(n *html.Node) bool { v, ok := attr(n, "id"); return ok && v == id })
	if len(found) != 1 {
		t.Fatalf("%d elements with id %q", len(found), id)
	}
	return found[0]
}

func byName(doc *html.Node, name string) []*html.Node {
	return all(doc, func(n *html.Node) bool {
		v, ok := attr(n, "name")
		return ok && v == name && (n.Data == "input" || n.Data == "select" || n.Data == "textarea")
	})
}

// textOf returns the text content of n with white space collapsed.
func textOf(n *html.Node) string {
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(sb.String()), " ")
}

// controls returns the form controls a person fills in: inputs other than
// hidden ones and buttons, selects and textareas.
func controls(doc *html.Node) []*html.Node {
	return all(doc, func(n *html.Node) bool {
		switch n.Data {
		case "select", "textarea":
			return true
		case "input":
			switch attrOr(n, "type") {
			case "hidden", "submit", "button", "reset", "image":
				return false
			}
			return true
		}
		return false
	})
}

// labelFor returns the label element of a control.
func labelFor(t testing.TB, doc *html.Node, control *html.Node) *html.Node {
	t.Helper()
	id := attrOr(control, "id")
	labels := all(doc, func(n *html.Node) bool { return n.Data == "label" && attrOr(n, "for") == id })
	if len(labels) != 1 {
		t.Fatalf("control %q (name %q) has %d labels", id, attrOr(control, "name"), len(labels))
	}
	return labels[0]
}

// ancestor returns the nearest ancestor of n with the given tag.
func ancestor(n *html.Node, name string) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == name {
			return p
		}
	}
	return nil
}

// submit returns what a browser would post for the form in doc when the
// button (may be nil) is clicked.
func submit(doc *html.Node, clicked *html.Node) url.Values {
	form := url.Values{}
	for _, n := range all(doc, func(n *html.Node) bool {
		return n.Data == "input" || n.Data == "select" || n.Data == "textarea" || n.Data == "button"
	}) {
		name, ok := attr(n, "name")
		if !ok || name == "" {
			continue
		}
		if _, disabled := attr(n, "disabled"); disabled {
			continue
		}
		switch n.Data {
		case "textarea":
			form.Add(name, strings.ReplaceAll(textOf0(n), "\n", "\r\n"))
		case "select":
			opts := all(n, tag("option"))
			var chosen *html.Node
			for _, o := range opts {
				if _, sel := attr(o, "selected"); sel {
					chosen = o
				}
			}
			if chosen == nil && len(opts) > 0 {
				chosen = opts[0]
			}
			if chosen != nil {
				form.Add(name, attrOr(chosen, "value"))
			}
		case "button":
			if n == clicked {
				form.Add(name, attrOr(n, "value"))
			}
		default:
			switch attrOr(n, "type") {
			case "checkbox", "radio":
				if _, on := attr(n, "checked"); on {
					v, ok := attr(n, "value")
					if !ok {
						v = "on"
					}
					form.Add(name, v)
				}
			case "submit", "image", "reset", "button":
				if n == clicked {
					form.Add(name, attrOr(n, "value"))
				}
			default:
				form.Add(name, attrOr(n, "value"))
			}
		}
	}
	return form
}

// textOf0 returns the raw text content of n.
func textOf0(n *html.Node) string {
	var sb strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			sb.WriteString(c.Data)
		}
	}
	return sb.String()
}

// leafPointers lists the pointers of the scalar fields of a schema (arrays
// excluded).
func leafPointers(t testing.TB, schema json.RawMessage) map[string]*node {
	t.Helper()
	root, err := parseSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*node{}
	var walk func(n *node, ptr string)
	walk = func(n *node, ptr string) {
		if n.kind() == "object" {
			for _, p := range n.Properties {
				walk(p.Node, ptr+"/"+forms.EscapePointerToken(p.Name))
			}
			return
		}
		out[ptr] = n
	}
	walk(root, "")
	return out
}

// checkAccessible checks the invariants every rendering must keep: unique
// ids, one label per control, aria-describedby pointing at existing
// elements, aria-invalid with is-invalid and an error, no script, no event
// attribute, no inline style.
func checkAccessible(t *testing.T, doc *html.Node) {
	t.Helper()
	ids := map[string]bool{}
	for _, n := range all(doc, func(n *html.Node) bool { _, ok := attr(n, "id"); return ok }) {
		id := attrOr(n, "id")
		if id == "" || strings.ContainsAny(id, " \t\n") {
			t.Errorf("bad id %q", id)
		}
		if ids[id] {
			t.Errorf("duplicate id %q", id)
		}
		ids[id] = true
	}
	for _, n := range all(doc, func(*html.Node) bool { return true }) {
		if n.Data == "script" {
			t.Errorf("script element in the output")
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
				t.Errorf("<%s> has attribute %s", n.Data, a.Key)
			}
		}
		if ref, ok := attr(n, "aria-describedby"); ok {
			for _, id := range strings.Fields(ref) {
				if !ids[id] {
					t.Errorf("<%s name=%q> aria-describedby refers to missing id %q", n.Data, attrOr(n, "name"), id)
				}
			}
		}
	}
	for _, c := range controls(doc) {
		name := attrOr(c, "name")
		if !strings.HasPrefix(name, "/") {
			t.Errorf("control with name %q: want a JSON pointer", name)
		}
		if _, ok := attr(c, "id"); !ok {
			t.Errorf("control %q without id", name)
			continue
		}
		if l := labelFor(t, doc, c); textOf(l) == "" {
			t.Errorf("control %q has an empty label", name)
		}
		invalid := attrOr(c, "aria-invalid") == "true"
		if invalid != hasClass(c, "is-invalid") {
			t.Errorf("control %q: aria-invalid %v but is-invalid %v", name, invalid, hasClass(c, "is-invalid"))
		}
		if invalid && !strings.Contains(attrOr(c, "aria-describedby"), "-error") {
			t.Errorf("invalid control %q does not reference its error", name)
		}
		if attrOr(c, "type") == "radio" {
			fs := ancestor(c, "fieldset")
			if fs == nil || len(all(fs, tag("legend"))) == 0 || textOf(all(fs, tag("legend"))[0]) == "" {
				t.Errorf("radio %q is not in a fieldset with a legend", name)
			}
		}
	}
	for _, fs := range all(doc, tag("fieldset")) {
		var first *html.Node
		for c := fs.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				first = c
				break
			}
		}
		if first == nil || first.Data != "legend" || textOf(first) == "" {
			t.Errorf("fieldset %q does not start with a legend", attrOr(fs, "id"))
		}
	}
}
