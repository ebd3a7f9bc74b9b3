package htmlform

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"

	"sportello/forms"
	"sportello/internal/i18n"
)

func TestRenderBuoniSpesaEveryFieldLabelled(t *testing.T) {
	schema := buoniSpesa(t)
	for _, lang := range []string{"it", "en"} {
		t.Run(lang, func(t *testing.T) {
			doc := render(t, schema, nil, nil, lang)
			checkAccessible(t, doc)
			for ptr, n := range leafPointers(t, schema) {
				found := byName(doc, ptr)
				if len(found) == 0 {
					t.Errorf("no control for %s", ptr)
					continue
				}
				want := n.Title
				if lang == "en" {
					want = n.TitleEN
				}
				if len(n.Enum) > 0 {
					// Radios: the question is the legend.
					legend := all(ancestor(found[0], "fieldset"), tag("legend"))[0]
					if !strings.HasPrefix(textOf(legend), want) {
						t.Errorf("%s: legend %q, want it to start with %q", ptr, textOf(legend), want)
					}
					continue
				}
				label := textOf(labelFor(t, doc, found[0]))
				if !strings.HasPrefix(label, want) {
					t.Errorf("%s: label %q, want it to start with %q", ptr, label, want)
				}
				if id := attrOr(found[0], "id"); id != FieldID(ptr) {
					t.Errorf("%s: id %q, want %q", ptr, id, FieldID(ptr))
				}
			}
			// Objects are fieldsets with their title as legend; the root is not.
			for _, c := range []struct{ id, it, en string }{
				{"f-applicant", "Richiedente", "Applicant"},
				{"f-residence", "Residenza", "Residence"},
				{"f-household", "Nucleo familiare", "Household"},
				{"f-declarations", "Dichiarazioni", "Declarations"},
			} {
				fs := byID(t, doc, c.id)
				want := c.it
				if lang == "en" {
					want = c.en
				}
				if fs.Data != "fieldset" || textOf(all(fs, tag("legend"))[0]) != want {
					t.Errorf("%s: <%s> with legend %q, want a fieldset with legend %q", c.id, fs.Data, textOf(all(fs, tag("legend"))[0]), want)
				}
			}
			if n := len(all(doc, tag("fieldset"))); n != 5 { // 4 objects + the delivery radios
				t.Errorf("%d fieldsets, want 5", n)
			}
		})
	}
}

func TestRenderControlsAndAttributes(t *testing.T) {
	doc := render(t, buoniSpesa(t), nil, nil, "it")
	cases := []struct {
		ptr   string
		attrs map[string]string // "" value: the attribute must be absent
	}{
		{"/applicant/first_name", map[string]string{"type": "text", "autocomplete": "given-name", "maxlength": "80", "minlength": "1", "required": "", "aria-required": "true"}},
		{"/applicant/last_name", map[string]string{"type": "text", "autocomplete": "family-name"}},
		{"/applicant/tax_code", map[string]string{"type": "text", "autocomplete": "", "aria-required": "true"}},
		{"/applicant/birth_date", map[string]string{"type": "date", "autocomplete": "bday"}},
		{"/applicant/email", map[string]string{"type": "email", "autocomplete": "email", "maxlength": "254", "aria-required": ""}},
		{"/applicant/phone", map[string]string{"type": "tel", "autocomplete": "tel", "minlength": "6", "maxlength": "20"}},
		{"/residence/address", map[string]string{"type": "text", "autocomplete": "street-address", "maxlength": "200"}},
		{"/residence/municipality", map[string]string{"type": "text", "autocomplete": ""}},
		{"/household/members", map[string]string{"type": "text", "inputmode": "numeric"}},
		{"/isee_euro", map[string]string{"type": "text", "inputmode": "decimal"}},
		{"/declarations/truthful", map[string]string{"type": "checkbox", "value": "true", "aria-required": "true"}},
	}
	for _, c := range cases {
		found := byName(doc, c.ptr)
		if len(found) != 1 || found[0].Data != "input" {
			t.Errorf("%s: %d controls, want one input", c.ptr, len(found))
			continue
		}
		for k, want := range c.attrs {
			got, ok := attr(found[0], k)
			switch {
			case want == "" && k != "required" && ok:
				t.Errorf("%s: unexpected %s=%q", c.ptr, k, got)
			case k == "required" && !ok:
				t.Errorf("%s: not required", c.ptr)
			case want != "" && got != want:
				t.Errorf("%s: %s=%q, want %q", c.ptr, k, got, want)
			}
		}
	}
	// Required fields are marked visibly, optional ones are not.
	if l := textOf(labelFor(t, doc, byName(doc, "/applicant/first_name")[0])); l != "Nome (obbligatorio)" {
		t.Errorf("first name label %q", l)
	}
	if l := textOf(labelFor(t, doc, byName(doc, "/applicant/email")[0])); l != "Indirizzo e-mail" {
		t.Errorf("email label %q", l)
	}
	// Hints: descriptions and number ranges, tied with aria-describedby.
	members := byName(doc, "/household/members")[0]
	hint := byID(t, doc, "f-household-members-hint")
	if attrOr(members, "aria-describedby") != "f-household-members-hint" || hint.Data != "small" || !hasClass(hint, "form-text") {
		t.Errorf("members hint: describedby %q, <%s class=%q>", attrOr(members, "aria-describedby"), hint.Data, attrOr(hint, "class"))
	}
	if got := textOf(hint); got != "Numero totale di componenti, richiedente compreso. Valore da 1 a 20." {
		t.Errorf("members hint %q", got)
	}
	en := render(t, buoniSpesa(t), nil, nil, "en")
	if got := textOf(byID(t, en, "f-isee_euro-hint")); !strings.HasSuffix(got, "with at most two decimals. From 0 to 1000000.") {
		t.Errorf("isee hint (en) %q", got)
	}
	if l := textOf(labelFor(t, en, byName(en, "/applicant/first_name")[0])); l != "First name (required)" {
		t.Errorf("first name label (en) %q", l)
	}
	// No button at all: no hidden default button either.
	if n := len(all(doc, tag("button"))); n != 1 { // the page's own
		t.Errorf("%d buttons", n)
	}
}

func TestRenderDeliveryRadiosAndDeclarations(t *testing.T) {
	for _, c := range []struct{ lang, legend, download, home string }{
		{"it", "Modalità di consegna dei buoni (obbligatorio)", "Scarico online / stampa", "Consegna a domicilio"},
		{"en", "Voucher delivery (required)", "Online download / print", "Home delivery"},
	} {
		doc := render(t, buoniSpesa(t), nil, nil, c.lang)
		radios := byName(doc, "/delivery")
		if len(radios) != 2 {
			t.Fatalf("%s: %d controls for /delivery, want 2 radios", c.lang, len(radios))
		}
		fs := ancestor(radios[0], "fieldset")
		if got := textOf(all(fs, tag("legend"))[0]); got != c.legend {
			t.Errorf("%s: legend %q, want %q", c.lang, got, c.legend)
		}
		if attrOr(radios[0], "id") != "f-delivery" {
			t.Errorf("first radio id %q, want f-delivery (the target of error summary links)", attrOr(radios[0], "id"))
		}
		for i, want := range []struct{ value, label string }{{"download", c.download}, {"home", c.home}} {
			r := radios[i]
			if attrOr(r, "type") != "radio" || attrOr(r, "value") != want.value || ancestor(r, "fieldset") != fs {
				t.Errorf("%s: radio %d: type %q value %q", c.lang, i, attrOr(r, "type"), attrOr(r, "value"))
			}
			if got := textOf(labelFor(t, doc, r)); got != want.label {
				t.Errorf("%s: radio %q label %q, want %q", c.lang, want.value, got, want.label)
			}
			if _, checked := attr(r, "checked"); checked {
				t.Errorf("%s: radio %q checked without a value", c.lang, want.value)
			}
			if _, ok := attr(r, "required"); !ok {
				t.Errorf("radio %q not required", want.value)
			}
			if attrOr(r, "aria-describedby") != "f-delivery-hint" {
				t.Errorf("radio %q: aria-describedby %q", want.value, attrOr(r, "aria-describedby"))
			}
		}
		for _, ptr := range []string{"/declarations/truthful", "/declarations/privacy"} {
			cb := byName(doc, ptr)
			if len(cb) != 1 || attrOr(cb[0], "type") != "checkbox" {
				t.Fatalf("%s is not a checkbox", ptr)
			}
			if !hasClass(cb[0].Parent, "form-check") {
				t.Errorf("%s: parent class %q", ptr, attrOr(cb[0].Parent, "class"))
			}
			l := labelFor(t, doc, cb[0])
			if l.Parent != cb[0].Parent || cb[0].NextSibling != l {
				t.Errorf("%s: the label must follow the checkbox (Bootstrap Italia's form-check)", ptr)
			}
		}
	}
}

func TestRenderFillsValuesBack(t *testing.T) {
	data := validData(t)
	for _, lang := range []string{"it", "en"} {
		doc := render(t, buoniSpesa(t), mustJSON(t, data), nil, lang)
		checkAccessible(t, doc)
		values := map[string]string{
			"/applicant/first_name":   "Maria Luisa",
			"/applicant/last_name":    "D'Angelo",
			"/applicant/tax_code":     taxCode(t, "DNGMLS80A41L319"),
			"/applicant/birth_date":   "1980-01-01",
			"/applicant/email":        "maria.dangelo@example.it",
			"/applicant/phone":        "+39 0331 123456",
			"/residence/municipality": "vedano-olona",
			"/residence/address":      "Via Roma 12",
			"/household/members":      "4",
			"/household/minors":       "2",
			"/isee_euro":              map[string]string{"it": "7450,35", "en": "7450.35"}[lang],
		}
		for ptr, want := range values {
			if got := attrOr(byName(doc, ptr)[0], "value"); got != want {
				t.Errorf("%s %s: value %q, want %q", lang, ptr, got, want)
			}
		}
		for _, r := range byName(doc, "/delivery") {
			_, checked := attr(r, "checked")
			if checked != (attrOr(r, "value") == "download") {
				t.Errorf("radio %q checked=%v", attrOr(r, "value"), checked)
			}
		}
		for _, ptr := range []string{"/declarations/truthful", "/declarations/privacy"} {
			if _, checked := attr(byName(doc, ptr)[0], "checked"); !checked {
				t.Errorf("%s not checked", ptr)
			}
		}
	}
	// false unchecks.
	data["declarations"] = map[string]any{"truthful": false}
	doc := render(t, buoniSpesa(t), mustJSON(t, data), nil, "it")
	if _, checked := attr(byName(doc, "/declarations/truthful")[0], "checked"); checked {
		t.Error("false rendered as checked")
	}
}

func TestRenderProblemsNextToFields(t *testing.T) {
	problems := []forms.FieldError{
		{Pointer: "/applicant/tax_code", Code: "tax_code", Text: i18n.Verbatim("Codice fiscale non valido.", "Not a valid Italian tax code (codice fiscale).")},
		{Pointer: "/household/minors", Code: "cross_field", Text: i18n.Verbatim("I minorenni devono essere meno dei componenti.", "Minors must be fewer than members.")},
		{Pointer: "/household/minors", Code: "maximum", Text: i18n.Verbatim("Deve essere al massimo 19.", "Must be at most 19.")},
		{Pointer: "/delivery", Code: "required", Text: i18n.Verbatim("Campo obbligatorio.", "This field is required.")},
		{Pointer: "/declarations/privacy", Code: "const", Text: i18n.Verbatim("Devi accettare questa dichiarazione.", "You must accept this declaration.")},
		{Pointer: "", Code: "json", Text: i18n.Verbatim("I dati non sono in formato JSON valido.", "The data is not valid JSON.")},
		{Pointer: "/applicant/nickname", Code: "additional", Text: i18n.Verbatim("Campo non previsto.", "This field is not allowed.")},
		{Pointer: "/household", Code: "cross_field", Text: i18n.Verbatim("Problema del nucleo.", "Household problem.")},
		{Pointer: "/nowhere/at/all", Code: "invalid", Text: i18n.Verbatim("Vagante.", "Stray.")},
	}
	for _, lang := range []string{"it", "en"} {
		msg := func(p forms.FieldError) string {
			if lang == "en" {
				return p.In("en")
			}
			return p.In("it")
		}
		doc := render(t, buoniSpesa(t), nil, problems, lang)
		checkAccessible(t, doc)

		// Field problems: on the control.
		for _, c := range []struct {
			ptr, errID string
			msgs       []forms.FieldError
		}{
			{"/applicant/tax_code", "f-applicant-tax_code-error", problems[0:1]},
			{"/household/minors", "f-household-minors-error", problems[1:3]},
			{"/delivery", "f-delivery-error", problems[3:4]},
			{"/declarations/privacy", "f-declarations-privacy-error", problems[4:5]},
		} {
			for _, ctl := range byName(doc, c.ptr) {
				if attrOr(ctl, "aria-invalid") != "true" || !hasClass(ctl, "is-invalid") {
					t.Errorf("%s %s: not marked invalid", lang, c.ptr)
				}
				if !strings.Contains(" "+attrOr(ctl, "aria-describedby")+" ", " "+c.errID+" ") {
					t.Errorf("%s %s: aria-describedby %q lacks %s", lang, c.ptr, attrOr(ctl, "aria-describedby"), c.errID)
				}
			}
			errDiv := byID(t, doc, c.errID)
			if errDiv.Data != "div" || !hasClass(errDiv, "invalid-feedback") || !hasClass(errDiv, "d-block") {
				t.Errorf("%s: error element <%s class=%q>", c.errID, errDiv.Data, attrOr(errDiv, "class"))
			}
			var want []string
			for _, p := range c.msgs {
				want = append(want, msg(p))
			}
			if got := textOf(errDiv); got != strings.Join(want, " ") {
				t.Errorf("%s %s: error text %q, want %q", lang, c.ptr, got, strings.Join(want, " "))
			}
			// Next to the field: in the same group.
			ctl := byName(doc, c.ptr)[0]
			group := ctl.Parent
			if attrOr(ctl, "type") == "radio" {
				group = ancestor(ctl, "fieldset")
			}
			if len(all(group, func(n *html.Node) bool { return attrOr(n, "id") == c.errID })) != 1 {
				t.Errorf("%s: error not inside the field's group", c.ptr)
			}
		}
		// Every problem's FieldID names an element, for error summary links:
		// its control, or the problem's text where there is none.
		for _, p := range problems {
			n := byID(t, doc, FieldID(p.Pointer))
			if n.Data == "span" && textOf(n) != msg(p) {
				t.Errorf("anchor of %q holds %q", p.Pointer, textOf(n))
			}
		}
		if n := byID(t, doc, FieldID("/nowhere/at/all")); n.Data != "span" || attrOr(n, "tabindex") != "-1" || ancestor(n, "div") != byID(t, doc, "f-error") {
			t.Errorf("stray problem anchor <%s> in the wrong place", n.Data)
		}
		// Valid fields are not marked.
		if first := byName(doc, "/applicant/first_name")[0]; attrOr(first, "aria-invalid") != "" {
			t.Error("first name marked invalid")
		}
		// Root problems, and problems that name no field, at the top of the
		// nearest fieldset (the fragment's top for the root).
		rootErr := byID(t, doc, "f-error")
		if got := textOf(rootErr); got != msg(problems[5])+" "+msg(problems[8]) {
			t.Errorf("root errors %q", got)
		}
		if ancestor(rootErr, "fieldset") != nil {
			t.Error("root error inside a fieldset")
		}
		for _, c := range []struct {
			fieldset string
			p        forms.FieldError
		}{{"f-applicant", problems[6]}, {"f-household", problems[7]}} {
			fs := byID(t, doc, c.fieldset)
			errDiv := byID(t, doc, c.fieldset+"-error")
			if ancestor(errDiv, "fieldset") != fs || textOf(errDiv) != msg(c.p) {
				t.Errorf("%s: error %q in the wrong place", c.fieldset, textOf(errDiv))
			}
			if !strings.Contains(attrOr(fs, "aria-describedby"), c.fieldset+"-error") {
				t.Errorf("%s: aria-describedby %q", c.fieldset, attrOr(fs, "aria-describedby"))
			}
			// At the top: before the first control of the fieldset.
			if first := controls(fs)[0]; !before(doc, errDiv, first) {
				t.Errorf("%s: error after the fields", c.fieldset)
			}
		}
	}
}

// before reports whether a comes before b in document order.
func before(doc, a, b *html.Node) bool {
	for _, n := range all(doc, func(*html.Node) bool { return true }) {
		switch n {
		case a:
			return true
		case b:
			return false
		}
	}
	return false
}

func TestRenderEscapesHostileValues(t *testing.T) {
	hostile := `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	data := validData(t)
	data["applicant"].(map[string]any)["first_name"] = hostile
	data["residence"].(map[string]any)["address"] = "</textarea>" + hostile
	data["delivery"] = hostile
	problems := []forms.FieldError{{Pointer: "/applicant/first_name", Code: "x", Text: i18n.Verbatim(hostile, hostile)}}
	schema := []byte(`{"type":"object","title":"T","properties":{
		"a\"><script>":{"type":"string","title":"` + strings.ReplaceAll(hostile, `"`, `\"`) + `","description":"<b>hint</b>"},
		"note":{"type":"string","maxLength":1000,"title":"Note"},
		"choice":{"type":"string","enum":["x\"><script>","y"],"title":"Choice","x-enum-titles":{"y":{"it":"<i>why</i>"}}}
	}}`)
	for _, c := range []struct {
		schema json.RawMessage
		values json.RawMessage
	}{
		{buoniSpesa(t), mustJSON(t, data)},
		{schema, []byte(`{"a\"><script>":` + string(mustJSON(t, hostile)) + `,"note":` + string(mustJSON(t, "</textarea>"+hostile)) + `,"choice":"x\"><script>"}`)},
	} {
		h, err := Render(c.schema, c.values, problems, "it")
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<script", "<img", "<b>", "<i>"} {
			if strings.Contains(string(h), bad) {
				t.Errorf("unescaped %q in output", bad)
			}
		}
		doc := parseHTML(t, h)
		checkAccessible(t, doc)
		if n := len(all(doc, tag("img"))) + len(all(doc, tag("script"))); n != 0 {
			t.Errorf("%d injected elements", n)
		}
	}
	doc := render(t, buoniSpesa(t), mustJSON(t, data), problems, "it")
	if got := attrOr(byName(doc, "/applicant/first_name")[0], "value"); got != hostile {
		t.Errorf("value %q, want the hostile text verbatim", got)
	}
	if got := textOf(byID(t, doc, "f-applicant-first_name-error")); got != hostile {
		t.Errorf("error text %q", got)
	}
	doc = render(t, schema, []byte(`{"note":`+string(mustJSON(t, "</textarea>"+hostile))+`}`), nil, "en")
	if got := textOf0(byName(doc, "/note")[0]); got != "</textarea>"+hostile {
		t.Errorf("textarea content %q", got)
	}
	if got := textOf(labelFor(t, doc, byName(doc, "/a\"><script>")[0])); got != hostile {
		t.Errorf("label %q", got)
	}
}

func TestRenderSelectTextareaAndIDs(t *testing.T) {
	schema := []byte(`{"type":"object","required":["city","size"],"properties":{
		"city":{"type":"string","title":"Città","x-title-en":"City","enum":["a","b","c","d","e"],
			"x-enum-titles":{"a":{"it":"Abbiategrasso","en":"Abbiategrasso (en)"}}},
		"size":{"type":"integer","title":"Taglia","enum":[1,2,3,4,5,6]},
		"colour":{"type":"string","title":"Colore","enum":["r","g","b","y","k"]},
		"story":{"type":"string","title":"Racconto","maxLength":2000},
		"a-b":{"type":"string","title":"Trattino"},
		"a":{"type":"object","title":"Gruppo","properties":{"b":{"type":"string","title":"Dentro"},"hint":{"type":"string","title":"Campo hint","description":"d"}},"description":"group hint"},
		"a~1b":{"type":"string","title":"Tilde"},
		"x/y":{"type":"string","title":"Slash"},
		"skipped":false,
		"ref":{"$ref":"#/$defs/name","title":"Riferimento"}
	},"$defs":{"name":{"type":"string","format":"email","title":"ignored"}}}`)
	doc := render(t, schema, []byte(`{"size":3,"city":"a"}`), []forms.FieldError{{Pointer: "/a/hint", Code: "x", Text: i18n.Verbatim("errore hint", "")}}, "it")
	checkAccessible(t, doc)
	city := byName(doc, "/city")[0]
	if city.Data != "select" || !hasClass(city, "form-select") {
		t.Fatalf("/city: <%s>", city.Data)
	}
	opts := all(city, tag("option"))
	if len(opts) != 5 || textOf(opts[0]) != "Abbiategrasso" || textOf(opts[1]) != "b" {
		t.Errorf("city options: %d, first %q", len(opts), textOf(opts[0]))
	}
	if _, sel := attr(opts[0], "selected"); !sel {
		t.Error("city value not selected")
	}
	size := all(byName(doc, "/size")[0], tag("option"))
	if len(size) != 6 { // required, with a value: no empty option
		t.Errorf("size: %d options", len(size))
	}
	if _, sel := attr(size[2], "selected"); !sel || attrOr(size[2], "value") != "3" {
		t.Error("size 3 not selected")
	}
	colour := all(byName(doc, "/colour")[0], tag("option"))
	if len(colour) != 6 || attrOr(colour[0], "value") != "" || textOf(colour[0]) != "Scegli un'opzione" {
		t.Errorf("colour (optional): want an empty first option, got %d options", len(colour))
	}
	// A required select without a value gets the empty option too, so that
	// nothing looks chosen when nothing is.
	doc2 := render(t, schema, nil, nil, "en")
	if o := all(byName(doc2, "/size")[0], tag("option")); len(o) != 7 || attrOr(o[0], "value") != "" || textOf(o[0]) != "Choose an option" {
		t.Errorf("size without value: %d options", len(o))
	}
	if got := textOf(all(byName(doc2, "/city")[0], tag("option"))[1]); got != "Abbiategrasso (en)" {
		t.Errorf("en option %q", got)
	}
	if story := byName(doc, "/story")[0]; story.Data != "textarea" || attrOr(story, "maxlength") != "2000" {
		t.Errorf("/story: <%s maxlength=%q>", story.Data, attrOr(story, "maxlength"))
	}
	if len(byName(doc, "/skipped")) != 0 {
		t.Error("schema false rendered")
	}
	if ref := byName(doc, "/ref")[0]; attrOr(ref, "type") != "email" || textOf(labelFor(t, doc, ref)) != "Riferimento" {
		t.Errorf("$ref: type %q label %q", attrOr(ref, "type"), textOf(labelFor(t, doc, ref)))
	}
	// Distinct pointers, distinct ids; hint ids never clash with fields.
	ids := map[string]string{}
	for _, ptr := range []string{"/a-b", "/a/b", "/a~01b", "/x~1y", "/a/hint"} {
		id := attrOr(byName(doc, ptr)[0], "id")
		if other, dup := ids[id]; dup {
			t.Errorf("%s and %s share id %q", ptr, other, id)
		}
		ids[id] = ptr
		if id != FieldID(ptr) {
			t.Errorf("%s: id %q, FieldID %q", ptr, id, FieldID(ptr))
		}
	}
	if FieldID("/a/hint") != "f-a-hint" {
		t.Errorf("FieldID(/a/hint) = %q", FieldID("/a/hint"))
	}
	if got := attrOr(byID(t, doc, "f-a"), "aria-describedby"); got == "f-a-hint" || got == "" {
		t.Errorf("group hint id %q clashes with the field /a/hint", got)
	}
	if got := textOf(byID(t, doc, attrOr(byID(t, doc, "f-a"), "aria-describedby"))); got != "group hint" {
		t.Errorf("group hint %q", got)
	}
	if got := textOf(byID(t, doc, "f-a-hint-error")); got != "errore hint" {
		t.Errorf("field /a/hint error %q", got)
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := Render([]byte(`{`), nil, nil, "it"); err == nil {
		t.Error("malformed schema accepted")
	}
	if _, err := Render(buoniSpesa(t), []byte(`{`), nil, "it"); err == nil {
		t.Error("malformed values accepted")
	}
	if _, err := Render([]byte(`{"type":"object","properties":{"a":{"$ref":"#/$defs/a"}},"$defs":{"a":{"$ref":"#/$defs/a"}}}`), nil, nil, "it"); err == nil {
		t.Error("$ref cycle accepted")
	}
	if _, err := Render([]byte(`{"type":"object","properties":{"a":{"$ref":"https://example.com/x.json"}}}`), nil, nil, "it"); err == nil {
		t.Error("remote $ref accepted")
	}
	for _, v := range []string{"", "null", "[]", `"x"`} {
		if _, err := Render(buoniSpesa(t), []byte(v), nil, "it"); err != nil {
			t.Errorf("values %q: %v", v, err)
		}
	}
}

func TestRenderConcurrent(t *testing.T) {
	schema := buoniSpesa(t)
	values := mustJSON(t, validData(t))
	want, err := Render(schema, values, nil, "it")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				got, err := Render(schema, values, nil, "it")
				if err != nil || got != want {
					t.Errorf("concurrent render differs: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
