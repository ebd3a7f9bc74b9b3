package forms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"sportello/internal/i18n"
)

// Form versions published at run time (issue 15): a supervisor uploads a
// new version of a form, checked here before it is stored (CheckSchema),
// and every published version is compiled into the registry (Register) so
// that cases filed with it are validated against it for their whole life.

// MaxSchemaBytes bounds an uploaded schema document.
const MaxSchemaBytes = 256 << 10

// maxSchemaDepth and maxSchemaProperties bound how deep and how large a form is.
const (
	maxSchemaDepth      = 8
	maxSchemaProperties = 200
)

// The ranges of version numbers (migration 035): the platform's versions,
// embedded in the binary, are 1..MaxPlatformVersion (an embedded file
// numbered otherwise is refused); a district's are numbered from
// FirstDistrictVersion up, so that a release's version and a district's
// never have the same number and (form, version) names one document.
// A district's versions stored before the ranges may be numbered lower.
const (
	MaxPlatformVersion   = 999
	FirstDistrictVersion = 1001
)

// ErrVersionConflict is returned (wrapped) by Register for a version that
// the registry already holds with another document.
var ErrVersionConflict = errors.New("form version already registered with another schema")

// RequiredFields are the fields every food-voucher form must ask, as JSON
// pointers into the data with the type the case workflow reads: who applies,
// where (which decides the call), the ISEE and the household (the award
// rule and the pre-check read them).
var RequiredFields = []struct{ Pointer, Type, Format string }{
	{"/applicant/tax_code", "string", "codice-fiscale"},
	{"/residence/municipality", "string", ""},
	{"/isee_euro", "number", ""},
	{"/household/members", "integer", ""},
	{"/household/minors", "integer", ""},
}

// supportedTypes and supportedFormats are what the HTML renderer
// (forms/htmlform) turns into fields.
var (
	supportedTypes   = []string{"object", "array", "string", "integer", "number", "boolean"}
	supportedFormats = []string{"date", "email", "codice-fiscale"}
)

// OptionsMunicipalities is the value of "x-options" on a property whose
// choices are the municipalities of the reader's district: the stored
// schema carries the marker, the served one the choices (WithChoices).
const OptionsMunicipalities = "district-municipalities"

// schemaProblem is a problem of an uploaded schema at ptr (a JSON pointer
// into the schema document).
func schemaProblem(ptr, code, id string, args ...any) FieldError {
	return FieldError{Pointer: ptr, Code: code, Text: i18n.M(id, args...)}
}

// CheckSchema checks raw as a new version of form id: a JSON object within
// MaxSchemaBytes that compiles as a draft 2020-12 JSON Schema (the
// meta-schema, no remote references) and follows the platform's rules:
// titles in Italian and English on the root and every property, only the
// types and formats the HTML renderer shows, bounded depth and size, and
// the fields the case workflow reads (RequiredFields), required and of
// their type. Problems carry JSON pointers into the schema; none means
// the schema may be stored.
func CheckSchema(id string, raw []byte) []FieldError {
	if len(raw) > MaxSchemaBytes {
		return []FieldError{schemaProblem("", "too_large", "forms.schema.err.too_large", MaxSchemaBytes/1024)}
	}
	doc, err := decodeJSON(raw)
	if err != nil {
		return []FieldError{schemaProblem("", codeJSON, "forms.err.json")}
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return []FieldError{schemaProblem("", "type", "forms.schema.err.not_object")}
	}
	if problems := checkText(doc, ""); len(problems) > 0 {
		sortProblems(problems)
		return problems
	}
	c := newCompiler()
	url := fmt.Sprintf("%s%s/upload.json", schemaBaseURL, id)
	if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
		return []FieldError{schemaProblem("", "json", "forms.err.json")}
	}
	if _, err := c.Compile(url); err != nil {
		return metaProblems(err)
	}
	var out []FieldError
	props := 0
	checkSchemaNode(root, "", 0, &props, &out)
	if props > maxSchemaProperties {
		out = append(out, schemaProblem("/properties", "too_large", "forms.schema.err.too_many_fields", maxSchemaProperties))
	}
	for _, f := range RequiredFields {
		out = append(out, checkRequiredField(root, f.Pointer, f.Type, f.Format)...)
	}
	sortProblems(out)
	return out
}

// metaProblems turns a compilation error into problems pointing into the
// schema (the meta-schema's findings, leaf by leaf).
func metaProblems(err error) []FieldError {
	var se *jsonschema.SchemaError
	var ve *jsonschema.ValidationError
	if errors.As(err, &se) && errors.As(se.Err, &ve) {
		var out []FieldError
		var walk func(e *jsonschema.ValidationError)
		walk = func(e *jsonschema.ValidationError) {
			if len(e.Causes) == 0 {
				out = append(out, schemaProblem(e.InstanceLocation, "meta_schema", "forms.schema.err.meta", e.Message))
				return
			}
			for _, c := range e.Causes {
				walk(c)
			}
		}
		walk(ve)
		sortProblems(out)
		return slices.CompactFunc(out, func(a, b FieldError) bool { return a.Pointer == b.Pointer && a.In(i18n.EN) == b.In(i18n.EN) })
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return []FieldError{schemaProblem("", "meta_schema", "forms.schema.err.meta", msg)}
}

// walkSchema checks the platform's rules on node (at ptr, depth levels
// down) and its properties and items.
func checkSchemaNode(node map[string]any, ptr string, depth int, props *int, out *[]FieldError) {
	if depth > maxSchemaDepth {
		*out = append(*out, schemaProblem(ptr, "too_deep", "forms.schema.err.too_deep", maxSchemaDepth))
		return
	}
	for _, key := range []string{"title", "x-title-en"} {
		if s, _ := node[key].(string); strings.TrimSpace(s) == "" {
			*out = append(*out, schemaProblem(ptr+"/"+EscapePointerToken(key), "required", "forms.schema.err.title_missing", key))
		}
	}
	if _, ok := node["$ref"]; ok {
		*out = append(*out, schemaProblem(ptr+"/$ref", "unsupported", "forms.schema.err.keyword_unsupported", "$ref"))
	}
	for _, key := range []string{"oneOf", "anyOf", "allOf", "not", "if", "patternProperties", "prefixItems"} {
		if _, ok := node[key]; ok {
			*out = append(*out, schemaProblem(ptr+"/"+key, "unsupported", "forms.schema.err.keyword_unsupported", key))
		}
	}
	types := schemaTypes(node["type"])
	if len(types) == 0 {
		*out = append(*out, schemaProblem(ptr+"/type", "required", "forms.schema.err.type_missing"))
	}
	for _, t := range types {
		if !slices.Contains(supportedTypes, t) {
			*out = append(*out, schemaProblem(ptr+"/type", "unsupported", "forms.schema.err.type_unsupported", t,
				strings.Join(supportedTypes, ", ")))
		}
	}
	if f, ok := node["format"].(string); ok && !slices.Contains(supportedFormats, f) {
		*out = append(*out, schemaProblem(ptr+"/format", "unsupported", "forms.schema.err.format_unsupported", f,
			strings.Join(supportedFormats, ", ")))
	}
	if o, ok := node["x-options"]; ok && o != OptionsMunicipalities {
		*out = append(*out, schemaProblem(ptr+"/x-options", "unsupported", "forms.schema.err.options_unsupported", OptionsMunicipalities))
	}
	if enum, ok := node["enum"].([]any); ok {
		titles, _ := node["x-enum-titles"].(map[string]any)
		for i, e := range enum {
			key := scalarKey(e)
			t, _ := titles[key].(map[string]any)
			it, _ := t["it"].(string)
			en, _ := t["en"].(string)
			if it == "" || en == "" {
				*out = append(*out, schemaProblem(ptr+"/enum/"+strconv.Itoa(i), "required", "forms.schema.err.enum_title_missing", key))
			}
		}
	}
	if p, ok := node["properties"].(map[string]any); ok {
		names := make([]string, 0, len(p))
		for k := range p {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			*props++
			if child, ok := p[k].(map[string]any); ok {
				checkSchemaNode(child, ptr+"/properties/"+EscapePointerToken(k), depth+1, props, out)
			}
		}
	}
	if items, ok := node["items"].(map[string]any); ok {
		checkSchemaNode(items, ptr+"/items", depth+1, props, out)
	}
}

// checkRequiredField checks that the data field at pointer is declared
// (under "properties"), required at every level and of type typ (and
// format, when not empty).
func checkRequiredField(root map[string]any, pointer, typ, format string) []FieldError {
	node, schemaPtr := root, ""
	for _, tok := range SplitPointer(pointer) {
		required, _ := node["required"].([]any)
		if !slices.Contains(required, any(tok)) {
			return []FieldError{schemaProblem(schemaPtr+"/required", "required_field", "forms.schema.err.field_required", pointer)}
		}
		props, _ := node["properties"].(map[string]any)
		child, ok := props[tok].(map[string]any)
		schemaPtr += "/properties/" + EscapePointerToken(tok)
		if !ok {
			return []FieldError{schemaProblem(schemaPtr, "required_field", "forms.schema.err.field_required", pointer)}
		}
		node = child
	}
	types := schemaTypes(node["type"])
	if len(types) != 1 || types[0] != typ {
		return []FieldError{schemaProblem(schemaPtr+"/type", "field_type", "forms.schema.err.field_type", pointer, typ)}
	}
	if format != "" && node["format"] != format {
		return []FieldError{schemaProblem(schemaPtr+"/format", "field_type", "forms.schema.err.field_format", pointer, format)}
	}
	return nil
}

// schemaTypes reads the "type" keyword: a name or a list of names.
func schemaTypes(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func scalarKey(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Register compiles raw as version of form id (an id the registry knows:
// the new version shares its case prefix) and adds it, so that
// ValidateVersion and GetVersion find it. district is the district whose
// version it is ("" for the platform's, 1..MaxPlatformVersion): a platform version that is the
// highest becomes the one Get and Validate use; a district's never does
// (its calls name it). Registering a version again with the same document
// is a no-op; with another document it fails with ErrVersionConflict.
// Safe for concurrent use.
func (r *Registry) Register(id, district string, version int, raw []byte) error {
	if district == "" && (version < 1 || version > MaxPlatformVersion) {
		return fmt.Errorf("forms: %s version %d: a platform version is 1..%d", id, version, MaxPlatformVersion)
	}
	if cf := r.version(id, version); cf != nil {
		if bytes.Equal(cf.form.Schema, raw) {
			return nil
		}
		return fmt.Errorf("forms: %s version %d: %w", id, version, ErrVersionConflict)
	}
	base := r.latest(id)
	if base == nil {
		return fmt.Errorf("%w: %q", ErrUnknownForm, id)
	}
	cf, err := parseForm(id, version, formMeta{CasePrefix: base.form.CasePrefix}, raw)
	if err != nil {
		return err
	}
	cf.form.District = district
	c := newCompiler()
	if err := c.AddResource(cf.url, bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("forms: %s version %d: %w", id, version, err)
	}
	if cf.schema, err = c.Compile(cf.url); err != nil {
		return fmt.Errorf("forms: %s version %d: %w", id, version, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, have := range r.forms[id] {
		if have.form.Version == version {
			if bytes.Equal(have.form.Schema, raw) {
				return nil
			}
			return fmt.Errorf("forms: %s version %d: %w", id, version, ErrVersionConflict)
		}
	}
	versions := append(slices.Clone(r.forms[id]), cf)
	sort.Slice(versions, func(i, j int) bool { return versions[i].form.Version < versions[j].form.Version })
	r.forms[id] = versions
	return nil
}

// Versions lists every version of form id the registry holds, ascending.
func (r *Registry) Versions(id string) []Form {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Form, 0, len(r.forms[id]))
	for _, cf := range r.forms[id] {
		out = append(out, copyForm(cf.form))
	}
	return out
}

// All lists every version of every form the registry holds, by form id
// and version.
func (r *Registry) All() []Form {
	var out []Form
	for _, f := range r.List() {
		out = append(out, r.Versions(f.ID)...)
	}
	return out
}

// Choice is one answer of a choice property: its value and its titles.
type Choice struct {
	Value, Title, TitleEN string
}

// WithChoices returns schema with choices as the standard answer list of
// every property marked "x-options": "district-municipalities": an "enum"
// of the values and a "oneOf" of {"const", "title"} (what a third-party
// client reads), plus the "x-enum-titles" the portal's renderer reads in
// both languages. The marker itself is dropped. The document is patched
// in place rather than re-encoded, because the order of its properties is
// the order of the form. Without choices the schema is returned as is.
func WithChoices(schema json.RawMessage, choices []Choice) json.RawMessage {
	if len(choices) == 0 || !optionsMarker.Match(schema) {
		return schema
	}
	enum := make([]string, 0, len(choices))
	oneOf := make([]map[string]string, 0, len(choices))
	titles := make(map[string]map[string]string, len(choices))
	for _, c := range choices {
		enum = append(enum, c.Value)
		oneOf = append(oneOf, map[string]string{"const": c.Value, "title": c.Title})
		titles[c.Value] = map[string]string{"it": c.Title, "en": c.TitleEN}
	}
	e, err1 := json.Marshal(enum)
	o, err2 := json.Marshal(oneOf)
	t, err3 := json.Marshal(titles)
	if err1 != nil || err2 != nil || err3 != nil {
		return schema
	}
	patch := []byte(`"enum": ` + string(e) + `, "oneOf": ` + string(o) + `, "x-enum-titles": ` + string(t))
	out := optionsMarker.ReplaceAllLiteral(slices.Clone(schema), patch)
	if !json.Valid(out) {
		return schema
	}
	return out
}

// optionsMarker finds the "x-options" marker of municipality choices.
var optionsMarker = regexp.MustCompile(`"x-options"\s*:\s*"` + OptionsMunicipalities + `"`)
