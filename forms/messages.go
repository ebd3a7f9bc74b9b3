package forms

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"sportello/internal/i18n"
)

// Problem codes.
const (
	codeJSON          = "json"
	codeNumber        = "number"
	codeRequired      = "required"
	codeType          = "type"
	codeFormat        = "format"
	codeTaxCode       = "tax_code"
	codeEnum          = "enum"
	codeConst         = "const"
	codeMinimum       = "minimum"
	codeMaximum       = "maximum"
	codeMultipleOf    = "multiple_of"
	codeMinLength     = "min_length"
	codeMaxLength     = "max_length"
	codePattern       = "pattern"
	codeAdditional    = "additional"
	codeNotAllowed    = "not_allowed"
	codeMinItems      = "min_items"
	codeMaxItems      = "max_items"
	codeUniqueItems   = "unique_items"
	codeMinProperties = "min_properties"
	codeMaxProperties = "max_properties"
	codeCrossField    = "cross_field"
	codeInvalid       = "invalid"
)

// keywordCodes maps JSON Schema keywords to problem codes; keywords not listed
// give codeInvalid.
var keywordCodes = map[string]string{
	"type":             codeType,
	"format":           codeFormat,
	"enum":             codeEnum,
	"const":            codeConst,
	"minimum":          codeMinimum,
	"exclusiveMinimum": codeMinimum,
	"maximum":          codeMaximum,
	"exclusiveMaximum": codeMaximum,
	"multipleOf":       codeMultipleOf,
	"minLength":        codeMinLength,
	"maxLength":        codeMaxLength,
	"pattern":          codePattern,
	"minItems":         codeMinItems,
	"maxItems":         codeMaxItems,
	"uniqueItems":      codeUniqueItems,
	"minProperties":    codeMinProperties,
	"maxProperties":    codeMaxProperties,
	"contains":         "contains",
	"minContains":      "contains",
	"maxContains":      "contains",
	"not":              "not",
	"oneOf":            "one_of",
	"anyOf":            "any_of",
}

// mapValidationError flattens a jsonschema validation error tree into one
// FieldError per problem. schemaDoc is the decoded schema document (to read
// limits, required lists and custom messages), instance the decoded data.
func mapValidationError(ve *jsonschema.ValidationError, schemaDoc, instance any) []FieldError {
	var out []FieldError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, leafProblems(e, schemaDoc, instance)...)
			return
		}
		// The failed alternatives of anyOf/oneOf are not each a problem to
		// fix: report the choice itself.
		if kw := lastToken(e.KeywordLocation); kw == "anyOf" || kw == "oneOf" {
			node, _ := schemaNode(e, schemaDoc, 1)
			out = append(out, newProblem(e.InstanceLocation, keywordCodes[kw], kw, node))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return tidy(out, instance)
}

// tidy drops duplicates, and pattern problems on empty strings that already
// have a min_length problem (one message is enough for an empty field).
func tidy(in []FieldError, instance any) []FieldError {
	type key struct{ pointer, code, en string }
	seen := make(map[key]bool, len(in))
	minLen := make(map[string]bool)
	for _, p := range in {
		if p.Code == codeMinLength {
			minLen[p.Pointer] = true
		}
	}
	out := in[:0]
	for _, p := range in {
		k := key{p.Pointer, p.Code, p.In(i18n.EN)}
		if seen[k] {
			continue
		}
		seen[k] = true
		if p.Code == codePattern && minLen[p.Pointer] {
			if v, ok := lookup(instance, SplitPointer(p.Pointer)); ok && v == "" {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

func lastToken(ptr string) string {
	return ptr[strings.LastIndexByte(ptr, '/')+1:]
}

// schemaNode returns the schema object that holds the failing keyword of e,
// where the keyword takes the last depth tokens of its location (1 for most
// keywords, 3 for "dependentRequired/<name>/<index>"). It also returns all the
// tokens of the keyword location.
func schemaNode(e *jsonschema.ValidationError, schemaDoc any, depth int) (map[string]any, []string) {
	loc := e.AbsoluteKeywordLocation
	frag := ""
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		frag = loc[i+1:]
	}
	tokens := SplitPointer(frag)
	if len(tokens) < depth {
		return nil, tokens
	}
	v, _ := lookup(schemaDoc, tokens[:len(tokens)-depth])
	node, _ := v.(map[string]any)
	return node, tokens
}

func leafProblems(e *jsonschema.ValidationError, schemaDoc, instance any) []FieldError {
	ptr := e.InstanceLocation
	node, tokens := schemaNode(e, schemaDoc, 1)
	// A false schema: the location is the schema itself, not a keyword. (A
	// boolean "additionalProperties": false is a keyword failing on the
	// parent object instead; jsonschema/v5 words the two differently.)
	if v, ok := lookup(schemaDoc, tokens); ok && v == false && e.Message == "not allowed" {
		code := codeNotAllowed
		if n := len(tokens); n >= 1 && (tokens[n-1] == "additionalProperties" || tokens[n-1] == "unevaluatedProperties") {
			code = codeAdditional
		}
		return []FieldError{newProblem(ptr, code, "", nil)}
	}
	if n := len(tokens); n >= 3 && (tokens[n-3] == "dependentRequired" || tokens[n-3] == "dependencies") {
		node, _ = schemaNode(e, schemaDoc, 3)
		deps, _ := node[tokens[n-3]].(map[string]any)
		list, _ := deps[tokens[n-2]].([]any)
		if i, err := strconv.Atoi(tokens[n-1]); err == nil && i >= 0 && i < len(list) {
			if name, ok := list[i].(string); ok {
				return []FieldError{newProblem(ptr+"/"+EscapePointerToken(name), codeRequired, "required", propertyNode(node, name))}
			}
		}
		return []FieldError{newProblem(ptr, codeRequired, "required", nil)}
	}
	keyword := lastToken(e.KeywordLocation)
	if len(tokens) > 0 {
		keyword = tokens[len(tokens)-1]
	}
	inst, _ := lookup(instance, SplitPointer(ptr))
	obj, _ := inst.(map[string]any)

	switch keyword {
	case "required":
		var out []FieldError
		req, _ := node["required"].([]any)
		for _, r := range req {
			name, _ := r.(string)
			if _, present := obj[name]; obj != nil && !present {
				out = append(out, newProblem(ptr+"/"+EscapePointerToken(name), codeRequired, keyword, propertyNode(node, name)))
			}
		}
		if len(out) == 0 {
			out = append(out, newProblem(ptr, codeRequired, keyword, nil))
		}
		return out
	case "additionalProperties", "unevaluatedProperties":
		var out []FieldError
		for _, name := range extraProperties(node, obj) {
			out = append(out, newProblem(ptr+"/"+EscapePointerToken(name), codeAdditional, keyword, nil))
		}
		if len(out) == 0 {
			out = append(out, newProblem(ptr, codeAdditional, keyword, nil))
		}
		return out
	case "format":
		if f, _ := node["format"].(string); f == "codice-fiscale" {
			return []FieldError{newProblem(ptr, codeTaxCode, keyword, node)}
		}
	}
	code, ok := keywordCodes[keyword]
	if !ok {
		code = codeInvalid
	}
	return []FieldError{newProblem(ptr, code, keyword, node)}
}

func propertyNode(node map[string]any, name string) map[string]any {
	props, _ := node["properties"].(map[string]any)
	p, _ := props[name].(map[string]any)
	return p
}

// extraProperties lists, sorted, the members of obj that node neither declares
// in "properties" nor matches with "patternProperties".
func extraProperties(node, obj map[string]any) []string {
	props, _ := node["properties"].(map[string]any)
	patterns, _ := node["patternProperties"].(map[string]any)
	var res []*regexp.Regexp
	for p := range patterns {
		if re, err := regexp.Compile(p); err == nil {
			res = append(res, re)
		}
	}
	var extra []string
next:
	for name := range obj {
		if _, ok := props[name]; ok {
			continue
		}
		for _, re := range res {
			if re.MatchString(name) {
				continue next
			}
		}
		extra = append(extra, name)
	}
	sort.Strings(extra)
	return extra
}

// newProblem builds a FieldError; keyword is the failing JSON Schema keyword
// and node the schema object holding it (both may be empty), used for limits
// and for "x-errors" overrides (the schema's own texts, in both languages).
func newProblem(ptr, code, keyword string, node map[string]any) FieldError {
	text := describe(code, keyword, node)
	if custom, ok := customMessage(node, code); ok {
		text = i18n.Verbatim(custom[1], custom[0])
	}
	return FieldError{Pointer: ptr, Code: code, Text: text}
}

// customMessage reads node["x-errors"][code] = {"en": ..., "it": ...}.
func customMessage(node map[string]any, code string) ([2]string, bool) {
	errs, _ := node["x-errors"].(map[string]any)
	m, _ := errs[code].(map[string]any)
	en, _ := m["en"].(string)
	it, _ := m["it"].(string)
	if en == "" || it == "" {
		return [2]string{}, false
	}
	return [2]string{en, it}, true
}

// describe is the message of a problem (ids "forms.err.*").
func describe(code, keyword string, node map[string]any) i18n.Message {
	switch code {
	case codeJSON:
		return i18n.M("forms.err.json")
	case codeNumber:
		return i18n.M("forms.err.number_range")
	case codeRequired:
		return i18n.M("forms.err.required")
	case codeType:
		return typeMessage(node["type"])
	case codeTaxCode:
		return i18n.M("forms.err.tax_code")
	case codeFormat:
		return formatMessage(node["format"])
	case codeEnum:
		vals, _ := node["enum"].([]any)
		list := make([]string, 0, len(vals))
		for _, v := range vals {
			list = append(list, display(v))
		}
		return i18n.M("forms.err.enum", strings.Join(list, ", "))
	case codeConst:
		if node["const"] == true {
			return i18n.M("forms.err.accept")
		}
		return i18n.M("forms.err.const", display(node["const"]))
	case codeMinimum:
		if keyword == "exclusiveMinimum" {
			return i18n.M("forms.err.greater_than", numberForms(node[keyword]))
		}
		return i18n.M("forms.err.minimum", numberForms(node[keyword]))
	case codeMaximum:
		if keyword == "exclusiveMaximum" {
			return i18n.M("forms.err.less_than", numberForms(node[keyword]))
		}
		return i18n.M("forms.err.maximum", numberForms(node[keyword]))
	case codeMultipleOf:
		return multipleOfMessage(node["multipleOf"])
	case codeMinLength:
		n := intValue(node["minLength"])
		if n == 1 {
			return i18n.M("forms.err.empty")
		}
		return i18n.M("forms.err.min_length", n)
	case codeMaxLength:
		return i18n.M("forms.err.max_length", intValue(node["maxLength"]))
	case codePattern:
		return i18n.M("forms.err.pattern")
	case codeAdditional, codeNotAllowed:
		return i18n.M("forms.err.not_allowed")
	case codeMinItems:
		return i18n.M("forms.err.min_items", intValue(node["minItems"]))
	case codeMaxItems:
		return i18n.M("forms.err.max_items", intValue(node["maxItems"]))
	case codeUniqueItems:
		return i18n.M("forms.err.unique_items")
	case codeMinProperties:
		return i18n.M("forms.err.min_properties", intValue(node["minProperties"]))
	case codeMaxProperties:
		return i18n.M("forms.err.max_properties", intValue(node["maxProperties"]))
	case "one_of", "any_of":
		return i18n.M("forms.err.no_choice")
	}
	return i18n.M("forms.err.invalid")
}

// typeNames are JSON types named in lang ("forms.type.*"), joined by "or".
type typeNames []string

func (t typeNames) In(lang string) string {
	names := make([]string, len(t))
	for i, n := range t {
		names[i] = i18n.T(lang, "forms.type."+n)
	}
	return strings.Join(names, " "+i18n.T(lang, "forms.type.or")+" ")
}

func typeMessage(t any) i18n.Message {
	types := schemaTypes(t)
	var known typeNames
	for _, t := range types {
		switch t {
		case "string", "number", "integer", "boolean", "object", "array", "null":
			known = append(known, t)
		}
	}
	if len(known) == 0 {
		return i18n.M("forms.err.wrong_type")
	}
	return i18n.M("forms.err.type", known)
}

func formatMessage(f any) i18n.Message {
	switch f {
	case "date", "date-time", "time", "email", "uri", "uuid":
		return i18n.M("forms.err.format_" + strings.ReplaceAll(f.(string), "-", "_"))
	}
	return i18n.M("forms.err.pattern")
}

func multipleOfMessage(m any) i18n.Message {
	r := ratValue(m)
	if r != nil && r.Sign() > 0 {
		if r.Cmp(big.NewRat(1, 1)) == 0 {
			return i18n.M("forms.err.not_integer")
		}
		// 0.1, 0.01, ...: a limit on decimal places.
		pow := big.NewRat(1, 1)
		for k := 1; k <= 9; k++ {
			pow.Quo(pow, big.NewRat(10, 1))
			if r.Cmp(pow) == 0 {
				if k == 1 {
					return i18n.M("forms.err.one_decimal")
				}
				return i18n.M("forms.err.decimals", k)
			}
		}
	}
	return i18n.M("forms.err.multiple_of", numberForms(m))
}

func ratValue(v any) *big.Rat {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return nil
	}
	return r
}

func intValue(v any) int {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return int(i)
		}
	}
	return 0
}

// numberForms renders a schema number in English and Italian notation
// (1000000 and 0.01 / 0,01).
func numberForms(v any) i18n.Texts {
	r := ratValue(v)
	if r == nil {
		s := display(v)
		return i18n.Texts{IT: s, EN: s}
	}
	var en string
	if r.IsInt() {
		en = r.Num().String()
	} else {
		en = strings.TrimRight(r.FloatString(12), "0")
	}
	return i18n.Texts{IT: strings.Replace(en, ".", ",", 1), EN: en}
}

// display renders a JSON value for a message: strings bare, others as JSON.
func display(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
