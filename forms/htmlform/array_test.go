package htmlform

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// membersSchema has an array of objects with limits, and an array of
// scalars.
var membersSchema = json.RawMessage(`{
	"type": "object",
	"required": ["members"],
	"properties": {
		"members": {
			"title": "Componenti", "x-title-en": "Members",
			"type": "array", "minItems": 1, "maxItems": 3,
			"items": {
				"title": "Componente", "x-title-en": "Member",
				"type": "object", "required": ["name"],
				"properties": {
					"name": {"type": "string", "title": "Nome", "x-title-en": "Name", "minLength": 1},
					"age": {"type": "integer", "title": "Età", "minimum": 0},
					"disabled": {"type": "boolean", "title": "Con disabilità"},
					"first_name": {"type": "string", "title": "Nome di battesimo"}
				}
			}
		},
		"phones": {"title": "Telefoni", "type": "array", "items": {"type": "string", "title": "Telefono"}},
		"scores": {"title": "Punteggi", "type": "array", "maxItems": 2, "items": {"type": "number"}}
	}
}`)

func buttons(doc *html.Node, name string) []*html.Node {
	return all(doc, func(n *html.Node) bool { return n.Data == "button" && attrOr(n, "name") == name })
}

func TestArrayRender(t *testing.T) {
	// No data: minItems blank items, which cannot be removed.
	doc := render(t, membersSchema, nil, nil, "it")
	checkAccessible(t, doc)
	fs := byID(t, doc, "f-members")
	if fs.Data != "fieldset" || textOf(all(fs, tag("legend"))[0]) != "Componenti (obbligatorio)" {
		t.Errorf("members: <%s> legend %q", fs.Data, textOf(all(fs, tag("legend"))[0]))
	}
	item := byID(t, doc, "f-members-0")
	if item.Data != "fieldset" || textOf(all(item, tag("legend"))[0]) != "Componente 1" || ancestor(item, "fieldset") != fs {
		t.Errorf("item 0: <%s> legend %q", item.Data, textOf(all(item, tag("legend"))[0]))
	}
	if n := len(byName(doc, "/members/0/name")); n != 1 {
		t.Errorf("%d controls for /members/0/name", n)
	}
	if len(buttons(doc, "_remove")) != 0 {
		t.Error("remove button at minItems")
	}
	add := buttons(doc, "_add")
	if len(add) != 3 {
		t.Fatalf("%d add buttons, want members and phones and scores", len(add))
	}
	if attrOr(add[0], "value") != "/members" || attrOr(add[0], "type") != "submit" || !strings.HasPrefix(textOf(add[0]), "Aggiungi") {
		t.Errorf("add button: value %q text %q", attrOr(add[0], "value"), textOf(add[0]))
	}
	if _, ok := attr(add[0], "formnovalidate"); !ok {
		t.Error("add button without formnovalidate")
	}
	hidden := all(doc, func(n *html.Node) bool { return attrOr(n, "name") == "_len/members" })
	if len(hidden) != 1 || attrOr(hidden[0], "type") != "hidden" || attrOr(hidden[0], "value") != "1" {
		t.Error("no _len control with the item count")
	}
	if got := textOf(byID(t, doc, "f-members-hint")); got != "Da 1 a 3 elementi." {
		t.Errorf("members hint %q", got)
	}
	if !strings.Contains(textOf(byID(t, doc, "f-phones")), "Nessun elemento.") {
		t.Error("empty array without its text")
	}
	// Autocomplete tokens describe the user, not the people listed.
	if _, ok := attr(byName(doc, "/members/0/first_name")[0], "autocomplete"); ok {
		t.Error("autocomplete on an array item")
	}
	// The first button of the form is the hidden default one, so that Enter
	// does not remove an item.
	first := all(doc, tag("button"))[0]
	if attrOr(first, "name") != "_submit" {
		t.Errorf("first button %q", attrOr(first, "name"))
	}
	if _, ok := attr(first, "hidden"); !ok {
		t.Error("default button not hidden")
	}

	// Three items: at maxItems, no add; items removable.
	values := []byte(`{"members":[{"name":"A","age":40},{"name":"B","disabled":true},{"name":"C"}],"phones":["0331 1"],"scores":[1.5,2]}`)
	doc = render(t, membersSchema, values, nil, "en")
	checkAccessible(t, doc)
	for _, b := range buttons(doc, "_add") {
		if attrOr(b, "value") == "/members" || attrOr(b, "value") == "/scores" {
			t.Errorf("add button at maxItems for %s", attrOr(b, "value"))
		}
	}
	rm := buttons(doc, "_remove")
	var values_ []string
	for _, b := range rm {
		values_ = append(values_, attrOr(b, "value"))
	}
	if want := []string{"/members/0", "/members/1", "/members/2", "/phones/0", "/scores/0", "/scores/1"}; !reflect.DeepEqual(values_, want) {
		t.Errorf("remove buttons %v, want %v", values_, want)
	}
	if got := textOf(rm[1]); got != "Remove Member 2" {
		t.Errorf("remove button accessible text %q", got)
	}
	if ancestor(rm[1], "fieldset") != byID(t, doc, "f-members-1") {
		t.Error("remove button outside its item")
	}
	if got := attrOr(byName(doc, "/members/0/age")[0], "value"); got != "40" {
		t.Errorf("age %q", got)
	}
	if _, checked := attr(byName(doc, "/members/1/disabled")[0], "checked"); !checked {
		t.Error("disabled not checked")
	}
	phone := byName(doc, "/phones/0")[0]
	if attrOr(phone, "value") != "0331 1" || textOf(labelFor(t, doc, phone)) != "Telefono 1" {
		t.Errorf("phone item: value %q label %q", attrOr(phone, "value"), textOf(labelFor(t, doc, phone)))
	}
	if got := textOf(labelFor(t, doc, byName(doc, "/scores/1")[0])); got != "Item 2" {
		t.Errorf("untitled item label %q", got)
	}
	if got := attrOr(byName(doc, "/scores/0")[0], "value"); got != "1.5" {
		t.Errorf("score (en) %q", got)
	}
}

// TestArrayAddRemoveThroughThePages drives the add and remove buttons as a
// browser would: render, click, Parse, ArrayAction, render again.
func TestArrayAddRemoveThroughThePages(t *testing.T) {
	click := func(doc *html.Node, name, value string) url.Values {
		t.Helper()
		for _, b := range buttons(doc, name) {
			if attrOr(b, "value") == value {
				return submit(doc, b)
			}
		}
		t.Fatalf("no button %s=%s", name, value)
		return nil
	}
	step := func(form url.Values) (json.RawMessage, *html.Node) {
		t.Helper()
		data, problems := Parse(membersSchema, form)
		if len(problems) != 0 {
			t.Fatalf("problems %+v", problems)
		}
		next, ok := ArrayAction(membersSchema, form, data)
		if !ok {
			t.Fatalf("ArrayAction did not see the button in %v", form)
		}
		return next, render(t, membersSchema, next, nil, "it")
	}

	doc := render(t, membersSchema, nil, nil, "it")
	for _, c := range byName(doc, "/members/0/name") {
		setValue(c, "Anna")
	}
	data, doc := step(click(doc, "_add", "/members"))
	if got := decode(t, data)["members"]; !reflect.DeepEqual(got, []any{map[string]any{"name": "Anna", "disabled": false}, map[string]any{}}) {
		t.Errorf("after add: %v", got)
	}
	setValue(byName(doc, "/members/1/name")[0], "Bruno")
	setChecked(byName(doc, "/members/1/disabled")[0])
	data, doc = step(click(doc, "_add", "/members"))
	if n := len(decode(t, data)["members"].([]any)); n != 3 {
		t.Fatalf("%d members after two adds", n)
	}
	if len(buttons(doc, "_add")) != 2 { // phones and scores only
		t.Error("add still offered at maxItems")
	}
	// A stale or forged add beyond maxItems changes nothing.
	form := submit(doc, nil)
	form.Set("_add", "/members")
	parsed, _ := Parse(membersSchema, form)
	same, ok := ArrayAction(membersSchema, form, parsed)
	if !ok || len(decode(t, same)["members"].([]any)) != 3 {
		t.Errorf("add beyond maxItems: ok %v data %s", ok, same)
	}
	// Remove the first: the others move up, with their values.
	data, doc = step(click(doc, "_remove", "/members/0"))
	members := decode(t, data)["members"].([]any)
	if len(members) != 2 || members[0].(map[string]any)["name"] != "Bruno" || members[0].(map[string]any)["disabled"] != true {
		t.Errorf("after remove: %v", members)
	}
	data, doc = step(click(doc, "_remove", "/members/1"))
	if len(buttons(doc, "_remove")) != 0 {
		t.Error("remove offered at minItems")
	}
	// A forged remove below minItems changes nothing.
	form = submit(doc, nil)
	form.Set("_remove", "/members/0")
	parsed, _ = Parse(membersSchema, form)
	if same, ok := ArrayAction(membersSchema, form, parsed); !ok || len(decode(t, same)["members"].([]any)) != 1 {
		t.Errorf("remove below minItems: ok %v data %s", ok, same)
	}
	// Scalars: add to an absent array, then remove.
	data, doc = step(click(doc, "_add", "/phones"))
	if got := decode(t, data)["phones"]; !reflect.DeepEqual(got, []any{""}) {
		t.Errorf("phones %v", got)
	}
	data, doc = step(click(doc, "_add", "/scores"))
	if got := decode(t, data)["scores"]; !reflect.DeepEqual(got, []any{nil}) {
		t.Errorf("scores %v", got)
	}
	setValue(byName(doc, "/scores/0")[0], "2,5")
	data, _ = step(click(doc, "_add", "/scores"))
	if got := decode(t, data)["scores"]; !reflect.DeepEqual(got, []any{2.5, nil}) {
		t.Errorf("scores %v", got)
	}
}

func setValue(n *html.Node, v string) {
	for i, a := range n.Attr {
		if a.Key == "value" {
			n.Attr[i].Val = v
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: "value", Val: v})
}

func setChecked(n *html.Node) {
	n.Attr = append(n.Attr, html.Attribute{Key: "checked"})
}

func TestArrayActionEdgeCases(t *testing.T) {
	data := json.RawMessage(`{"members":[{"name":"A"},{"name":"B"}]}`)
	cases := []struct {
		name string
		form url.Values
		ok   bool
		want string
	}{
		{"no button", url.Values{"/members/0/name": {"A"}}, false, string(data)},
		{"remove", url.Values{"_remove": {"/members/1"}}, true, `{"members":[{"name":"A"}]}`},
		{"add", url.Values{"_add": {"/members"}}, true, `{"members":[{"name":"A"},{"name":"B"},{}]}`},
		{"add to a missing array", url.Values{"_add": {"/phones"}}, true, `{"members":[{"name":"A"},{"name":"B"}],"phones":[""]}`},
		{"add to no array", url.Values{"_add": {"/members/0/name"}}, true, string(data)},
		{"add to the root", url.Values{"_add": {""}}, true, string(data)},
		{"add to an unknown pointer", url.Values{"_add": {"/nope"}}, true, string(data)},
		{"remove out of range", url.Values{"_remove": {"/members/5"}}, true, string(data)},
		{"remove not an index", url.Values{"_remove": {"/members/01"}}, true, string(data)},
		{"remove the array", url.Values{"_remove": {"/members"}}, true, string(data)},
	}
	for _, c := range cases {
		got, ok := ArrayAction(membersSchema, c.form, data)
		if ok != c.ok || !reflect.DeepEqual(decode(t, got), decode(t, []byte(c.want))) {
			t.Errorf("%s: %s, %v; want %s, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	// Nil data, and arrays nested in array items.
	nested := json.RawMessage(`{"type":"object","properties":{"groups":{"type":"array","items":{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"}}}}}}}`)
	got, ok := ArrayAction(nested, url.Values{"_add": {"/groups"}}, nil)
	if !ok || string(got) != `{"groups":[{}]}` {
		t.Errorf("nil data: %s %v", got, ok)
	}
	got, _ = ArrayAction(nested, url.Values{"_add": {"/groups/0/tags"}}, got)
	if string(got) != `{"groups":[{"tags":[""]}]}` {
		t.Errorf("nested add: %s", got)
	}
	got, _ = ArrayAction(nested, url.Values{"_remove": {"/groups/0/tags/0"}}, got)
	if string(got) != `{"groups":[{"tags":[]}]}` {
		t.Errorf("nested remove: %s", got)
	}
}

func TestParseArrays(t *testing.T) {
	// Items are counted from the _len control and from the posted names; an
	// item whose only control is an unchecked checkbox is kept.
	data, problems := Parse(membersSchema, url.Values{
		"_len/members":         {"3"},
		"/members/0/name":      {"A"},
		"/members/0/age":       {"1.000"},
		"/members/2/name":      {"C"},
		"/members/2/disabled":  {"true"},
		"/phones/1":            {"123"},
		"/members/999999/name": {"far"},
		"/members/x/name":      {"bad index"},
	})
	if len(problems) != 1 || problems[0].Pointer != "/members/0/age" || problems[0].Code != "type" {
		t.Errorf("problems %+v", problems)
	}
	want := map[string]any{
		"members": []any{
			map[string]any{"name": "A", "disabled": false},
			map[string]any{"name": "", "disabled": false},
			map[string]any{"name": "C", "disabled": true},
		},
		"phones": []any{"", "123"},
	}
	if got := decode(t, data); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	// A required array with nothing posted is [], an optional one is omitted.
	data, _ = Parse(membersSchema, url.Values{})
	if got := decode(t, data); !reflect.DeepEqual(got, map[string]any{"members": []any{}}) {
		t.Errorf("empty post: %v", got)
	}
	// _len is capped.
	data, _ = Parse(membersSchema, url.Values{"_len/phones": {"100000000"}})
	if n := len(decode(t, data)["phones"].([]any)); n != maxItemsCap {
		t.Errorf("%d phones, want the cap %d", n, maxItemsCap)
	}
}
