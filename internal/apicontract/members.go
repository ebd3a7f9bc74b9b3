package apicontract

import (
	"encoding/json"
	"fmt"
	"mime"
	"slices"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// unknownMembers lists the members of JSON objects in a response body that
// the documented schema does not name, as JSON pointers. An object schema is
// closed unless it says otherwise: JSON Schema lets any member through when
// additionalProperties is absent, which would let an undocumented field drift
// into the API unseen. A schema stays open when it sets additionalProperties
// (true or a schema) or names no properties at all (a free-form object, such
// as an application's data).
func (v *Validator) unknownMembers(route *routers.Route, ex Exchange) []string {
	resp := route.Operation.Responses.Status(ex.Status)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil || len(ex.Body) == 0 {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ex.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && mt != "application/problem+json") {
		return nil
	}
	media := resp.Value.Content.Get(mt)
	if media == nil || media.Schema == nil {
		return nil
	}
	var value any
	if err := json.Unmarshal(ex.Body, &value); err != nil {
		return nil // ValidateResponse has said so already
	}
	var problems []string
	walk("", value, []*openapi3.Schema{media.Schema.Value}, &problems)
	slices.Sort(problems)
	return problems
}

// walk checks value against the schemas that may describe it (the branches
// of allOf always, of oneOf and anyOf those whose type admits the value).
func walk(pointer string, value any, schemas []*openapi3.Schema, problems *[]string) {
	kind := kindOf(value)
	flat := flatten(schemas, kind, nil)
	if len(flat) == 0 {
		return
	}
	switch value := value.(type) {
	case map[string]any:
		open := false
		for _, s := range flat {
			if isOpen(s) {
				open = true
			}
		}
		for name, member := range value {
			var inner []*openapi3.Schema
			for _, s := range flat {
				if p := s.Properties[name]; p != nil && p.Value != nil {
					inner = append(inner, p.Value)
				} else if a := s.AdditionalProperties.Schema; a != nil && a.Value != nil {
					inner = append(inner, a.Value)
				}
			}
			at := pointer + "/" + escape(name)
			if len(inner) == 0 && !open {
				*problems = append(*problems, at)
				continue
			}
			walk(at, member, inner, problems)
		}
	case []any:
		var items []*openapi3.Schema
		for _, s := range flat {
			if s.Items != nil && s.Items.Value != nil {
				items = append(items, s.Items.Value)
			}
		}
		for i, item := range value {
			walk(pointer+"/"+strconv.Itoa(i), item, items, problems)
		}
	}
}

// flatten resolves allOf, oneOf and anyOf into the schemas that apply to a
// value of the given JSON kind.
func flatten(schemas []*openapi3.Schema, kind string, seen []*openapi3.Schema) []*openapi3.Schema {
	var out []*openapi3.Schema
	for _, s := range schemas {
		if s == nil || slices.Contains(seen, s) || !admits(s, kind) {
			continue
		}
		seen = append(seen, s)
		out = append(out, s)
		for _, r := range s.AllOf {
			if r.Value != nil {
				out = append(out, flatten([]*openapi3.Schema{r.Value}, kind, seen)...)
			}
		}
		for _, r := range slices.Concat(s.OneOf, s.AnyOf) {
			if r.Value != nil {
				out = append(out, flatten([]*openapi3.Schema{r.Value}, kind, seen)...)
			}
		}
	}
	return out
}

// admits reports whether a schema's type allows the JSON kind (integer
// values are numbers).
func admits(s *openapi3.Schema, kind string) bool {
	if s.Type.IsEmpty() {
		return true
	}
	return s.Type.Includes(kind) || (kind == "number" && s.Type.Includes("integer"))
}

// isOpen reports whether an object schema lets members it does not name
// through (see unknownMembers). A schema made only of allOf, oneOf or anyOf
// branches defers to them.
func isOpen(s *openapi3.Schema) bool {
	if ap := s.AdditionalProperties; (ap.Has != nil && *ap.Has) || ap.Schema != nil {
		return true
	}
	if ap := s.AdditionalProperties; ap.Has != nil && !*ap.Has {
		return false
	}
	if len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) > 0 {
		return false
	}
	return len(s.Properties) == 0
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// escape writes a member name as a JSON pointer token (RFC 6901).
func escape(name string) string {
	out := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '~':
			out = append(out, "~0"...)
		case '/':
			out = append(out, "~1"...)
		default:
			out = append(out, name[i])
		}
	}
	return string(out)
}
