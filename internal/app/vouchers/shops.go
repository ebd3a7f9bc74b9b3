package vouchers

import (
	"context"
	"slices"
	"strings"

	"sportello/internal/app"
	"sportello/internal/store"
)

// ShopKinds are the kinds of merchant a food voucher can be spent at.
var ShopKinds = []string{"shop", "pharmacy"}

// FoodVoucherCategories are the merchant categories a food voucher pays
// at: food shops and pharmacies (health), as the food-voucher calls say.
// A shop of another category (a bookshop that joined a local campaign)
// refuses it at the till, and is not in the public list of shops.
var FoodVoucherCategories = []string{"food", "health"}

// anonymous is the scope of the public list of shops.
var anonymous = store.Scope{Kind: "anonymous"}

// Shops lists, for anyone, the merchants where a food voucher of their
// district can be spent, filtered by district, municipality and kind; an
// unknown kind is a problem of the parameter "kind".
func (s Service) Shops(ctx context.Context, f store.ShopFilter) ([]store.Shop, error) {
	f.District, f.Municipality, f.Kind = strings.TrimSpace(f.District), strings.TrimSpace(f.Municipality), strings.TrimSpace(f.Kind)
	if f.Kind != "" && !slices.Contains(ShopKinds, f.Kind) {
		return nil, app.InvalidInput(app.Param("kind", "enum", "shops.err.kind"))
	}
	f.Categories = FoodVoucherCategories
	return s.API.Shops(ctx, anonymous, f)
}
