package forms

import (
	"encoding/json"
	"time"

	"sportello/internal/calendar"
)

// crossFieldRule checks rules spanning several fields of a form. It runs only
// on data that satisfies the schema, so it may rely on types and required
// fields (but still checks them defensively).
type crossFieldRule func(data any, version int, now time.Time) []FieldError

// crossFieldRules maps form ids to their rules. Read-only after start-up.
var crossFieldRules = map[string]crossFieldRule{
	"buoni-spesa":      buoniSpesaRules,
	ServiceVoucherForm: buonoServiziRules,
}

// Adulthood and plausibility limits for applicants.
const (
	adultAge  = 18
	oldestAge = 120
)

func crossField(ptr, en, it string) FieldError {
	return FieldError{Pointer: ptr, Code: codeCrossField, Message: en, MessageIT: it}
}

func buoniSpesaRules(data any, _ int, now time.Time) []FieldError {
	var out []FieldError
	doc, _ := data.(map[string]any)

	household, _ := doc["household"].(map[string]any)
	members, okM := int64Value(household["members"])
	minors, okN := int64Value(household["minors"])
	if okM && okN && minors >= members {
		out = append(out, crossField("/household/minors",
			"At least one member of the household must be an adult: minors must be fewer than members.",
			"Almeno un componente del nucleo deve essere maggiorenne: i minorenni devono essere meno dei componenti."))
	}

	applicant, _ := doc["applicant"].(map[string]any)
	if s, ok := applicant["birth_date"].(string); ok {
		if p, bad := checkAdultBirthDate(s, now); bad {
			p.Pointer = "/applicant/birth_date"
			out = append(out, p)
		}
	}
	return out
}

// checkAdultBirthDate checks that birth (YYYY-MM-DD) is in the past, that the
// person is at least 18 on now's date in Europe/Rome, and that the age is
// plausible. A person born on February 29 comes of age on March 1 in common
// years.
func checkAdultBirthDate(birth string, now time.Time) (FieldError, bool) {
	b, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return crossField("", "Must be a valid date in the form YYYY-MM-DD.",
			"Deve essere una data valida nel formato AAAA-MM-GG."), true
	}
	ny, nm, nd := now.In(calendar.Rome()).Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)
	if !b.Before(today) {
		return crossField("", "The date of birth must be in the past.",
			"La data di nascita deve essere nel passato."), true
	}
	age := ny - b.Year()
	if nm < b.Month() || nm == b.Month() && nd < b.Day() {
		age--
	}
	if age < adultAge {
		return crossField("", "The applicant must be at least 18 years old.",
			"Il richiedente deve avere almeno 18 anni."), true
	}
	if age > oldestAge {
		return crossField("", "This date of birth is not plausible.",
			"Data di nascita non plausibile."), true
	}
	return FieldError{}, false
}

func int64Value(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	// Integers written as 3.0 or 3e0 pass the schema's "integer" type.
	f, err := n.Float64()
	if err != nil || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}
