package api

import (
	"context"
	"encoding/json"
)

// withOptions returns the form's schema with the choices that depend on who
// is filling it in: a property marked "x-options": "district-municipalities"
// becomes an enum of the municipalities of the user's district, with their
// names as labels, so pages render a select. Validation keeps using the
// stored schema; the filing rules check the district again.
func (s *server) withOptions(ctx context.Context, schema json.RawMessage, district string) json.RawMessage {
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return schema
	}
	places, err := s.Store.API().Municipalities(ctx, district)
	if err != nil || len(places) == 0 {
		return schema
	}
	enum := make([]any, 0, len(places))
	titles := map[string]any{}
	for _, p := range places {
		enum = append(enum, p.ID)
		titles[p.ID] = map[string]any{"it": p.Name, "en": p.Name}
	}
	changed := false
	var walk func(v any)
	walk = func(v any) {
		switch n := v.(type) {
		case map[string]any:
			if n["x-options"] == "district-municipalities" {
				n["enum"] = enum
				n["x-enum-titles"] = titles
				changed = true
			}
			for _, child := range n {
				walk(child)
			}
		case []any:
			for _, child := range n {
				walk(child)
			}
		}
	}
	walk(root)
	if !changed {
		return schema
	}
	out, err := json.Marshal(root)
	if err != nil {
		return schema
	}
	return out
}
