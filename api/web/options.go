package web

import (
	"context"
	"encoding/json"
	"regexp"
)

// optionsMarker is how a schema asks for choices that depend on who fills
// it in: "x-options": "district-municipalities".
var optionsMarker = regexp.MustCompile(`"x-options"\s*:\s*"district-municipalities"`)

// withOptions returns the form's schema with the municipalities of the
// user's district as the enum (and labels) of every property carrying the
// marker, so pages render a select. The schema is patched in place, not
// re-encoded, because the order of its properties is the order of the form.
// Validation keeps using the stored schema; the filing rules check the
// district again.
func (s *Site) withOptions(ctx context.Context, schema json.RawMessage, district string) json.RawMessage {
	if !optionsMarker.Match(schema) {
		return schema
	}
	places, err := s.Store.API().Municipalities(ctx, district)
	if err != nil || len(places) == 0 {
		return schema
	}
	enum := make([]string, 0, len(places))
	titles := make(map[string]map[string]string, len(places))
	for _, p := range places {
		enum = append(enum, p.ID)
		titles[p.ID] = map[string]string{"it": p.Name, "en": p.Name}
	}
	e, err1 := json.Marshal(enum)
	t, err2 := json.Marshal(titles)
	if err1 != nil || err2 != nil {
		return schema
	}
	patch := []byte(`"x-options": "district-municipalities", "enum": ` + string(e) + `, "x-enum-titles": ` + string(t))
	out := optionsMarker.ReplaceAllLiteral(schema, patch)
	if !json.Valid(out) {
		return schema
	}
	return out
}
