package store

import (
	"context"
	"encoding/json"
)

// DistrictBrand is what the portal shows of a district: its presentation as
// its district file declares it (internal/district), stored on districts.
type DistrictBrand struct {
	ID        string
	Name      string // Italian name (districts.name)
	ShortName string
	// Presentation is districts.presentation: names and about text in
	// Italian and English, logo, colours, contacts.
	Presentation json.RawMessage
}

// DistrictBrand returns the presentation of district; without a district
// (an anonymous visitor), that of the district serving host (districts.
// hosts), else the default district (the file that says "default": true),
// else the oldest. It reads
// public data and needs no scope.
func (a API) DistrictBrand(ctx context.Context, district, host string) (DistrictBrand, error) {
	var b DistrictBrand
	err := a.s.Pool.QueryRow(ctx, `SELECT id, name, coalesce(short_name, ''), presentation FROM districts
		ORDER BY id = $1 DESC, $2 `+visitorDistrictOrder+` LIMIT 1`, district, host).
		Scan(&b.ID, &b.Name, &b.ShortName, &b.Presentation)
	return b, MapError(err)
}

// visitorDistrictOrder, after the parameter holding a host, orders the
// districts for an anonymous visitor of that host: the district serving
// it, else the default one (the district file that says "default": true,
// migration 032), else the oldest.
const visitorDistrictOrder = `= ANY(hosts) DESC, is_default DESC, created_at, id`

// VisitorDistrict is the id of the district an anonymous visitor of host
// is shown (the one DistrictBrand presents to them): the one place the
// default district is decided. It reads public data and needs no scope.
func (a API) VisitorDistrict(ctx context.Context, host string) (string, error) {
	var id string
	err := a.s.Pool.QueryRow(ctx, `SELECT id FROM districts ORDER BY $1 `+visitorDistrictOrder+` LIMIT 1`, host).Scan(&id)
	return id, MapError(err)
}
