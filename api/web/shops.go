package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/vouchers"
	"sportello/internal/store"
)

// shopsData is the public list of the shops where a food voucher can be
// spent: the filter and the shops grouped by municipality.
type shopsData struct {
	Municipalities []slotOption // the filter's choices (Value: id)
	Kinds          []slotOption
	Groups         []shopGroup
	Count          int
}

type shopGroup struct {
	ID, Name string
	Shops    []store.Shop
}

// shopsPage is /shops: anyone, filtered by ?municipality= and ?kind=; a
// logged-in person sees their district's shops.
func (s *Site) shopsPage(c *gin.Context) error {
	ctx := c.Request.Context()
	district := ""
	if httpx.LoggedIn(c) {
		district = httpx.CurrentUser(c).District
	}
	all, err := s.vouchers.Shops(ctx, store.ShopFilter{District: district})
	if err != nil {
		return err
	}
	municipality, kind := strings.TrimSpace(c.Query("municipality")), strings.TrimSpace(c.Query("kind"))
	d := shopsData{Kinds: []slotOption{{Value: "", Text: s.t(c, "shops.kind_all")}},
		Municipalities: []slotOption{{Value: "", Text: s.t(c, "shops.municipality_all")}}}
	for _, k := range vouchers.ShopKinds {
		d.Kinds = append(d.Kinds, slotOption{Value: k, Text: s.t(c, "shops.kind."+k), Selected: k == kind})
	}
	seen := map[string]bool{}
	for _, sh := range all {
		if !seen[sh.Municipality] {
			seen[sh.Municipality] = true
			d.Municipalities = append(d.Municipalities, slotOption{Value: sh.Municipality, Text: sh.MunicipalityName,
				Selected: sh.Municipality == municipality})
		}
		if (municipality != "" && sh.Municipality != municipality) || (kind != "" && sh.Kind != kind) {
			continue
		}
		if n := len(d.Groups); n == 0 || d.Groups[n-1].ID != sh.Municipality {
			d.Groups = append(d.Groups, shopGroup{ID: sh.Municipality, Name: sh.MunicipalityName})
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Shops = append(g.Shops, sh)
		d.Count++
	}
	s.render(c, http.StatusOK, "shops", view{Title: s.t(c, "shops.title"), Nav: "shops", Data: d,
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}}})
	return nil
}
