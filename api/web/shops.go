package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/vouchers"
	"sportello/internal/store"
)

// shopsPage is /shops: anyone, filtered by ?municipality= and ?kind=; a
// logged-in person sees their district's shops.
func (s *Site) shopsPage(c *gin.Context) error {
	district := ""
	if httpx.LoggedIn(c) {
		district = httpx.CurrentUser(c).District
	}
	all, err := s.vouchers.Shops(c.Request.Context(), store.ShopFilter{District: district})
	if err != nil {
		return err
	}
	spec := shopListSpec{Action: "/shops", IDPrefix: "shops", Level: 2, Sub: "kind", SubLabel: s.t(c, "shops.kind"),
		MunicipalityLabel: s.t(c, "shops.municipality"), AllMunicipalities: s.t(c, "shops.municipality_all"),
		SubOptions: []slotOption{{Value: "", Text: s.t(c, "shops.kind_all")}}, FilterText: s.t(c, "shops.filter"),
		CountText: func(n int) string { return s.t(c, "shops.count", n) }}
	for _, k := range vouchers.ShopKinds {
		spec.SubOptions = append(spec.SubOptions, slotOption{Value: k, Text: s.t(c, "shops.kind."+k)})
	}
	entries := make([]shopEntry, 0, len(all))
	for _, sh := range all {
		entries = append(entries, shopEntry{Name: sh.Name, Badge: s.t(c, "shops.kind."+sh.Kind), Address: sh.Address, Sub: sh.Kind,
			Municipality: sh.Municipality, MunicipalityName: sh.MunicipalityName})
	}
	s.render(c, http.StatusOK, "shops", view{Title: s.t(c, "shops.title"), Nav: "shops", Data: listShops(c, spec, entries),
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}}})
	return nil
}
