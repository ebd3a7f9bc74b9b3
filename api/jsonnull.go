package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"sportello/forms"
	"sportello/internal/app"
)

// nullFields lists the members of a request body set to null where the
// destination has no null: a string, number, boolean or object that is not
// a pointer, slice, map or interface. encoding/json would silently read such
// a null as the zero value, as if the member were absent, and accept what the
// API's document refuses; so a null is a 422 at its pointer, like a value of
// any other wrong type. Members the type does not know are left to the
// decoder (unknown_field).
func nullFields(body []byte, v any) []FieldError {
	t := reflect.TypeOf(v)
	if t == nil || !bytes.Contains(body, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) != nil {
		return nil // the decoder reports malformed JSON
	}
	var out []FieldError
	walkNulls(doc, t, "", &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return out
}

func walkNulls(val any, t reflect.Type, ptr string, out *[]FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if len(*out) >= maxJSONProblems {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := val.(map[string]any)
		if !ok {
			return
		}
		for name, member := range obj {
			f, ok := jsonField(t, name)
			if !ok {
				continue
			}
			walkMember(member, f.Type, ptr+"/"+forms.EscapePointerToken(name), out)
		}
	case reflect.Slice, reflect.Array:
		arr, ok := val.([]any)
		if !ok || t.Elem().Kind() == reflect.Uint8 {
			return
		}
		for i, e := range arr {
			walkMember(e, t.Elem(), ptr+"/"+strconv.Itoa(i), out)
		}
	case reflect.Map:
		obj, ok := val.(map[string]any)
		if !ok {
			return
		}
		for k, e := range obj {
			walkMember(e, t.Elem(), ptr+"/"+forms.EscapePointerToken(k), out)
		}
	}
}

// walkMember checks one member or element of type t at ptr: a null where t
// has none is a problem, anything else is walked.
func walkMember(val any, t reflect.Type, ptr string, out *[]FieldError) {
	if val != nil {
		walkNulls(val, t, ptr, out)
	} else if !nullable(t) && len(*out) < maxJSONProblems {
		*out = append(*out, app.Field(ptr, "type", "api.err.json_type", jsonKind(jsonKindOf(t)), "null"))
	}
}

// nullable reports whether a JSON null has a meaning for t (it decodes to nil).
func nullable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return true
	}
	// Types that decode themselves (json.Number is a string and has no null).
	return t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)
}

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// jsonKindOf is the kind name jsonKind understands for t.
func jsonKindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind().String()
}

// jsonField finds the struct field encoding/json decodes the member name
// into: an exact tag or field name first, then a case-insensitive one;
// embedded structs' fields are promoted.
func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	var fold reflect.StructField
	folded := false
	var visit func(t reflect.Type) (reflect.StructField, bool)
	visit = func(t reflect.Type) (reflect.StructField, bool) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			key, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && key == "" {
				et := f.Type
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					if sf, ok := visit(et); ok {
						return sf, true
					}
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if key == "" {
				key = f.Name
			}
			if key == name {
				return f, true
			}
			if !folded && strings.EqualFold(key, name) {
				fold, folded = f, true
			}
		}
		return reflect.StructField{}, false
	}
	if f, ok := visit(t); ok {
		return f, true
	}
	return fold, folded
}
