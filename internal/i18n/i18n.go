// Package i18n is the one place where texts shown to people are chosen and
// numbers, money and dates are written for them, in Italian (first, the
// default) and English.
//
// Texts live in message files, one per language (messages/it.json,
// messages/en.json), loaded into a go-i18n bundle; a message id is dotted,
// "<area>.<what>", and a text may hold fmt verbs filled from T's extra
// arguments. Both files must hold the same ids (TestCatalogueComplete), so
// an English page never falls back to Italian unseen. Refusals travel as a
// Message (an id and its arguments, message.go) from workflows, the store,
// forms and the application services to the adapters, which write it in
// the reader's language; their ids are "<area>.err.<what>". Numbers and
// money are formatted with golang.org/x/text (grouping and decimal
// separators of the language); month names come from the message files.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// The languages: Italian first (the default), English second.
const (
	IT = "it"
	EN = "en"
)

// Languages are the supported languages, the default first.
var Languages = []string{IT, EN}

//go:embed messages/*.json
var files embed.FS

// catalogue is the bundle and a localizer per language, loaded once.
type catalogue struct {
	bundle *goi18n.Bundle
	// texts holds every message resolved once at load (language -> id ->
	// text): pages ask for hundreds per render, and a message never changes.
	texts    map[string]map[string]string
	printers map[string]*message.Printer
}

var cat = load()

// load reads the embedded message files; a broken file is a programming
// error (they are embedded) and panics at start-up.
func load() *catalogue {
	c := &catalogue{bundle: goi18n.NewBundle(language.Italian),
		texts: map[string]map[string]string{}, printers: map[string]*message.Printer{}}
	c.bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, lang := range Languages {
		name := "messages/" + lang + ".json"
		raw, err := fs.ReadFile(files, name)
		if err != nil {
			panic("i18n: " + err.Error())
		}
		if _, err := c.bundle.ParseMessageFileBytes(raw, name); err != nil {
			panic("i18n: " + name + ": " + err.Error())
		}
		var flat map[string]string
		if err := json.Unmarshal(raw, &flat); err != nil {
			panic("i18n: " + name + ": every message is one string: " + err.Error())
		}
		loc := goi18n.NewLocalizer(c.bundle, lang)
		c.texts[lang] = map[string]string{}
		for id := range flat {
			text, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: id})
			if err != nil {
				panic("i18n: " + name + ": " + id + ": " + err.Error())
			}
			c.texts[lang][id] = text
		}
		c.printers[lang] = message.NewPrinter(language.Make(lang))
	}
	return c
}

// Lang returns a supported language for s (Italian for anything else).
func Lang(s string) string {
	if s == EN {
		return EN
	}
	return IT
}

// T returns message id in lang, formatted with args (fmt verbs). A missing
// id is shown as the id itself, so that it is easy to spot; the tests make
// sure none is missing.
func T(lang, id string, args ...any) string {
	lang = Lang(lang)
	s, ok := cat.texts[lang][id]
	if !ok {
		return id
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether id has a text in every language.
func Has(id string) bool {
	for _, lang := range Languages {
		if _, ok := cat.texts[lang][id]; !ok {
			return false
		}
	}
	return true
}

// IDs returns the message ids of lang, sorted.
func IDs(lang string) []string {
	out := make([]string, 0, len(cat.texts[Lang(lang)]))
	for id := range cat.texts[Lang(lang)] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Number writes n with the language's digit grouping: 1.234 / 1,234.
func Number(lang string, n int64) string {
	return cat.printers[Lang(lang)].Sprint(number.Decimal(n))
}

// Money writes cents as euro in the language's conventions (CLDR):
// "1.234,50 €" in Italian, "€1,234.50" in English. It is the one money
// formatter of the platform: pages, e-mails, PDFs.
func Money(lang string, cents int64) string {
	sign, abs := magnitude(cents)
	if Lang(lang) == EN {
		return sign + "€" + amount(lang, abs)
	}
	return sign + amount(lang, abs) + " €"
}

// Amount writes cents as a euro amount without the symbol, grouped:
// "1.234,50" / "1,234.50".
func Amount(lang string, cents int64) string {
	sign, abs := magnitude(cents)
	return sign + amount(lang, abs)
}

// magnitude splits cents into its sign and absolute value (the smallest
// int64 included).
func magnitude(cents int64) (string, uint64) {
	if cents < 0 {
		return "-", -uint64(cents)
	}
	return "", uint64(cents)
}

// amount writes whole euros grouped and the cents apart, so that no float
// rounding is involved.
func amount(lang string, cents uint64) string {
	lang = Lang(lang)
	whole := cat.printers[lang].Sprint(number.Decimal(cents / 100))
	dec := ","
	if lang == EN {
		dec = "."
	}
	return fmt.Sprintf("%s%s%02d", whole, dec, cents%100)
}

// WholeEuro writes an amount in whole euro (an ISEE): "10.000 €" / "€10,000".
func WholeEuro(lang string, euro int64) string {
	lang = Lang(lang)
	n := Number(lang, euro)
	if lang == EN {
		return "€" + n
	}
	return n + " €"
}

// MoneyInput writes cents as a form field's value, without symbol or
// grouping: "1234,50" in Italian, "1234.50" in English.
func MoneyInput(lang string, cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	sep := ","
	if Lang(lang) == EN {
		sep = "."
	}
	return fmt.Sprintf("%s%d%s%02d", sign, cents/100, sep, cents%100)
}

// Date writes a day in loc: "3 marzo 2026" / "3 March 2026"; "" for the
// zero time.
func Date(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(loc)
	return fmt.Sprintf("%d %s %d", t.Day(), Month(lang, int(t.Month())), t.Year())
}

// Month is the name of month (1-12) in lang, lower case in Italian.
func Month(lang string, month int) string { return T(lang, fmt.Sprintf("month.%d", month)) }

// DateTime writes an instant in loc with hours and minutes:
// "3 marzo 2026, ore 09:30" / "3 March 2026, 09:30".
func DateTime(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return T(lang, "time.date_at", Date(lang, t, loc), t.In(loc).Format("15:04"))
}

// ValidUntil is the one wording of how long something that ends at t
// (a voucher's expiry) can be used, in loc: "valido fino al 31 marzo 2027
// (incluso)" / "valid until 31 March 2027 (inclusive)" when it ends at
// midnight (the last day is the day before), else with the time of day
// ("valido fino al 31 marzo 2027, ore 12:00"). Pages, e-mails, contact
// texts and the printed voucher all write it this way.
func ValidUntil(lang string, t time.Time, loc *time.Location) string {
	r := t.In(loc)
	if r.Hour() == 0 && r.Minute() == 0 && r.Second() == 0 {
		return T(lang, "voucher.valid_until", Date(lang, r.AddDate(0, 0, -1), loc))
	}
	return T(lang, "voucher.valid_until_at", DateTime(lang, r, loc))
}
