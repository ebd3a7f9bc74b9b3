// Package jsonpin pins the JSON names of what travels through Temporal, for
// the tests of the packages that define it (internal/contract, activities,
// workflows). Recorded histories are decoded by these names, and the
// replayer does not compare payloads: a renamed field would decode as zero
// without a word, so each package lists its types with their names here.
package jsonpin

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Pinned is a type (a zero value of it) and the JSON names a filled value of
// it is encoded with.
type Pinned struct {
	Value any
	Keys  []string
}

// Check runs a subtest per type: a value with every field filled (Fill) is
// encoded with exactly the pinned names and decodes back to itself, so no
// field is left out of the encoding.
func Check(t *testing.T, list []Pinned) {
	t.Helper()
	for _, p := range list {
		typ := reflect.TypeOf(p.Value)
		t.Run(typ.Name(), func(t *testing.T) {
			v := reflect.New(typ)
			Fill(v.Elem(), 1)
			raw, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				t.Fatalf("unmarshal %s: %v", raw, err)
			}
			got := make([]string, 0, len(obj))
			for k := range obj {
				got = append(got, k)
			}
			want := slices.Clone(p.Keys)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("JSON names of a filled %s:\n got %q\nwant %q\n(recorded histories are decoded by these names: never rename one)",
					typ, got, want)
			}
			back := reflect.New(typ)
			if err := json.Unmarshal(raw, back.Interface()); err != nil {
				t.Fatalf("unmarshal %s into %s: %v", raw, typ, err)
			}
			if !reflect.DeepEqual(back.Elem().Interface(), v.Elem().Interface()) {
				t.Errorf("%s does not survive JSON:\n sent %+v\n back %+v", typ, v.Elem().Interface(), back.Elem().Interface())
			}
		})
	}
}

// Fill sets every exported field reachable from v to a value that is not
// zero (n varies them), so that fields with omitempty are encoded too.
func Fill(v reflect.Value, n int) {
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 3, n, 9, 30, 0, 0, time.UTC)))
		return
	case reflect.TypeFor[json.RawMessage]():
		v.Set(reflect.ValueOf(json.RawMessage(`{"members":2}`)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				Fill(v.Field(i), n+i)
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		Fill(p.Elem(), n)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		Fill(s.Index(0), n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		Fill(k, n)
		Fill(e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf("x"))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n) + 0.5)
	default:
		panic("jsonpin: no value for " + v.Type().String())
	}
}

// Walker visits the struct types reachable from a type (through fields,
// pointers, slices, arrays and maps) that belong to one of Pkgs, once each,
// and reports every exported field without a JSON name of its own: such a
// field would be encoded under its Go name, which a rename changes. Types
// of other packages (time.Time, …) encode themselves and are not entered.
type Walker struct {
	T    *testing.T
	Pkgs []string // package paths whose structs are entered
	// Visit, when set, is called with each struct type the first time it
	// is reached, and where it was reached from.
	Visit func(typ reflect.Type, path string)
	Seen  map[reflect.Type]bool
}

// Walk enters typ, reached from path.
func (w *Walker) Walk(typ reflect.Type, path string) {
	w.T.Helper()
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct || w.Seen[typ] || !slices.Contains(w.Pkgs, typ.PkgPath()) {
		return
	}
	if w.Seen == nil {
		w.Seen = map[reflect.Type]bool{}
	}
	w.Seen[typ] = true
	if w.Visit != nil {
		w.Visit(typ, path)
	}
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			w.T.Errorf("%s: %s.%s has no JSON name (tag %q): give it the name it is encoded with today", path, typ.Name(), f.Name, f.Tag)
		}
		w.Walk(f.Type, path+"."+f.Name)
	}
}
