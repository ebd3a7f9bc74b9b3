// Package htmlform renders the JSON Schema of an application form (see package
// forms) as accessible HTML with Bootstrap Italia classes, and turns the
// posted form back into the JSON data the schema describes. Server-side
// validation (forms.Registry.Validate) stays the authority: the HTML only
// carries hints (required, maxlength, input types) and shows the problems the
// validator found next to their fields.
//
// # Markup
//
// Every control is named by its JSON pointer ("/applicant/first_name") and
// has the id FieldID(pointer) ("f-applicant-first_name"); hints and errors get
// the ids "<id>-hint" and "<id>-error" (made unique if a property name would
// clash) and are referenced by aria-describedby. Objects are fieldsets with a
// legend (the root object renders its properties directly); enums with up to
// four options are radios in a fieldset (the first radio has the field's id),
// longer ones a select; booleans a checkbox; arrays a fieldset listing their
// items with submit buttons named "_add" and "_remove" (value: the array's and
// the item's pointer) and a hidden "_len<pointer>" control carrying the item
// count. Labels are always visible above their control: the fragment does not
// use the "form-group" class, whose labels Bootstrap Italia's JavaScript turns
// into floating labels. No script, no inline style, no event attribute.
//
// When the fragment contains array buttons it starts with a hidden submit
// button named "_submit", so that pressing Enter in a text field submits the
// form rather than "clicking" the first "Rimuovi" button.
//
// The fragment belongs inside a page's <form method="post">, which should
// carry novalidate so that the server's messages, not the browser's, are the
// ones people see.
package htmlform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"sportello/forms"
)

// Render renders every field of the schema's root object (recursively), with
// current values (may be nil) and the problems (forms.FieldError, pointers
// relative to the data root like "/applicant/tax_code") shown next to their
// fields. lang is "it" or "en" (anything but "en" means Italian): labels from
// "title" (it) / "x-title-en" (en), hints from "description" /
// "x-description-en", enum labels from "x-enum-titles", error text from
// the problem's message (In). A problem whose pointer names no control is shown at
// the top of the nearest enclosing fieldset (the top of the fragment for the
// root).
func Render(schema json.RawMessage, values json.RawMessage, problems []forms.FieldError, lang string) (template.HTML, error) {
	if lang != "en" {
		lang = "it"
	}
	root, err := parseSchema(schema)
	if err != nil {
		return "", err
	}
	data, err := decodeData(values)
	if err != nil {
		return "", fmt.Errorf("htmlform: invalid values: %w", err)
	}
	b := &builder{lang: lang, text: texts[lang], data: data, byPtr: make(map[string]*view), used: make(map[string]bool)}
	top := b.build(root, "", false, false, "")
	top.Kind = kindRoot
	b.assignProblems(problems)
	b.assignAuxIDs()
	top.DefaultButton = b.hasButtons

	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "root", top); err != nil {
		return "", fmt.Errorf("htmlform: %w", err)
	}
	return template.HTML(buf.String()), nil
}

// FieldID returns the id of the control (or fieldset) rendered for a JSON
// pointer, for links such as those of an error summary: "f" followed by each
// token with "-" before it; characters other than ASCII letters, digits and
// "_" are written as "." and two hex digits per byte, so different pointers
// never share an id.
func FieldID(pointer string) string {
	var sb strings.Builder
	sb.WriteString("f")
	if pointer == "" {
		return sb.String()
	}
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		sb.WriteByte('-')
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
				sb.WriteByte(c)
			} else {
				fmt.Fprintf(&sb, ".%02x", c)
			}
		}
	}
	return sb.String()
}

// View kinds.
const (
	kindRoot     = "root"
	kindObject   = "object"
	kindArray    = "array"
	kindInput    = "input"
	kindTextarea = "textarea"
	kindSelect   = "select"
	kindRadios   = "radios"
	kindCheckbox = "checkbox"
)

// view is one rendered field or fieldset.
type view struct {
	Kind     string
	Ptr      string
	ID       string
	HintID   string
	ErrorID  string
	Label    string
	Required bool
	Hint     string
	Errors   []errorText
	T        text // the fixed strings of the language

	// Inputs.
	Value        string
	Checked      bool
	InputType    string
	InputMode    string
	Autocomplete string
	MinLength    string
	MaxLength    string
	Placeholder  bool // select: an empty first option
	Options      []*option

	// Objects and arrays.
	Children []*view
	Count    int     // arrays: number of items
	Add      *button // arrays: the add button, if more items are allowed
	Remove   *button // array items: the remove button, if fewer items are allowed
	Empty    string  // arrays: the text shown without items

	DefaultButton bool // root: start with a hidden default submit button
}

type option struct {
	ID      string
	Value   string
	Label   string
	Checked bool
}

// errorText is one problem shown with a field. Anchor, set for problems whose
// pointer names no control, is the id FieldID gives that pointer, so that an
// error summary's links always land somewhere.
type errorText struct {
	Text   string
	Anchor string
}

type button struct {
	Value   string
	Text    string
	Context string // visually hidden, completes the accessible name
}

// DescribedBy is the value of aria-describedby.
func (v *view) DescribedBy() string {
	var ids []string
	if v.Hint != "" {
		ids = append(ids, v.HintID)
	}
	if len(v.Errors) > 0 {
		ids = append(ids, v.ErrorID)
	}
	return strings.Join(ids, " ")
}

type builder struct {
	lang       string
	text       text
	data       any
	byPtr      map[string]*view
	order      []*view
	used       map[string]bool // ids handed out
	hasButtons bool
}

// build makes the view of schema n at pointer ptr. inArray tells whether the
// field describes a person other than the user (an array item), where
// autocomplete tokens would be wrong; itemLabel replaces the title of array
// items.
func (b *builder) build(n *node, ptr string, required, inArray bool, itemLabel string) *view {
	v := &view{Ptr: ptr, ID: FieldID(ptr), Required: required, Label: n.label(b.lang), Hint: n.hint(b.lang), T: b.text}
	if itemLabel != "" {
		v.Label = itemLabel
	}
	if v.Label == "" {
		v.Label = lastToken(ptr)
	}
	if ptr != "" { // the root renders no element of its own
		b.used[v.ID] = true
	}
	b.byPtr[ptr] = v
	b.order = append(b.order, v)
	value, _ := lookup(b.data, forms.SplitPointer(ptr))

	switch kind := n.kind(); {
	case kind == "object" && len(n.Enum) == 0:
		// A group of fields is not itself filled in: its fields carry the
		// required marks.
		v.Kind, v.Required = kindObject, false
		for _, p := range n.Properties {
			if p.Node.skip() {
				continue
			}
			v.Children = append(v.Children, b.build(p.Node, ptr+"/"+forms.EscapePointerToken(p.Name), n.isRequired(p.Name), inArray, ""))
		}
	case kind == "array" && len(n.Enum) == 0:
		b.buildArray(v, n, value)
	case len(n.Enum) > 0:
		current, has := "", false
		if value != nil {
			current, has = scalarString(value), true
		}
		for i, e := range n.Enum {
			val := enumString(e)
			label := val
			if t := n.EnumTitles[val]; t != nil {
				label = pick(b.lang, t["it"], t["en"])
			}
			o := &option{Value: val, Label: label, Checked: has && current == val}
			if i == 0 {
				o.ID = v.ID
			}
			v.Options = append(v.Options, o)
		}
		if len(n.Enum) <= 4 {
			v.Kind = kindRadios
		} else {
			v.Kind = kindSelect
			v.Placeholder = !required || !has
		}
	case kind == "boolean":
		v.Kind = kindCheckbox
		v.Checked = value == true
	default:
		b.buildInput(v, n, kind, value, inArray)
	}
	return v
}

func (b *builder) buildArray(v *view, n *node, value any) {
	v.Kind = kindArray
	items, _ := value.([]any)
	count := max(len(items), n.minItems())
	v.Count = count
	itemNode := n.Items
	if itemNode.skip() {
		itemNode = &node{Type: typeList{"string"}}
	}
	name := itemNode.label(b.lang)
	if name == "" {
		name = b.text.Item
	}
	for i := 0; i < count; i++ {
		label := name + " " + strconv.Itoa(i+1)
		item := b.build(itemNode, v.Ptr+"/"+strconv.Itoa(i), false, true, label)
		if count > n.minItems() {
			item.Remove = &button{Value: item.Ptr, Text: b.text.Remove, Context: label}
			b.hasButtons = true
		}
		v.Children = append(v.Children, item)
	}
	if max := n.maxItems(); max < 0 || count < max {
		v.Add = &button{Value: v.Ptr, Text: b.text.Add, Context: v.Label}
		b.hasButtons = true
	}
	if count == 0 {
		v.Empty = b.text.NoItems
	}
	var limits string
	switch minI, maxI := n.minItems(), n.maxItems(); {
	case minI > 0 && maxI >= 0:
		limits = fmt.Sprintf(b.text.ItemsBetween, minI, maxI)
	case minI > 0:
		limits = fmt.Sprintf(b.text.ItemsAtLeast, minI)
	case maxI >= 0:
		limits = fmt.Sprintf(b.text.ItemsAtMost, maxI)
	}
	v.Hint = joinSentences(v.Hint, limits)
}

func (b *builder) buildInput(v *view, n *node, kind string, value any, inArray bool) {
	v.Kind, v.InputType = kindInput, "text"
	name := strings.ToLower(lastToken(v.Ptr))
	switch kind {
	case "integer", "number":
		v.InputMode = "decimal"
		if kind == "integer" {
			v.InputMode = "numeric"
		}
		v.Hint = joinSentences(v.Hint, b.rangeHint(n))
		if num, ok := value.(json.Number); ok {
			v.Value = formatNumber(num, b.lang)
		} else if value != nil {
			v.Value = scalarString(value)
		}
		return
	}
	if value != nil {
		v.Value = scalarString(value)
	}
	if n.MinLength != nil && *n.MinLength > 0 {
		v.MinLength = strconv.Itoa(int(*n.MinLength))
	}
	if n.MaxLength != nil && *n.MaxLength >= 0 {
		v.MaxLength = strconv.Itoa(int(*n.MaxLength))
	}
	switch {
	case n.Format == "date":
		v.InputType = "date"
	case n.Format == "email":
		v.InputType = "email"
	case telNames[name]:
		v.InputType = "tel"
	case n.MaxLength != nil && *n.MaxLength > 200:
		v.Kind, v.InputType = kindTextarea, ""
	}
	if !inArray {
		v.Autocomplete = autocompleteNames[name]
		if v.InputType == "tel" {
			v.Autocomplete = "tel"
		}
	}
}

// telNames are property names of telephone numbers.
var telNames = map[string]bool{
	"phone": true, "telephone": true, "tel": true, "mobile": true, "mobile_phone": true,
	"phone_number": true, "telefono": true, "cellulare": true,
}

// autocompleteNames maps property names to autocomplete tokens (WCAG 1.3.5).
var autocompleteNames = map[string]string{
	"first_name": "given-name", "given_name": "given-name", "firstname": "given-name", "nome": "given-name",
	"last_name": "family-name", "family_name": "family-name", "lastname": "family-name", "surname": "family-name", "cognome": "family-name",
	"email": "email", "e_mail": "email",
	"birth_date": "bday", "date_of_birth": "bday", "birthdate": "bday", "bday": "bday", "data_nascita": "bday",
	"address": "street-address", "street_address": "street-address", "indirizzo": "street-address",
	"postal_code": "postal-code", "postcode": "postal-code", "zip": "postal-code", "cap": "postal-code",
}

// rangeHint describes minimum and maximum of a number.
func (b *builder) rangeHint(n *node) string {
	lo, hi := numberLiteral(n.Minimum), numberLiteral(n.Maximum)
	xlo, xhi := numberLiteral(n.ExclusiveMinimum), numberLiteral(n.ExclusiveMaximum)
	f := func(s string) string { return formatNumber(json.Number(s), b.lang) }
	var parts []string
	switch {
	case lo != "" && hi != "":
		parts = append(parts, fmt.Sprintf(b.text.Between, f(lo), f(hi)))
	case lo != "":
		parts = append(parts, fmt.Sprintf(b.text.AtLeast, f(lo)))
	case hi != "":
		parts = append(parts, fmt.Sprintf(b.text.AtMost, f(hi)))
	}
	if xlo != "" {
		parts = append(parts, fmt.Sprintf(b.text.Greater, f(xlo)))
	}
	if xhi != "" {
		parts = append(parts, fmt.Sprintf(b.text.Less, f(xhi)))
	}
	return strings.Join(parts, " ")
}

// numberLiteral returns raw if it is a JSON number, else "".
func numberLiteral(raw json.RawMessage) string {
	var n json.Number
	if len(raw) == 0 || json.Unmarshal(raw, &n) != nil {
		return ""
	}
	return string(n)
}

func joinSentences(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

func lastToken(ptr string) string {
	tokens := forms.SplitPointer(ptr)
	if len(tokens) == 0 {
		return ""
	}
	return tokens[len(tokens)-1]
}

// scalarString writes a JSON value for an input: strings as they are, other
// values as JSON.
func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// assignProblems puts every problem on the view of its pointer, or on the
// nearest enclosing fieldset (at worst the root).
func (b *builder) assignProblems(problems []forms.FieldError) {
	for _, p := range problems {
		msg := p.In(b.lang)
		if msg == "" {
			msg = p.Code
		}
		ptr := p.Pointer
		var v *view
		for {
			if v = b.byPtr[ptr]; v != nil || ptr == "" {
				break
			}
			ptr = ptr[:max(0, strings.LastIndexByte(ptr, '/'))]
		}
		if v == nil {
			v = b.byPtr[""]
		}
		e := errorText{Text: msg}
		if v.Ptr != p.Pointer || p.Pointer == "" {
			if id := FieldID(p.Pointer); !b.used[id] {
				b.used[id] = true
				e.Anchor = id
			}
		}
		if !hasError(v.Errors, msg) || e.Anchor != "" {
			v.Errors = append(v.Errors, e)
		}
	}
}

func hasError(list []errorText, s string) bool {
	for _, x := range list {
		if x.Text == s {
			return true
		}
	}
	return false
}

// assignAuxIDs gives hints, errors and options ids that clash with no control
// (control ids are all reserved by then) and with one another.
func (b *builder) assignAuxIDs() {
	unique := func(id string) string {
		out := id
		for i := 2; b.used[out]; i++ {
			out = id + "-" + strconv.Itoa(i)
		}
		b.used[out] = true
		return out
	}
	for _, v := range b.order {
		v.HintID = unique(v.ID + "-hint")
		v.ErrorID = unique(v.ID + "-error")
		for i, o := range v.Options {
			if i > 0 {
				o.ID = unique(v.ID + "-" + strconv.Itoa(i+1))
			}
		}
	}
}
