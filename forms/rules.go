package forms

import (
	"encoding/json"
	"time"

	"sportello/internal/calendar"
	"sportello/internal/i18n"
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

// crossField is a problem of a rule across fields: message id and args.
func crossField(ptr, id string, args ...any) FieldError {
	return FieldError{Pointer: ptr, Code: codeCrossField, Text: i18n.M(id, args...)}
}

func buoniSpesaRules(data any, _ int, now time.Time) []FieldError {
	var out []FieldError
	doc, _ := data.(map[string]any)

	household, _ := doc["household"].(map[string]any)
	members, okM := int64Value(household["members"])
	minors, okN := int64Value(household["minors"])
	if okM && okN && minors >= members {
		out = append(out, crossField("/household/minors",
			"forms.err.minors_not_fewer"))
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
		return crossField("", "forms.err.birth_date_format"), true
	}
	ny, nm, nd := now.In(calendar.Rome()).Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)
	if !b.Before(today) {
		return crossField("", "forms.err.birth_date_future"), true
	}
	age := ny - b.Year()
	if nm < b.Month() || nm == b.Month() && nd < b.Day() {
		age--
	}
	if age < adultAge {
		return crossField("", "forms.err.applicant_minor"), true
	}
	if age > oldestAge {
		return crossField("", "forms.err.birth_date_implausible"), true
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
