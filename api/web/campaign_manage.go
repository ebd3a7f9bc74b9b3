package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/campaigns"
	"sportello/internal/store"
)

// The campaign managers' pages (supervisors and the Commerce District's
// manager): their district's campaigns, a new one (field by field), publish
// and close, the merchants' applications (approve, or refuse with a
// reason), and each campaign's credits. Every decision is
// internal/app/campaigns'; these pages decode forms and show results.

const manageCampaigns = "/manage/campaigns"

func manageCampaignPath(id string) string { return manageCampaigns + "/" + url.PathEscape(id) }

// manageRow is one campaign of the managers' list.
type manageRow struct {
	Card                 campaignCard
	CanPublish, CanClose bool
}

// manageCampaignsPage is /manage/campaigns: the district's campaigns,
// drafts included.
func (s *Site) manageCampaignsPage(c *gin.Context) error {
	user := httpx.CurrentUser(c)
	list, err := campaigns.New(s.core).List(c.Request.Context(), &user, store.CampaignFilter{District: user.District})
	if err != nil {
		return err
	}
	rows := make([]manageRow, 0, len(list))
	for _, k := range list {
		rows = append(rows, manageRow{Card: s.campaignCard(c, k), CanPublish: k.Status == store.CampaignDraft,
			CanClose: k.Status == store.CampaignPublished})
	}
	s.render(c, http.StatusOK, "campaign_manage", view{Title: s.t(c, "cmanage.title"), Nav: "manage-campaigns", Data: rows,
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}}})
	return nil
}

// campaignFormData is the new campaign's form.
type campaignFormData struct {
	Municipality    fieldChoice
	Fields          []fieldView // names and dates
	Descriptions    []fieldView
	Money           []fieldView // budget and rule
	Categories      []staffOption
	CategoriesError string
}

// fieldChoice is a select with its label and error.
type fieldChoice struct {
	ID, Label, Error string
	Options          []staffOption
}

// campaignFields are the form's text fields: name, pointer, key, type.
var campaignFields = []struct{ name, pointer, key, typ string }{
	{"name_it", "/name_it", "cmanage.name_it", "text"},
	{"name_en", "/name_en", "cmanage.name_en", "text"},
	{"starts_on", "/starts_on", "cmanage.starts_on", "date"},
	{"ends_on", "/ends_on", "cmanage.ends_on", "date"},
	{"description_it", "/description_it", "cmanage.description_it", "textarea"},
	{"description_en", "/description_en", "cmanage.description_en", "textarea"},
	{"budget", "/budget_cents", "cmanage.budget", "euro"},
	{"percent", "/rule/percent", "cmanage.percent", "number"},
	{"cap", "/rule/cap_per_person_cents", "cmanage.cap", "euro"},
	{"min_purchase", "/rule/min_purchase_cents", "cmanage.min_purchase", "euro"},
}

func (s *Site) manageNewPage(c *gin.Context) error {
	return s.renderCampaignForm(c, http.StatusOK, url.Values{}, nil)
}

// manageNewSubmit creates a draft: the form again with the problems
// (422), or the new campaign's page.
func (s *Site) manageNewSubmit(c *gin.Context) error {
	if err := c.Request.ParseForm(); err != nil {
		return err
	}
	form := c.Request.PostForm
	d := campaigns.Draft{Municipality: form.Get("municipality"), NameIT: form.Get("name_it"), NameEN: form.Get("name_en"),
		DescriptionIT: form.Get("description_it"), DescriptionEN: form.Get("description_en"),
		StartsOn: form.Get("starts_on"), EndsOn: form.Get("ends_on"), Categories: form["categories"], Rule: &campaigns.Rule{}}
	var bad []FieldError
	euro := func(name, pointer string, required bool) *int64 {
		v := strings.TrimSpace(form.Get(name))
		if v == "" && !required {
			return nil
		}
		if cents, ok := parseEuroInput(v); ok {
			return &cents
		}
		if v != "" {
			bad = append(bad, app.Field(pointer, "euro", "cmanage.err.euro"))
		}
		return nil
	}
	d.BudgetCents = euro("budget", "/budget_cents", true)
	d.Rule.CapPerPersonCents = euro("cap", "/rule/cap_per_person_cents", true)
	d.Rule.MinPurchaseCents = euro("min_purchase", "/rule/min_purchase_cents", false)
	if n, err := strconv.ParseInt(strings.TrimSpace(form.Get("percent")), 10, 64); err == nil {
		d.Rule.Percent = &n
	}
	svc := campaigns.New(s.core)
	if len(bad) > 0 { // a amount that is not one: nothing is created, every problem shown
		return s.renderCampaignForm(c, http.StatusUnprocessableEntity, form, mergeProblems(bad, svc.Check(d)))
	}
	k, err := svc.Create(c.Request.Context(), httpx.CurrentUser(c), d)
	if he := httpx.From(err); err != nil && he.Status == http.StatusUnprocessableEntity {
		return s.renderCampaignForm(c, http.StatusUnprocessableEntity, form, he.Fields)
	}
	if err != nil {
		return err
	}
	setFlash(c, "success", "cmanage.created")
	redirect(c, manageCampaignPath(k.ID))
	return nil
}

// mergeProblems is first with the problems of more at other pointers.
func mergeProblems(first, more []FieldError) []FieldError {
	out := slices.Clone(first)
	for _, f := range more {
		if !slices.ContainsFunc(first, func(b FieldError) bool { return b.Pointer == f.Pointer }) {
			out = append(out, f)
		}
	}
	return out
}

func (s *Site) renderCampaignForm(c *gin.Context, status int, form url.Values, problems []FieldError) error {
	places, err := campaigns.New(s.core).Municipalities(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	lang := pageLang(c)
	v := view{Title: s.t(c, "cmanage.new_title"), Nav: "manage-campaigns",
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}, {Href: manageCampaigns, Text: s.t(c, "cmanage.title")}}}
	errs := map[string]string{}
	d := campaignFormData{Municipality: fieldChoice{ID: "campaign-municipality", Label: s.t(c, "cmanage.municipality")}}
	for _, p := range problems {
		msg := p.In(lang)
		switch p.Pointer {
		case "/municipality":
			d.Municipality.Error = msg
			v.Errors = append(v.Errors, summaryItem{Href: "#campaign-municipality", Text: d.Municipality.Label + ": " + msg})
			continue
		case "/categories":
			d.CategoriesError = msg
			v.Errors = append(v.Errors, summaryItem{Href: "#campaign-category-" + store.MerchantCategories[0],
				Text: s.t(c, "cmanage.categories") + ": " + msg})
			continue
		}
		for _, f := range campaignFields {
			if f.pointer == p.Pointer && errs[f.name] == "" {
				errs[f.name] = msg
				v.Errors = append(v.Errors, summaryItem{Href: "#campaign-" + strings.ReplaceAll(f.name, "_", "-"), Text: s.t(c, f.key) + ": " + msg})
			}
		}
	}
	for _, p := range places {
		d.Municipality.Options = append(d.Municipality.Options, staffOption{Value: p.ID, Label: p.Name, Selected: p.ID == form.Get("municipality")})
	}
	for _, cat := range store.MerchantCategories {
		d.Categories = append(d.Categories, staffOption{Value: cat, Label: s.t(c, "campaigns.category."+cat),
			Selected: slices.Contains(form["categories"], cat)})
	}
	for _, f := range campaignFields {
		fv := fieldView{Name: f.name, ID: "campaign-" + strings.ReplaceAll(f.name, "_", "-"), Label: s.t(c, f.key), Type: f.typ,
			Value: form.Get(f.name), Error: errs[f.name], Required: !strings.HasPrefix(f.name, "description") && f.name != "min_purchase",
			Autocomplete: "off"}
		if h := f.key + "_hint"; hasMessage(h) {
			fv.Hint = s.t(c, h)
		}
		switch f.typ {
		case "textarea":
			fv.Type = ""
			d.Descriptions = append(d.Descriptions, fv)
		case "euro", "number":
			fv.Type, fv.Extra = "text", map[string]string{"inputmode": "decimal"}
			if f.typ == "number" {
				fv.Extra["inputmode"] = "numeric"
			}
			d.Money = append(d.Money, fv)
		default:
			d.Fields = append(d.Fields, fv)
		}
	}
	v.Data = d
	s.render(c, status, "campaign_new", v)
	return nil
}

// manageCampaignData is one campaign's page for its managers.
type manageCampaignData struct {
	Row          manageRow
	Categories   string
	Applications []applicationRow
	Credits      creditsView
}

type applicationRow struct {
	ID, Merchant, Category, Municipality, Status, Applied, Reason string
	Pending                                                       bool
	ReasonField                                                   fieldView
}

// creditsView is the campaign's credits as the page shows them.
type creditsView struct {
	Budget, Remaining, Spent, Credited, Claimed, Reimbursed string
	Purchases, Persons                                      int
	Shops                                                   []creditShopRow
	Lines                                                   []creditLineRow
}

type creditShopRow struct {
	Name, Municipality, Category         string
	Purchases                            int
	Spent, Credited, Claimed, Reimbursed string
}

type creditLineRow struct {
	At, AtISO, Shop, Person, Purchase, Credit, Billing string
}

// manageCampaignPage is /manage/campaigns/:id.
func (s *Site) manageCampaignPage(c *gin.Context) error {
	return s.renderManagedCampaign(c, http.StatusOK, c.Param("id"), "", nil)
}

// renderManagedCampaign shows campaign id; failedApp's reason field shows
// problems (a refused decision).
func (s *Site) renderManagedCampaign(c *gin.Context, status int, id, failedApp string, problems []FieldError) error {
	ctx, user, lang := c.Request.Context(), httpx.CurrentUser(c), pageLang(c)
	svc := campaigns.New(s.core)
	k, err := svc.Managed(ctx, user, id)
	if err != nil {
		return err
	}
	apps, err := svc.Applications(ctx, user, k.ID, "")
	if err != nil {
		return err
	}
	credits, err := svc.Credits(ctx, user, k.ID)
	if err != nil {
		return err
	}
	euro := func(v int64) string { return formatEuro(lang, v) }
	d := manageCampaignData{Row: manageRow{Card: s.campaignCard(c, k), CanPublish: k.Status == store.CampaignDraft,
		CanClose: k.Status == store.CampaignPublished}}
	var cats []string
	for _, cat := range k.Categories {
		cats = append(cats, s.t(c, "campaigns.category."+cat))
	}
	d.Categories = strings.Join(cats, ", ")
	v := view{Title: d.Row.Card.Name, Nav: "manage-campaigns",
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}, {Href: manageCampaigns, Text: s.t(c, "cmanage.title")}}}
	for _, a := range apps {
		r := applicationRow{ID: a.ID, Merchant: a.MerchantName, Category: s.t(c, "campaigns.category."+a.MerchantCategory),
			Municipality: a.Municipality, Status: a.Status, Applied: formatDate(lang, a.AppliedAt), Reason: a.Reason,
			Pending: a.Status == store.CampaignApplied,
			ReasonField: fieldView{Name: "reason", ID: "reason-" + a.ID, Label: s.t(c, "cmanage.reason", a.MerchantName),
				Hint: s.t(c, "cmanage.reason_hint"), Autocomplete: "off"}}
		if a.ID == failedApp {
			r.ReasonField.Value = c.PostForm("reason")
			for _, p := range problems {
				r.ReasonField.Error = p.In(lang)
				v.Errors = append(v.Errors, summaryItem{Href: "#" + r.ReasonField.ID, Text: r.ReasonField.Label + ": " + r.ReasonField.Error})
			}
		}
		d.Applications = append(d.Applications, r)
	}
	d.Credits = creditsView{Budget: euro(credits.BudgetCents), Remaining: euro(credits.RemainingCents), Spent: euro(credits.SpentCents),
		Credited: euro(credits.CreditedCents), Claimed: euro(credits.ClaimedCents), Reimbursed: euro(credits.ReimbursedCents),
		Purchases: credits.Purchases, Persons: credits.Persons}
	for _, sh := range credits.Shops {
		d.Credits.Shops = append(d.Credits.Shops, creditShopRow{Name: sh.Name, Municipality: sh.MunicipalityName,
			Category: s.t(c, "campaigns.category."+sh.Category), Purchases: sh.Purchases, Spent: euro(sh.SpentCents),
			Credited: euro(sh.CreditedCents), Claimed: euro(sh.ClaimedCents), Reimbursed: euro(sh.ReimbursedCents)})
	}
	for _, l := range credits.Credits {
		d.Credits.Lines = append(d.Credits.Lines, creditLineRow{At: formatDateTime(lang, l.CreatedAt), AtISO: l.CreatedAt.Format(time.RFC3339),
			Shop: l.MerchantName, Person: s.t(c, "cmanage.person", l.Person), Purchase: euro(l.PurchaseCents),
			Credit: euro(l.CreditCents), Billing: s.t(c, "cmanage.billing."+l.Billing)})
	}
	v.Data = d
	s.render(c, status, "campaign_admin", v)
	return nil
}

// manageTransitionSubmit publishes or closes a campaign: a flash says
// what happened (a conflict, why not).
func (s *Site) manageTransitionSubmit(publish bool) func(*gin.Context) error {
	return func(c *gin.Context) error {
		svc, user, id := campaigns.New(s.core), httpx.CurrentUser(c), c.Param("id")
		do, done := svc.Close, "cmanage.closed"
		if publish {
			do, done = svc.Publish, "cmanage.published"
		}
		k, err := do(c.Request.Context(), user, id)
		if he := httpx.From(err); err != nil && he.Status == http.StatusConflict {
			setFlash(c, "danger", s.tOrKey("cmanage.err."+he.Code, "cmanage.err.conflict"))
			redirect(c, manageCampaignPath(id))
			return nil
		}
		if err != nil {
			return err
		}
		setFlash(c, "success", done)
		redirect(c, manageCampaignPath(k.ID))
		return nil
	}
}

// tOrKey is key when the catalogue has it, otherwise fallback.
func (s *Site) tOrKey(key, fallback string) string {
	if hasMessage(key) {
		return key
	}
	return fallback
}

// manageDecisionSubmit approves or refuses an application (the form names
// its campaign, to come back to it).
func (s *Site) manageDecisionSubmit(c *gin.Context) error {
	campaign := strings.TrimSpace(c.PostForm("campaign"))
	_, err := campaigns.New(s.core).Decide(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"),
		campaigns.Decision{Decision: c.PostForm("decision"), Reason: c.PostForm("reason")})
	he := httpx.From(err)
	switch {
	case err == nil:
		key := "cmanage.approved"
		if c.PostForm("decision") == store.CampaignRejected {
			key = "cmanage.refused"
		}
		setFlash(c, "success", key)
	case he.Status == http.StatusUnprocessableEntity:
		return s.renderManagedCampaign(c, http.StatusUnprocessableEntity, campaign, c.Param("id"), he.Fields)
	case he.Status == http.StatusConflict:
		setFlash(c, "danger", s.tOrKey("cmanage.err."+he.Code, "cmanage.err.conflict"))
	default:
		return err
	}
	redirect(c, manageCampaignPath(campaign))
	return nil
}
