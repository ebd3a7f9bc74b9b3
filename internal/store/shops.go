package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Shop is a merchant where a food voucher of its district can be spent,
// as anyone may see it.
type Shop struct {
	ID               string `json:"id"`
	District         string `json:"district"`
	Municipality     string `json:"municipality"`
	MunicipalityName string `json:"municipality_name"`
	Name             string `json:"name"`
	Kind             string `json:"kind"` // shop, pharmacy
	Address          string `json:"address"`
}

// ShopFilter narrows the list of shops ("" = any).
type ShopFilter struct {
	District, Municipality, Kind string
	// Categories keeps the merchants of these categories (the domain's
	// food-voucher rule, internal/app/vouchers); nil keeps none.
	Categories []string
}

// Shops lists the merchants matching f, by municipality, kind and name.
func (a API) Shops(ctx context.Context, scope Scope, f ShopFilter) ([]Shop, error) {
	out := []Shop{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT me.id, me.district_id, me.municipality_id, m.name, me.name, me.kind, me.address
			FROM merchants me JOIN municipalities m ON m.id = me.municipality_id
			WHERE me.category = ANY($4) -- the food-voucher shops; a campaign's other shops are its own (campaigns.go)
			  AND ($1 = '' OR me.district_id = $1) AND ($2 = '' OR me.municipality_id = $2) AND ($3 = '' OR me.kind = $3)
			ORDER BY m.name, me.kind, me.name, me.id`, f.District, f.Municipality, f.Kind, f.Categories)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s Shop
			if err := rows.Scan(&s.ID, &s.District, &s.Municipality, &s.MunicipalityName, &s.Name, &s.Kind, &s.Address); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, MapError(err)
}
