// Package campaigns is the district's local campaigns (issue 15): a
// supervisor or the Commerce District's manager (role commerce_manager)
// creates a campaign of a municipality (a period, a budget, a rule: a
// percentage of what a resident spends at the participating shops, a cap
// per person, a least purchase; the merchant categories that may join),
// publishes it (its budget moves into the campaign's ledger account) and
// closes it (what is left goes back); merchants of the district apply,
// managers approve or reject; anyone reads the published campaigns and
// their participating shops.
//
// The resident's side: the resident pays at a participating shop as
// usual and gives their tax code; the merchant records the purchase (the
// amount, the tax code, an Idempotency-Key) and the campaign credits the
// merchant its percentage, capped per person and by the budget, booked in
// the ledger from the campaign's account to the merchant's; the resident
// pays the purchase less the credit (the shop gives it as a discount at
// the till). The merchant is reimbursed by the monthly billing run, on its
// claim to the campaign's municipality, next to its voucher redemptions.
//
// Each use case is here once: the rule, the authorization, the store call,
// the audit. The JSON API (api/campaigns.go) and the pages
// (api/web/campaigns.go) only decode their input and show the result.
package campaigns

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"sportello/forms"
	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/jsonx"
	"sportello/internal/store"
)

// Service does the campaign use cases.
type Service struct{ *app.Core }

// New returns the campaign service on core.
func New(core *app.Core) Service { return Service{core} }

// Audit actions on campaigns.
const (
	AuditCreate   = "create_campaign"
	AuditPublish  = "publish_campaign"
	AuditClose    = "close_campaign"
	AuditApply    = "apply_campaign"
	AuditDecide   = "decide_campaign_application"
	AuditPurchase = "campaign_purchase" // names the merchant and the amounts, never the person
)

// Limits of the input.
const (
	maxNameLen        = 200
	maxDescriptionLen = 2000
	maxReasonLen      = 500
	maxBudgetCents    = 100_000_000_00
	maxPurchaseCents  = 100_000_00
)

var (
	errForbidden = app.Refuse(app.Forbidden, "forbidden", "your role may not use this resource")
	anonymous    = store.Scope{Kind: "anonymous"}
)

// Manages tells the roles that run campaigns: a supervisor and the
// Commerce District's manager.
func Manages(u store.UserView) bool {
	return u.Role == string(contract.RoleSupervisor) || u.Role == string(contract.RoleCommerceManager)
}

// scopeOf is the scope a reader sees campaigns in: a manager's own (their
// district's drafts too), anyone else's the public one.
func scopeOf(u *store.UserView) store.Scope {
	if u != nil && u.ID != 0 && Manages(*u) {
		return u.Scope()
	}
	return anonymous
}

// List lists the campaigns user (nil: anonymous) sees: the published and
// closed ones, and a manager's district's drafts.
func (s Service) List(ctx context.Context, user *store.UserView, f store.CampaignFilter) ([]store.Campaign, error) {
	f.District, f.Municipality, f.Status = strings.TrimSpace(f.District), strings.TrimSpace(f.Municipality), strings.TrimSpace(f.Status)
	switch f.Status {
	case "", store.CampaignDraft, store.CampaignPublished, store.CampaignClosed:
	default:
		return nil, app.InvalidInput(app.Param("status", "enum", "campaigns.err.status"))
	}
	return s.API.Campaigns(ctx, scopeOf(user), f)
}

// Campaign reads one campaign with its participating shops (NotFound for a
// draft the reader may not see).
func (s Service) Campaign(ctx context.Context, user *store.UserView, id string) (store.Campaign, error) {
	c, err := s.API.Campaign(ctx, scopeOf(user), id)
	if errors.Is(err, store.ErrNotFound) {
		return c, app.Missing("campaign")
	}
	return c, err
}

// Rule is a campaign's rule as a request gives it.
type Rule struct {
	Percent           *int64 `json:"percent"`
	CapPerPersonCents *int64 `json:"cap_per_person_cents"`
	MinPurchaseCents  *int64 `json:"min_purchase_cents"`
}

// Draft is a new campaign as a request gives it.
type Draft struct {
	Municipality  string   `json:"municipality"`
	NameIT        string   `json:"name_it"`
	NameEN        string   `json:"name_en"`
	DescriptionIT string   `json:"description_it"`
	DescriptionEN string   `json:"description_en"`
	StartsOn      string   `json:"starts_on"`
	EndsOn        string   `json:"ends_on"`
	BudgetCents   *int64   `json:"budget_cents"`
	Rule          *Rule    `json:"rule"`
	Categories    []string `json:"categories"`
}

// check validates d on today (Europe/Rome) and gives the store's input.
func (d Draft) check(today time.Time) (store.NewCampaign, []app.FieldError) {
	var (
		fe []app.FieldError
		in = store.NewCampaign{Municipality: strings.TrimSpace(d.Municipality), NameIT: strings.TrimSpace(d.NameIT),
			NameEN: strings.TrimSpace(d.NameEN), DescriptionIT: strings.TrimSpace(d.DescriptionIT),
			DescriptionEN: strings.TrimSpace(d.DescriptionEN)}
	)
	if in.Municipality == "" {
		fe = append(fe, app.Field("/municipality", "required", "campaigns.err.municipality"))
	}
	for _, t := range []struct{ ptr, v string }{{"/name_it", in.NameIT}, {"/name_en", in.NameEN}} {
		switch {
		case t.v == "":
			fe = append(fe, app.Field(t.ptr, "required", "campaigns.err.name_required"))
		case len([]rune(t.v)) > maxNameLen:
			fe = append(fe, app.Field(t.ptr, "too_long", "campaigns.err.too_long", maxNameLen))
		}
	}
	for _, t := range []struct{ ptr, v string }{{"/description_it", in.DescriptionIT}, {"/description_en", in.DescriptionEN}} {
		if len([]rune(t.v)) > maxDescriptionLen {
			fe = append(fe, app.Field(t.ptr, "too_long", "campaigns.err.too_long", maxDescriptionLen))
		}
	}
	var startsOK, endsOK bool
	in.StartsOn, startsOK = day(d.StartsOn)
	in.EndsOn, endsOK = day(d.EndsOn)
	if !startsOK {
		fe = append(fe, app.Field("/starts_on", "date", "campaigns.err.date"))
	}
	switch {
	case !endsOK:
		fe = append(fe, app.Field("/ends_on", "date", "campaigns.err.date"))
	case startsOK && in.EndsOn.Before(in.StartsOn):
		fe = append(fe, app.Field("/ends_on", "before_start", "campaigns.err.ends_before_start"))
	case in.EndsOn.Before(today):
		fe = append(fe, app.Field("/ends_on", "past", "campaigns.err.ends_in_past"))
	}
	switch {
	case d.BudgetCents == nil:
		fe = append(fe, app.Field("/budget_cents", "required", "campaigns.err.budget_required"))
	case *d.BudgetCents <= 0 || *d.BudgetCents > maxBudgetCents:
		fe = append(fe, app.Field("/budget_cents", "range", "campaigns.err.budget_range"))
	default:
		in.BudgetCents = *d.BudgetCents
	}
	r := d.Rule
	if r == nil {
		r = &Rule{}
	}
	switch {
	case r.Percent == nil:
		fe = append(fe, app.Field("/rule/percent", "required", "campaigns.err.percent"))
	case *r.Percent < 1 || *r.Percent > 100:
		fe = append(fe, app.Field("/rule/percent", "range", "campaigns.err.percent"))
	default:
		in.Rule.Percent = *r.Percent
	}
	switch {
	case r.CapPerPersonCents == nil || *r.CapPerPersonCents < 1:
		fe = append(fe, app.Field("/rule/cap_per_person_cents", "range", "campaigns.err.cap"))
	case in.BudgetCents > 0 && *r.CapPerPersonCents > in.BudgetCents:
		fe = append(fe, app.Field("/rule/cap_per_person_cents", "over_budget", "campaigns.err.cap_over_budget"))
	default:
		in.Rule.CapPerPersonCents = *r.CapPerPersonCents
	}
	if r.MinPurchaseCents != nil {
		if *r.MinPurchaseCents < 0 || *r.MinPurchaseCents > maxPurchaseCents {
			fe = append(fe, app.Field("/rule/min_purchase_cents", "range", "campaigns.err.min_purchase"))
		} else {
			in.Rule.MinPurchaseCents = *r.MinPurchaseCents
		}
	}
	if len(d.Categories) == 0 {
		fe = append(fe, app.Field("/categories", "required", "campaigns.err.categories"))
	}
	for _, c := range d.Categories {
		if !slices.Contains(store.MerchantCategories, c) || slices.Contains(in.Categories, c) {
			fe = append(fe, app.Field("/categories", "enum", "campaigns.err.categories"))
			break
		}
		in.Categories = append(in.Categories, c)
	}
	return in, fe
}

// day parses a YYYY-MM-DD date.
func day(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	return t, err == nil
}

// today is the date in Europe/Rome, as a UTC midnight.
func (s Service) today() time.Time {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if rome, err := time.LoadLocation("Europe/Rome"); err == nil {
		now = now.In(rome)
	}
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
}

// Create creates a draft campaign of user's district. Field problems are
// Invalid (the municipality must be one of the district's).
func (s Service) Create(ctx context.Context, user store.UserView, d Draft) (store.Campaign, error) {
	if !Manages(user) {
		return store.Campaign{}, errForbidden
	}
	in, fe := d.check(s.today())
	if len(fe) > 0 {
		return store.Campaign{}, app.InvalidInput(fe...)
	}
	in.District, in.CreatedBy = user.District, user.ID
	var c store.Campaign
	err := s.Audited(ctx, user, store.AuditEntry{Action: AuditCreate,
		Detail: app.AuditDetail(map[string]any{"municipality": in.Municipality, "budget_cents": in.BudgetCents})}, func() error {
		var err error
		c, err = s.API.CreateCampaign(ctx, user.Scope(), in)
		if errors.Is(err, store.ErrCampaignMunicipality) {
			return app.InvalidInput(app.Field("/municipality", "unknown", "campaigns.err.municipality"))
		}
		return err
	})
	return c, err
}

// Publish publishes a draft of user's district (its budget moves into the
// campaign's account); Close closes a published one (what is left goes
// back). Another district's campaign is NotFound; the wrong status a
// Conflict.
func (s Service) Publish(ctx context.Context, user store.UserView, id string) (store.Campaign, error) {
	return s.transition(ctx, user, id, AuditPublish, s.API.PublishCampaign)
}

// Close closes a published campaign of user's district.
func (s Service) Close(ctx context.Context, user store.UserView, id string) (store.Campaign, error) {
	return s.transition(ctx, user, id, AuditClose, s.API.CloseCampaign)
}

func (s Service) transition(ctx context.Context, user store.UserView, id, action string,
	do func(context.Context, store.Scope, string) (store.Campaign, error)) (store.Campaign, error) {
	if !Manages(user) {
		return store.Campaign{}, errForbidden
	}
	var c store.Campaign
	err := s.Audited(ctx, user, store.AuditEntry{Action: action, Detail: app.AuditDetail(map[string]any{"campaign_id": id})}, func() error {
		var err error
		c, err = do(ctx, user.Scope(), id)
		if errors.Is(err, store.ErrNotFound) {
			return app.Missing("campaign")
		}
		return err
	})
	return c, err
}

// Apply is the merchant user's application to a published campaign of its
// district; a merchant whose category the campaign does not admit is
// Invalid (/category), a second application a Conflict.
func (s Service) Apply(ctx context.Context, user store.UserView, campaignID string) (store.CampaignApplication, error) {
	if user.Role != string(contract.RoleMerchant) || user.MerchantID == "" {
		return store.CampaignApplication{}, errForbidden
	}
	var x store.CampaignApplication
	err := s.Audited(ctx, user, store.AuditEntry{Action: AuditApply,
		Detail: app.AuditDetail(map[string]any{"campaign_id": campaignID, "merchant_id": user.MerchantID})}, func() error {
		var err error
		x, err = s.API.ApplyToCampaign(ctx, user.Scope(), user.MerchantID, campaignID)
		var cat store.ErrCategoryNotAllowed
		switch {
		case errors.As(err, &cat):
			return app.InvalidInput(app.Field("/category", "not_allowed", "campaigns.err.category_not_allowed"))
		case errors.Is(err, store.ErrNotFound):
			return app.Missing("campaign")
		}
		return err
	})
	return x, err
}

// Applications lists the applications user sees: a merchant its own, a
// manager their district's; campaign and status narrow the list.
func (s Service) Applications(ctx context.Context, user store.UserView, campaign, status string) ([]store.CampaignApplication, error) {
	f := store.ApplicationFilter{Campaign: strings.TrimSpace(campaign), Status: strings.TrimSpace(status)}
	switch {
	case Manages(user):
		f.District = user.District
	case user.Role == string(contract.RoleMerchant) && user.MerchantID != "":
		f.Merchant = user.MerchantID
	default:
		return nil, errForbidden
	}
	switch f.Status {
	case "", store.CampaignApplied, store.CampaignApproved, store.CampaignRejected:
	default:
		return nil, app.InvalidInput(app.Param("status", "enum", "campaigns.err.application_status"))
	}
	return s.API.CampaignApplications(ctx, user.Scope(), f)
}

// Decision is a manager's answer to an application.
type Decision struct {
	Decision string `json:"decision"` // approved or rejected
	Reason   string `json:"reason"`
}

// Decide approves or rejects an application of user's district, once; a
// refusal says why (the merchant reads it).
func (s Service) Decide(ctx context.Context, user store.UserView, id string, d Decision) (store.CampaignApplication, error) {
	if !Manages(user) {
		return store.CampaignApplication{}, errForbidden
	}
	d.Reason = strings.TrimSpace(d.Reason)
	var fe []app.FieldError
	if d.Decision != store.CampaignApproved && d.Decision != store.CampaignRejected {
		fe = append(fe, app.Field("/decision", "enum", "campaigns.err.decision"))
	}
	switch {
	case d.Decision == store.CampaignRejected && d.Reason == "":
		fe = append(fe, app.Field("/reason", "required", "campaigns.err.reason_required"))
	case len([]rune(d.Reason)) > maxReasonLen:
		fe = append(fe, app.Field("/reason", "too_long", "campaigns.err.too_long", maxReasonLen))
	}
	if len(fe) > 0 {
		return store.CampaignApplication{}, app.InvalidInput(fe...)
	}
	var x store.CampaignApplication
	err := s.Audited(ctx, user, store.AuditEntry{Action: AuditDecide,
		Detail: app.AuditDetail(map[string]any{"application_id": id, "decision": d.Decision})}, func() error {
		var err error
		x, err = s.API.DecideApplication(ctx, user.Scope(), id, d.Decision == store.CampaignApproved, d.Reason)
		if errors.Is(err, store.ErrNotFound) {
			return app.Missing("application")
		}
		return err
	})
	return x, err
}

// Purchase is a purchase a merchant records for a campaign.
type Purchase struct {
	CampaignID    string `json:"campaign_id"`
	TaxCode       string `json:"tax_code"`
	PurchaseCents *int64 `json:"purchase_cents"`
}

// Record credits the campaign's share of a purchase at the merchant user
// works for, once per key (required: a retried request books once).
// Field problems are Invalid (/campaign_id, /tax_code: not a valid tax
// code, or not a resident of the campaign's municipality;
// /purchase_cents: below the campaign's minimum); a closed campaign, a
// shop that is not participating, a person at the cap and a spent budget
// are Conflicts.
func (s Service) Record(ctx context.Context, user store.UserView, p Purchase, key string) (store.CampaignCredit, error) {
	if user.Role != string(contract.RoleMerchant) || user.MerchantID == "" {
		return store.CampaignCredit{}, errForbidden
	}
	tax := strings.ToUpper(strings.TrimSpace(p.TaxCode))
	var fe []app.FieldError
	if key == "" {
		fe = append(fe, app.Param("Idempotency-Key", "required", "campaigns.err.key_required"))
	}
	if strings.TrimSpace(p.CampaignID) == "" {
		fe = append(fe, app.Field("/campaign_id", "required", "campaigns.err.campaign_required"))
	}
	if !forms.ValidTaxCode(tax) {
		fe = append(fe, app.Field("/tax_code", "invalid", "campaigns.err.tax_code"))
	}
	switch {
	case p.PurchaseCents == nil:
		fe = append(fe, app.Field("/purchase_cents", "required", "campaigns.err.purchase_required"))
	case *p.PurchaseCents <= 0 || *p.PurchaseCents > maxPurchaseCents:
		fe = append(fe, app.Field("/purchase_cents", "range", "campaigns.err.purchase_range"))
	}
	if len(fe) > 0 {
		return store.CampaignCredit{}, app.InvalidInput(fe...)
	}
	hash, err := jsonx.RequestHash(map[string]any{"campaign_id": p.CampaignID, "tax_code": tax, "purchase_cents": *p.PurchaseCents})
	if err != nil {
		return store.CampaignCredit{}, err
	}
	var c store.CampaignCredit
	err = s.Audited(ctx, user, store.AuditEntry{Action: AuditPurchase, Detail: app.AuditDetail(map[string]any{
		"campaign_id": p.CampaignID, "merchant_id": user.MerchantID, "purchase_cents": *p.PurchaseCents})}, func() error {
		var err error
		c, err = s.API.RecordCampaignPurchase(ctx, user.Scope(), store.CampaignPurchase{MerchantID: user.MerchantID,
			CampaignID: strings.TrimSpace(p.CampaignID), TaxCode: tax, PurchaseCents: *p.PurchaseCents,
			IdempotencyKey: key, RequestHash: hash})
		switch {
		case errors.Is(err, store.ErrCampaignNotResident):
			return app.InvalidInput(app.Field("/tax_code", "not_resident", "campaigns.err.not_resident"))
		case errors.Is(err, store.ErrCampaignPurchaseTooSmall):
			return app.InvalidInput(app.Field("/purchase_cents", "too_small", "campaigns.err.purchase_too_small"))
		case errors.Is(err, store.ErrNotFound):
			return app.Missing("campaign")
		}
		return err
	})
	return c, err
}

// Credits lists what campaign id of user's district has credited: per
// shop (purchases, what residents spent, what the campaign added, what
// the billing run has claimed and reimbursed), the budget left, and the
// newest credits. It never names a resident, to a supervisor or to the
// Commerce District's manager alike: the tax code is not stored, and a
// person is a number within the campaign (store.CampaignCreditList).
// Another district's campaign is NotFound.
func (s Service) Credits(ctx context.Context, user store.UserView, id string) (store.CampaignCredits, error) {
	if !Manages(user) {
		return store.CampaignCredits{}, errForbidden
	}
	list, err := s.API.CampaignCreditList(ctx, user.Scope(), strings.TrimSpace(id))
	if errors.Is(err, store.ErrNotFound) {
		return list, app.Missing("campaign")
	}
	return list, err
}

// Managed reads campaign id of user's district, whatever its status, for
// its managers (another district's, even published, is NotFound).
func (s Service) Managed(ctx context.Context, user store.UserView, id string) (store.Campaign, error) {
	if !Manages(user) {
		return store.Campaign{}, errForbidden
	}
	c, err := s.Campaign(ctx, &user, id)
	if err == nil && c.District != user.District {
		return store.Campaign{}, app.Missing("campaign")
	}
	return c, err
}

// Municipalities are the municipalities a manager may create a campaign
// of: their district's.
func (s Service) Municipalities(ctx context.Context, user store.UserView) ([]store.Place, error) {
	if !Manages(user) {
		return nil, errForbidden
	}
	return s.API.Municipalities(ctx, user.District)
}

// Check gives the problems of d that Create would refuse it for (but the
// municipality's district): a form that could not even be decoded shows
// them all at once.
func (s Service) Check(d Draft) []app.FieldError {
	_, fe := d.check(s.today())
	return fe
}
