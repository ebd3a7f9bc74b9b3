package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/campaigns"
	"sportello/internal/store"
)

// The public pages of the local campaigns (issue 15): the published
// campaigns, and each one's participating shops by municipality and
// category. No login; the use cases are internal/app/campaigns'.

// campaignCard is a campaign as the pages show it, in the reader's language.
type campaignCard struct {
	ID, Name, Description, Municipality string
	Period, Rule, Budget                string
	Status                              string
}

func (s *Site) campaignCard(c *gin.Context, k store.Campaign) campaignCard {
	lang := pageLang(c)
	name, desc := k.NameIT, k.DescriptionIT
	if lang == "en" {
		name, desc = k.NameEN, k.DescriptionEN
	}
	day := func(v string) string {
		t, err := time.ParseInLocation(time.DateOnly, v, time.UTC)
		if err != nil {
			return v
		}
		return formatDate(lang, t.Add(12*time.Hour)) // midday: the same day in Rome
	}
	return campaignCard{ID: k.ID, Name: name, Description: desc, Municipality: k.MunicipalityName, Status: k.Status,
		Period: s.t(c, "campaigns.period", day(k.StartsOn), day(k.EndsOn)),
		Rule: s.t(c, "campaigns.rule", k.Rule.Percent, formatEuro(lang, k.Rule.CapPerPersonCents),
			formatEuro(lang, k.Rule.MinPurchaseCents)),
		Budget: s.t(c, "campaigns.budget_left", formatEuro(lang, k.RemainingCents), formatEuro(lang, k.BudgetCents))}
}

// campaignsPage is /campaigns: the published campaigns, for anyone.
func (s *Site) campaignsPage(c *gin.Context) error {
	list, err := campaigns.New(s.core).List(c.Request.Context(), nil, store.CampaignFilter{Status: store.CampaignPublished})
	if err != nil {
		return err
	}
	cards := make([]campaignCard, 0, len(list))
	for _, k := range list {
		cards = append(cards, s.campaignCard(c, k))
	}
	s.render(c, http.StatusOK, "campaigns", view{Title: s.t(c, "campaigns.title"), Nav: "campaigns", Data: cards,
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}}})
	return nil
}

// campaignShopsData is one campaign's page: the campaign and its shops.
type campaignShopsData struct {
	Campaign campaignCard
	Shops    shopListing
	CanApply bool // a merchant, the campaign running
}

// campaignPage is /campaigns/:id: a published or closed campaign's
// participating shops, filtered by ?municipality= and ?category=.
func (s *Site) campaignPage(c *gin.Context) error {
	k, err := campaigns.New(s.core).Campaign(c.Request.Context(), nil, c.Param("id"))
	if err != nil {
		return err
	}
	spec := shopListSpec{Action: "/campaigns/" + k.ID, IDPrefix: "campaign", Level: 3, Sub: "category",
		SubLabel: s.t(c, "campaigns.filter_category"), MunicipalityLabel: s.t(c, "campaigns.filter_municipality"),
		AllMunicipalities: s.t(c, "campaigns.all_municipalities"),
		SubOptions:        []slotOption{{Value: "", Text: s.t(c, "campaigns.all_categories")}},
		FilterText:        s.t(c, "campaigns.filter"), EmptyText: s.t(c, "campaigns.no_shops"),
		CountText: func(n int) string { return s.t(c, "campaigns.shops_count", n) }}
	for _, cat := range k.Categories {
		spec.SubOptions = append(spec.SubOptions, slotOption{Value: cat, Text: s.t(c, "campaigns.category."+cat)})
	}
	entries := make([]shopEntry, 0, len(k.Shops))
	for _, sh := range k.Shops {
		entries = append(entries, shopEntry{Name: sh.Name, Badge: s.t(c, "campaigns.category."+sh.Category), Address: sh.Address,
			Sub: sh.Category, Municipality: sh.Municipality, MunicipalityName: sh.MunicipalityName})
	}
	d := campaignShopsData{Campaign: s.campaignCard(c, k), Shops: listShops(c, spec, entries),
		CanApply: httpx.LoggedIn(c) && httpx.CurrentUser(c).Role == roleMerchant && k.Status == store.CampaignPublished}
	s.render(c, http.StatusOK, "campaign", view{Title: d.Campaign.Name, Nav: "campaigns", Data: d,
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}, {Href: "/campaigns", Text: s.t(c, "campaigns.title")}}})
	return nil
}

// campaignApplySubmit is a merchant's application to join campaign :id:
// a flash says how it went.
func (s *Site) campaignApplySubmit(c *gin.Context) error {
	id := c.Param("id")
	_, err := campaigns.New(s.core).Apply(c.Request.Context(), httpx.CurrentUser(c), id)
	he := httpx.From(err)
	switch {
	case err == nil:
		setFlash(c, "success", "campaigns.applied")
	case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
		setFlash(c, "danger", "campaigns.apply_refused", he.Fields[0].In(pageLang(c)))
	case he.Status == http.StatusConflict:
		setFlash(c, "danger", s.tOrKey("campaigns.apply_err."+he.Code, "cmanage.err.conflict"))
	default:
		return err
	}
	redirect(c, "/campaigns/"+url.PathEscape(id))
	return nil
}
