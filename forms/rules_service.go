package forms

import "time"

// ServiceVoucherForm is the form id of the service voucher (buono servizi).
const ServiceVoucherForm = "buono-servizi"

// buonoServiziRules checks the service-voucher application: the food
// voucher's rules (an adult applicant, at least one adult in the
// household), then minors and elderly members that fit in the household,
// people with a disability not more than its members, and at least one kind
// of service asked for.
func buonoServiziRules(data any, version int, now time.Time) []FieldError {
	out := buoniSpesaRules(data, version, now)
	doc, _ := data.(map[string]any)

	household, _ := doc["household"].(map[string]any)
	members, okM := int64Value(household["members"])
	minors, okN := int64Value(household["minors"])
	elderly, okE := int64Value(household["elderly"])
	disabled, okD := int64Value(household["disabled"])
	if okM && okN && okE && minors < members && minors+elderly > members {
		out = append(out, crossField("/household/elderly",
			"forms.err.minors_elderly_too_many"))
	}
	if okM && okD && disabled > members {
		out = append(out, crossField("/household/disabled",
			"forms.err.disabled_too_many"))
	}

	support, _ := doc["support"].(map[string]any)
	asked := false
	for _, k := range []string{"childcare", "silvercare", "familycare"} {
		if b, _ := support[k].(bool); b {
			asked = true
		}
	}
	if !asked {
		out = append(out, crossField("/support",
			"forms.err.support_none"))
	}
	return out
}
