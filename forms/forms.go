// Package forms holds the application forms of the platform as JSON Schema
// documents (draft 2020-12), embedded in the binary and versioned under
// schemas/<form-id>/<version>.json, with per-form metadata in
// schemas/<form-id>/meta.json.
//
// A Registry compiles every schema once at start-up and validates application
// data against the latest version of a form (Validate) or a given one
// (ValidateVersion: a case's own), turning validation failures into a flat
// list of field-level problems with English and Italian messages, then
// applies the form's cross-field rules written in Go. Versions a supervisor
// publishes at run time are added with Register (versions.go), after
// CheckSchema has checked them; WithChoices turns the municipality marker
// into the standard enum/oneOf of the served document.
//
// Schema conventions (checked by the tests): the root and every property carry
// an Italian "title" and "description" and their English counterparts
// "x-title-en" and "x-description-en"; enumerations carry "x-enum-titles"
// ({"value": {"it": ..., "en": ...}}); a property may override the message of a
// problem code with "x-errors" ({"pattern": {"it": ..., "en": ...}}).
package forms

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"sportello/internal/i18n"
	"sportello/internal/textcheck"
)

//go:embed schemas
var embedded embed.FS

// ErrUnknownForm is returned (wrapped) by Validate for a form id that is not in
// the registry.
var ErrUnknownForm = errors.New("unknown form")

// Form describes one version of an application form.
type Form struct {
	ID      string // form id, e.g. "buoni-spesa"
	Version int    // the platform's 1..MaxPlatformVersion, a district's from FirstDistrictVersion
	// District is the district whose supervisors made this version ("" for
	// the platform's, embedded or imported): only that district's calls and
	// cases use it, and it never becomes the latest of the form.
	District      string
	Title         string          // Italian title
	TitleEN       string          // English title
	Description   string          // Italian description
	DescriptionEN string          // English description
	CasePrefix    string          // prefix of case numbers, e.g. "BS" in BS-2026-000001
	Schema        json.RawMessage // the raw JSON Schema document, as embedded
}

// FieldError is one problem found in application data.
type FieldError struct {
	Pointer string       `json:"pointer"` // JSON pointer of the offending field ("" for the root)
	Code    string       `json:"code"`    // short machine code, e.g. "required", "tax_code"
	Text    i18n.Message `json:"text"`    // what is wrong, for a person (In)
}

// In is what is wrong, in lang.
func (e FieldError) In(lang string) string { return e.Text.In(lang) }

// Registry holds every compiled form. It is immutable once built and safe for
// concurrent use.
type Registry struct {
	mu    sync.RWMutex           // guards forms: versions published at run time are added (Register)
	forms map[string][]*compiled // versions sorted ascending
	ids   []string               // sorted
}

type compiled struct {
	form   Form
	url    string
	doc    any // the schema document decoded with UseNumber, for error mapping
	schema *jsonschema.Schema
}

type formMeta struct {
	CasePrefix string `json:"case_prefix"`
}

var (
	formIDPattern     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	versionPattern    = regexp.MustCompile(`^[1-9][0-9]{0,2}\.json$`) // 1..MaxPlatformVersion
	casePrefixPattern = regexp.MustCompile(`^[A-Z]{2,4}$`)
)

// schemaBaseURL is the base of the (never fetched) URLs the schemas are
// compiled under.
const schemaBaseURL = "https://sportello.invalid/forms/"

// NewRegistry loads and compiles every embedded form schema. It fails if any
// schema or metadata file is missing, malformed or not a valid draft 2020-12
// schema.
func NewRegistry() (*Registry, error) {
	sub, err := fs.Sub(embedded, "schemas")
	if err != nil {
		return nil, err
	}
	return newRegistry(sub)
}

// MustRegistry is NewRegistry that panics on error, for start-up code and
// tests.
func MustRegistry() *Registry {
	r, err := NewRegistry()
	if err != nil {
		panic(err)
	}
	return r
}

func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.Formats["codice-fiscale"] = func(v any) bool {
		s, ok := v.(string)
		return !ok || ValidTaxCode(s) // non-strings are the "type" keyword's business
	}
	c.LoadURL = func(s string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("forms: remote schema references are not allowed: %s", s)
	}
	return c
}

// newRegistry builds a registry from a file system laid out as
// <form-id>/meta.json and <form-id>/<version>.json.
func newRegistry(fsys fs.FS) (*Registry, error) {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("forms: %w", err)
	}
	r := &Registry{forms: make(map[string][]*compiled)}
	c := newCompiler()
	var pending []*compiled
	for _, d := range dirs {
		id := d.Name()
		if !d.IsDir() || !formIDPattern.MatchString(id) {
			return nil, fmt.Errorf("forms: unexpected entry %q (want a folder named like a form id)", id)
		}
		meta, err := readMeta(fsys, id)
		if err != nil {
			return nil, err
		}
		files, err := fs.ReadDir(fsys, id)
		if err != nil {
			return nil, fmt.Errorf("forms: %w", err)
		}
		found := 0
		for _, f := range files {
			name := f.Name()
			if name == "meta.json" {
				continue
			}
			if f.IsDir() || !versionPattern.MatchString(name) {
				return nil, fmt.Errorf("forms: unexpected file %s/%s (want <version>.json)", id, name)
			}
			version, _ := strconv.Atoi(strings.TrimSuffix(name, ".json"))
			raw, err := fs.ReadFile(fsys, path.Join(id, name))
			if err != nil {
				return nil, fmt.Errorf("forms: %w", err)
			}
			cf, err := parseForm(id, version, meta, raw)
			if err != nil {
				return nil, err
			}
			if err := c.AddResource(cf.url, bytes.NewReader(raw)); err != nil {
				return nil, fmt.Errorf("forms: %s/%s: %w", id, name, err)
			}
			pending = append(pending, cf)
			found++
		}
		if found == 0 {
			return nil, fmt.Errorf("forms: form %q has no schema version", id)
		}
		r.ids = append(r.ids, id)
	}
	for _, cf := range pending {
		s, err := c.Compile(cf.url)
		if err != nil {
			return nil, fmt.Errorf("forms: %s version %d: %w", cf.form.ID, cf.form.Version, err)
		}
		cf.schema = s
		r.forms[cf.form.ID] = append(r.forms[cf.form.ID], cf)
	}
	for _, versions := range r.forms {
		sort.Slice(versions, func(i, j int) bool { return versions[i].form.Version < versions[j].form.Version })
	}
	sort.Strings(r.ids)
	return r, nil
}

func readMeta(fsys fs.FS, id string) (formMeta, error) {
	var m formMeta
	raw, err := fs.ReadFile(fsys, path.Join(id, "meta.json"))
	if err != nil {
		return m, fmt.Errorf("forms: form %q: %w", id, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("forms: %s/meta.json: %w", id, err)
	}
	if !casePrefixPattern.MatchString(m.CasePrefix) {
		return m, fmt.Errorf("forms: %s/meta.json: case_prefix %q must be 2-4 upper-case letters", id, m.CasePrefix)
	}
	return m, nil
}

func parseForm(id string, version int, meta formMeta, raw []byte) (*compiled, error) {
	doc, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("forms: %s version %d: invalid JSON: %w", id, version, err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("forms: %s version %d: the schema must be a JSON object", id, version)
	}
	str := func(key string) string { s, _ := root[key].(string); return s }
	f := Form{
		ID:            id,
		Version:       version,
		Title:         str("title"),
		TitleEN:       str("x-title-en"),
		Description:   str("description"),
		DescriptionEN: str("x-description-en"),
		CasePrefix:    meta.CasePrefix,
		Schema:        json.RawMessage(slices.Clone(raw)),
	}
	if f.Title == "" || f.TitleEN == "" {
		return nil, fmt.Errorf("forms: %s version %d: the schema needs a \"title\" and an \"x-title-en\"", id, version)
	}
	return &compiled{
		form: f,
		url:  fmt.Sprintf("%s%s/%d.json", schemaBaseURL, id, version),
		doc:  doc,
	}, nil
}

// decodeJSON decodes exactly one JSON value, keeping numbers as json.Number.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// copyForm returns f with its own copy of the schema bytes, so callers cannot
// alter the registry.
func copyForm(f Form) Form {
	f.Schema = slices.Clone(f.Schema)
	return f
}

// List returns the latest version of each form, sorted by id.
func (r *Registry) List() []Form {
	r.mu.RLock()
	ids := slices.Clone(r.ids)
	r.mu.RUnlock()
	out := make([]Form, 0, len(ids))
	for _, id := range ids {
		if cf := r.latest(id); cf != nil {
			out = append(out, copyForm(cf.form))
		}
	}
	return out
}

// Get returns the latest version of form id.
func (r *Registry) Get(id string) (Form, bool) {
	cf := r.latest(id)
	if cf == nil {
		return Form{}, false
	}
	return copyForm(cf.form), true
}

// GetVersion returns version v of form id.
func (r *Registry) GetVersion(id string, v int) (Form, bool) {
	if cf := r.version(id, v); cf != nil {
		return copyForm(cf.form), true
	}
	return Form{}, false
}

// version is version v of form id, nil when the registry lacks it.
func (r *Registry) version(id string, v int) *compiled {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, cf := range r.forms[id] {
		if cf.form.Version == v {
			return cf
		}
	}
	return nil
}

// latest is the highest platform version of form id: a district's own
// versions are used only through the calls that name them.
func (r *Registry) latest(id string) *compiled {
	r.mu.RLock()
	defer r.mu.RUnlock()
	versions := r.forms[id]
	for i := len(versions) - 1; i >= 0; i-- {
		if versions[i].form.District == "" {
			return versions[i]
		}
	}
	return nil
}

// Validate validates data (the raw JSON bytes of the "data" object of an
// application) against the latest version of form id, then, only if the schema
// is satisfied, against that form's cross-field rules; now is the reference
// instant for date rules (time.Now() at the API).
//
// It returns the version used and one FieldError per problem, sorted by
// Pointer then Code; an empty slice means the data is valid. An unknown form id
// yields an error wrapping ErrUnknownForm. Malformed JSON yields a single
// FieldError with Pointer "" and Code "json".
func (r *Registry) Validate(id string, data []byte, now time.Time) (version int, problems []FieldError, err error) {
	cf := r.latest(id)
	if cf == nil {
		return 0, nil, fmt.Errorf("%w: %q", ErrUnknownForm, id)
	}
	return cf.validate(data, now)
}

// ValidateVersion is Validate against version of form id rather than the
// latest: a case's data is checked against the version it was filed with.
// A version the registry lacks yields an error wrapping ErrUnknownForm.
func (r *Registry) ValidateVersion(id string, version int, data []byte, now time.Time) ([]FieldError, error) {
	cf := r.version(id, version)
	if cf == nil {
		return nil, fmt.Errorf("%w: %q version %d", ErrUnknownForm, id, version)
	}
	_, problems, err := cf.validate(data, now)
	return problems, err
}

func (cf *compiled) validate(data []byte, now time.Time) (version int, problems []FieldError, err error) {
	id := cf.form.ID
	version = cf.form.Version
	v, err := decodeJSON(data)
	if err != nil {
		return version, []FieldError{newProblem("", codeJSON, "", nil)}, nil
	}
	if !utf8.Valid(data) {
		return version, []FieldError{{Pointer: "", Code: textcheck.CodeInvalidUTF8, Text: textcheck.Text(textcheck.CodeInvalidUTF8)}}, nil
	}
	if problems := checkText(v, ""); len(problems) > 0 {
		// The same input hygiene as the API's (textcheck): no NUL, control
		// or bidi characters in any name or text of the application.
		sortProblems(problems)
		return version, problems, nil
	}
	if problems := checkNumbers(v, ""); len(problems) > 0 {
		// The validator cannot handle numbers such as 1e999999999: report them
		// and stop here.
		sortProblems(problems)
		return version, problems, nil
	}
	if err := cf.schema.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return version, nil, fmt.Errorf("forms: validating %s version %d: %w", id, version, err)
		}
		problems = mapValidationError(ve, cf.doc, v)
		sortProblems(problems)
		return version, problems, nil
	}
	if rule := crossFieldRules[id]; rule != nil {
		problems = rule(v, version, now)
		sortProblems(problems)
	}
	return version, problems, nil
}

// checkText reports member names and strings that are not clean text
// (textcheck): values may hold tab and line breaks, names may not.
func checkText(v any, ptr string) []FieldError {
	problem := func(ptr, code string) FieldError {
		return FieldError{Pointer: ptr, Code: code, Text: textcheck.Text(code)}
	}
	switch v := v.(type) {
	case string:
		if code := textcheck.Check(v, true); code != "" {
			return []FieldError{problem(ptr, code)}
		}
	case map[string]any:
		var out []FieldError
		for k, item := range v {
			p := ptr + "/" + EscapePointerToken(k)
			if code := textcheck.Check(k, false); code != "" {
				out = append(out, problem(p, code))
				continue
			}
			out = append(out, checkText(item, p)...)
		}
		return out
	case []any:
		var out []FieldError
		for i, item := range v {
			out = append(out, checkText(item, ptr+"/"+strconv.Itoa(i))...)
		}
		return out
	}
	return nil
}

// checkNumbers reports numbers the validator cannot represent: very long
// literals or huge exponents.
func checkNumbers(v any, ptr string) []FieldError {
	switch v := v.(type) {
	case json.Number:
		if !numberInRange(string(v)) {
			return []FieldError{newProblem(ptr, codeNumber, "", nil)}
		}
	case map[string]any:
		var out []FieldError
		for k, item := range v {
			out = append(out, checkNumbers(item, ptr+"/"+EscapePointerToken(k))...)
		}
		return out
	case []any:
		var out []FieldError
		for i, item := range v {
			out = append(out, checkNumbers(item, ptr+"/"+strconv.Itoa(i))...)
		}
		return out
	}
	return nil
}

func numberInRange(s string) bool {
	if len(s) > 400 {
		return false
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, err := strconv.Atoi(s[i+1:])
		if err != nil || exp > 400 || exp < -400 {
			return false
		}
	}
	return true
}

func sortProblems(p []FieldError) {
	sort.SliceStable(p, func(i, j int) bool {
		if p[i].Pointer != p[j].Pointer {
			return p[i].Pointer < p[j].Pointer
		}
		if p[i].Code != p[j].Code {
			return p[i].Code < p[j].Code
		}
		return p[i].In(i18n.EN) < p[j].In(i18n.EN)
	})
}

// EscapePointerToken escapes one JSON pointer reference token (RFC 6901).
func EscapePointerToken(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	return strings.ReplaceAll(s, "/", "~1")
}

func unescapePointer(s string) string {
	s = strings.ReplaceAll(s, "~1", "/")
	return strings.ReplaceAll(s, "~0", "~")
}

// SplitPointer splits a JSON pointer into unescaped tokens; "" gives none.
func SplitPointer(p string) []string {
	if p == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = unescapePointer(s)
	}
	return parts
}

// lookup resolves pointer tokens in a decoded JSON document (an array
// index as strconv.Atoi reads it).
func lookup(doc any, tokens []string) (any, bool) {
	return Lookup(doc, tokens, func(tok string) (int, bool) {
		i, err := strconv.Atoi(tok)
		return i, err == nil && i >= 0
	})
}

// Lookup resolves pointer tokens in a decoded JSON document; index reads
// an array index token (false: not an index).
func Lookup(doc any, tokens []string, index func(tok string) (int, bool)) (any, bool) {
	cur := doc
	for _, tok := range tokens {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, ok := index(tok)
			if !ok || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
