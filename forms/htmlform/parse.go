package htmlform

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"sportello/forms"
	"sportello/internal/i18n"
)

// Parse turns posted form values into the JSON data the schema describes.
// Field names are JSON pointers ("/household/members").
//
//   - integer and number fields are read from text, with the Italian decimal
//     comma ("7200,50" gives 7200.5) or a point; thousands separators only in
//     unambiguous forms ("1.234,50"); "7.200" is refused as ambiguous;
//   - checkboxes (booleans, including "const": true declarations) are true
//     when posted with "true", "on", "1" or "yes" and false when absent;
//   - strings are trimmed (and CRLF becomes LF); an empty optional string is
//     omitted; an empty required string is kept as "" when the schema sets a
//     minLength (the validator reports "min_length" at its pointer) and
//     omitted otherwise (the validator reports "required" at its pointer,
//     rather than a "format" or "enum" problem for "");
//   - enum values are matched against the schema's members and keep their
//     JSON type;
//   - objects are always present, except optional ones where nothing was
//     filled in; arrays get as many items as the post shows (the hidden
//     "_len<pointer>" control or the highest item index posted, at most 200);
//     empty scalar items stay, as "" (strings) or null (numbers).
//
// Values that cannot be converted (e.g. "abc" for an integer) are returned as
// problems with code "type" and messages in both languages, and the field is
// omitted from the data. Unknown posted names are ignored, and so are names
// starting with "_" (buttons, tokens), apart from the "_len" item counts.
func Parse(schema json.RawMessage, form url.Values) (json.RawMessage, []forms.FieldError) {
	root, err := parseSchema(schema)
	if err != nil {
		return json.RawMessage(`{}`), []forms.FieldError{{Pointer: "", Code: "invalid",
			Text: i18n.M("forms.err.unreadable")}}
	}
	p := &parser{form: form}
	v, ok := p.value(root, "", true)
	if !ok {
		v = map[string]any{}
	}
	out, err := json.Marshal(v)
	if err != nil { // cannot happen: only maps, slices, strings, bools and valid numbers
		return json.RawMessage(`{}`), append(p.problems, forms.FieldError{Pointer: "", Code: "invalid",
			Text: i18n.M("forms.err.unreadable")})
	}
	return out, p.problems
}

type parser struct {
	form     url.Values
	problems []forms.FieldError
}

// posted returns the first value posted under name and whether there was one.
func (p *parser) posted(name string) (string, bool) {
	vs, ok := p.form[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// value reads the value of schema n at pointer ptr; ok is false when the value
// is to be omitted.
func (p *parser) value(n *node, ptr string, required bool) (any, bool) {
	switch kind := n.kind(); {
	case kind == "object" && len(n.Enum) == 0:
		obj := map[string]any{}
		for _, prop := range n.Properties {
			if prop.Node.skip() {
				continue
			}
			if v, ok := p.value(prop.Node, ptr+"/"+forms.EscapePointerToken(prop.Name), n.isRequired(prop.Name)); ok {
				obj[prop.Name] = v
			}
		}
		if !required && !p.filledUnder(ptr) {
			return nil, false
		}
		return obj, true
	case kind == "array" && len(n.Enum) == 0:
		count, seen := p.itemCount(ptr)
		if !seen && !required {
			return nil, false
		}
		items := make([]any, 0, count)
		itemNode := n.Items
		if itemNode.skip() {
			itemNode = &node{Type: typeList{"string"}}
		}
		for i := 0; i < count; i++ {
			itemPtr := ptr + "/" + strconv.Itoa(i)
			v, ok := p.value(itemNode, itemPtr, true)
			if !ok {
				v = blank(itemNode)
			}
			items = append(items, v)
		}
		if len(items) == 0 && !required {
			return nil, false
		}
		return items, true
	case kind == "boolean" && len(n.Enum) == 0:
		s, _ := p.posted(ptr)
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "on", "1", "yes", "si", "sì":
			return true, true
		}
		return false, true
	}

	s, _ := p.posted(ptr)
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		if required && n.kind() == "string" && len(n.Enum) == 0 && n.MinLength != nil && *n.MinLength > 0 {
			return "", true
		}
		return nil, false
	}
	for _, e := range n.Enum {
		if enumString(e) == s {
			v, err := decodeData(e)
			if err == nil {
				return v, true
			}
		}
	}
	switch kind := n.kind(); kind {
	case "integer", "number":
		num, problem := parseNumber(s, kind == "integer")
		if problem != numberOK {
			p.problems = append(p.problems, typeProblem(ptr, kind, problem))
			return nil, false
		}
		return num, true
	case "boolean":
		switch strings.ToLower(s) {
		case "true", "on", "1", "yes", "si", "sì":
			return true, true
		case "false", "off", "0", "no":
			return false, true
		}
		p.problems = append(p.problems, forms.FieldError{Pointer: ptr, Code: "type",
			Text: i18n.M("forms.err.not_boolean")})
		return nil, false
	}
	return s, true
}

func typeProblem(ptr, kind string, problem numberProblem) forms.FieldError {
	e := forms.FieldError{Pointer: ptr, Code: "type", Text: i18n.M("forms.err.not_number")}
	switch {
	case problem == numberAmbiguous:
		e.Text = i18n.M("forms.err.ambiguous_number")
	case kind == "integer":
		e.Text = i18n.M("forms.err.not_integer")
	}
	return e
}

// filledUnder reports whether anything but empty text was posted for a field
// below ptr.
func (p *parser) filledUnder(ptr string) bool {
	prefix := ptr + "/"
	for name, vs := range p.form {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, v := range vs {
			if strings.TrimSpace(v) != "" {
				return true
			}
		}
	}
	return false
}

// itemCount returns how many items of the array at ptr the post holds: the
// "_len" control's count or one more than the highest item index posted,
// whichever is larger, at most maxItemsCap. seen is false when the post shows
// nothing of the array.
func (p *parser) itemCount(ptr string) (count int, seen bool) {
	if s, ok := p.posted("_len" + ptr); ok {
		if k, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && k >= 0 {
			count, seen = min(k, maxItemsCap), true
		}
	}
	prefix := ptr + "/"
	for name := range p.form {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		tok := name[len(prefix):]
		if i := strings.IndexByte(tok, '/'); i >= 0 {
			tok = tok[:i]
		}
		if i, ok := index(tok); ok && i < maxItemsCap {
			count, seen = max(count, i+1), true
		}
	}
	return count, seen
}

// blank is the value of a new, empty array item.
func blank(n *node) any {
	switch n.kind() {
	case "object":
		return map[string]any{}
	case "array":
		return []any{}
	case "boolean":
		return false
	case "string":
		if len(n.Enum) == 0 {
			return ""
		}
	}
	return nil
}
