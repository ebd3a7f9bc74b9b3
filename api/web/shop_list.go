package web

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// One list of shops, grouped by municipality with its filter
// (part_shops.html), for the public food-voucher shops (/shops) and a
// campaign's participating shops (/campaigns/:id).

// shopListing is a filtered list of shops as part_shops.html shows it.
type shopListing struct {
	Action     string       // the filter form's URL
	IDPrefix   string       // of the form's fields and the groups' headings
	Level      int          // heading level of a municipality: 2 or 3
	Filters    []shopFilter // the municipality, then the kind or category
	FilterText string       // the filter button
	CountText  string       // "N shops"
	EmptyText  string       // shown when nothing matches ("" shows nothing)
	Groups     []shopGroup
	Count      int
}

type shopFilter struct {
	ID, Name, Label, Col string
	Options              []slotOption
}

type shopGroup struct {
	ID, Name string
	Shops    []shopEntry
}

// shopEntry is one shop of the list: its badge is its kind or category.
type shopEntry struct {
	Name, Badge, Address string
	Sub                  string // the value the second filter matches (kind or category)
	Municipality         string
	MunicipalityName     string
}

// shopListSpec is what differs between the two lists.
type shopListSpec struct {
	Action, IDPrefix string
	Level            int
	// Sub is the second filter: its query parameter, label and choices
	// (the first one, "all", has the empty value).
	Sub, SubLabel, MunicipalityLabel, AllMunicipalities string
	SubOptions                                          []slotOption
	FilterText, EmptyText                               string
	CountText                                           func(n int) string
}

// listShops filters shops (in municipality order) by the request's
// ?municipality= and the spec's second parameter, and groups them by
// municipality; the municipality filter offers every municipality of shops.
func listShops(c *gin.Context, spec shopListSpec, shops []shopEntry) shopListing {
	municipality, sub := strings.TrimSpace(c.Query("municipality")), strings.TrimSpace(c.Query(spec.Sub))
	places := []slotOption{{Value: "", Text: spec.AllMunicipalities}}
	subs := make([]slotOption, len(spec.SubOptions))
	for i, o := range spec.SubOptions {
		o.Selected = o.Value != "" && o.Value == sub
		subs[i] = o
	}
	l := shopListing{Action: spec.Action, IDPrefix: spec.IDPrefix, Level: spec.Level, FilterText: spec.FilterText,
		EmptyText: spec.EmptyText}
	seen := map[string]bool{}
	for _, sh := range shops {
		if !seen[sh.Municipality] {
			seen[sh.Municipality] = true
			places = append(places, slotOption{Value: sh.Municipality, Text: sh.MunicipalityName, Selected: sh.Municipality == municipality})
		}
		if (municipality != "" && sh.Municipality != municipality) || (sub != "" && sh.Sub != sub) {
			continue
		}
		if n := len(l.Groups); n == 0 || l.Groups[n-1].ID != sh.Municipality {
			l.Groups = append(l.Groups, shopGroup{ID: sh.Municipality, Name: sh.MunicipalityName})
		}
		g := &l.Groups[len(l.Groups)-1]
		g.Shops = append(g.Shops, sh)
		l.Count++
	}
	l.Filters = []shopFilter{
		{ID: spec.IDPrefix + "-municipality", Name: "municipality", Label: spec.MunicipalityLabel, Col: "col-md-5", Options: places},
		{ID: spec.IDPrefix + "-" + spec.Sub, Name: spec.Sub, Label: spec.SubLabel, Col: "col-md-4", Options: subs},
	}
	l.CountText = spec.CountText(l.Count)
	return l
}
