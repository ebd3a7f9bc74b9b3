package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/campaigns"
	"sportello/internal/store"
)

// The merchant's campaign till (/till/campaign): the resident pays at a
// participating shop and gives their tax code; the merchant chooses the
// campaign, types the tax code and the amount of the purchase, and reads
// the credit to take off the bill. A form posted twice carries the same
// key: the purchase is booked once.

type campaignTillData struct {
	Campaigns []slotOption // the campaigns the shop takes part in
	TaxCode   fieldView
	Amount    fieldView
	Key       string
	Receipt   *campaignReceipt
	Problem   string
	// Applications are the shop's applications to join campaigns, with
	// their answers (a refusal's reason).
	Applications []merchantApplication
}

type merchantApplication struct {
	Campaign, Status, Reason string
}

type campaignReceipt struct {
	Purchase, Credit, ToPay, PersonLeft string
	Capped, Replayed                    bool
}

func (s *Site) campaignTillForm(c *gin.Context, campaign, tax, amount string) (campaignTillData, error) {
	d := campaignTillData{
		TaxCode: fieldView{Name: "tax_code", ID: "tax_code", Label: s.t(c, "ctill.tax_code"), Value: tax, Hint: s.t(c, "ctill.tax_code_hint"),
			Required: true, Autocomplete: "off", Extra: map[string]string{"autocapitalize": "characters", "spellcheck": "false", "maxlength": "16"}},
		Amount: fieldView{Name: "amount", ID: "amount", Label: s.t(c, "ctill.amount"), Value: amount, Hint: s.t(c, "till.amount_hint"),
			Required: true, Autocomplete: "off", Extra: map[string]string{"inputmode": "decimal", "maxlength": "20"}},
		Key: newFormToken(),
	}
	apps, err := campaigns.New(s.core).Applications(c.Request.Context(), httpx.CurrentUser(c), "", "")
	if err != nil {
		return d, err
	}
	lang := pageLang(c)
	for _, a := range apps {
		name := a.CampaignNameIT
		if lang == "en" {
			name = a.CampaignNameEN
		}
		d.Applications = append(d.Applications, merchantApplication{Campaign: name, Status: a.Status, Reason: a.Reason})
		if a.Status == store.CampaignApproved {
			d.Campaigns = append(d.Campaigns, slotOption{Value: a.CampaignID, Text: name, Selected: a.CampaignID == campaign})
		}
	}
	return d, nil
}

func (s *Site) campaignTillPage(c *gin.Context) error {
	d, err := s.campaignTillForm(c, "", "", "")
	if err != nil {
		return err
	}
	return s.renderCampaignTill(c, http.StatusOK, d)
}

func (s *Site) campaignTillSubmit(c *gin.Context) error {
	lang := pageLang(c)
	campaign, tax, amount := strings.TrimSpace(c.PostForm("campaign")), strings.TrimSpace(c.PostForm("tax_code")), strings.TrimSpace(c.PostForm("amount"))
	d, err := s.campaignTillForm(c, campaign, tax, amount)
	if err != nil {
		return err
	}
	if key := postedKey(c); key != "" {
		d.Key = key
	}
	p := campaigns.Purchase{CampaignID: campaign, TaxCode: tax}
	if cents, ok := parseEuroInput(amount); ok && cents > 0 {
		p.PurchaseCents = &cents
	}
	res, err := campaigns.New(s.core).Record(c.Request.Context(), httpx.CurrentUser(c), p, d.Key)
	if err != nil {
		he := httpx.From(err)
		switch he.Status {
		case http.StatusUnprocessableEntity:
			for _, f := range he.Fields {
				switch f.Pointer {
				case "/tax_code":
					d.TaxCode.Error = f.In(lang)
				case "/purchase_cents":
					d.Amount.Error = s.t(c, "till.amount_invalid")
					if f.Code == "too_small" {
						d.Amount.Error = f.In(lang)
					}
				default:
					d.Problem = f.In(lang)
				}
			}
			return s.renderCampaignTill(c, http.StatusUnprocessableEntity, d)
		case http.StatusConflict, http.StatusNotFound:
			d.Problem = s.tOr(c, "ctill.err."+he.Code, s.t(c, "till.err.conflict"))
			d.Key = newFormToken() // nothing was booked: the next try is a new one
			return s.renderCampaignTill(c, he.Status, d)
		}
		return err
	}
	next, err := s.campaignTillForm(c, campaign, "", "")
	if err != nil {
		return err
	}
	next.Receipt = &campaignReceipt{Purchase: formatEuro(lang, res.PurchaseCents), Credit: formatEuro(lang, res.CreditCents),
		ToPay: formatEuro(lang, res.PurchaseCents-res.CreditCents), PersonLeft: formatEuro(lang, res.PersonLeft),
		Capped: res.Capped, Replayed: res.Replayed}
	return s.renderCampaignTill(c, http.StatusOK, next)
}

func (s *Site) renderCampaignTill(c *gin.Context, status int, d campaignTillData) error {
	v := view{Title: s.t(c, "ctill.title"), Nav: "till", Data: d,
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}}}
	for _, f := range []fieldView{d.TaxCode, d.Amount} {
		if f.Error != "" {
			v.Errors = append(v.Errors, summaryItem{Href: "#" + f.FieldID(), Text: f.Label + ": " + f.Error})
		}
	}
	s.render(c, status, "campaign_till", v)
	return nil
}
