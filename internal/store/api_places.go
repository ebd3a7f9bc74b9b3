package store

import "context"

// Place is a municipality as pages list it.
type Place struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Municipalities lists a district's municipalities by name (reference data,
// readable by everyone).
func (a API) Municipalities(ctx context.Context, district string) ([]Place, error) {
	rows, err := a.s.Pool.Query(ctx, `SELECT id, name FROM municipalities WHERE district_id = $1 ORDER BY name`, district)
	if err != nil {
		return nil, MapError(err)
	}
	defer rows.Close()
	var out []Place
	for rows.Next() {
		var p Place
		if err := rows.Scan(&p.ID, &p.Name); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, MapError(rows.Err())
}
