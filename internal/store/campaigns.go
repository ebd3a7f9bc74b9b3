package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Local campaigns (migration 028): a municipality adds a percentage of
// what a resident spends at the participating shops, from the campaign's
// budget, up to a cap per person. The campaign's money is in the ledger:
// its budget moves from the district's funding account to the campaign's
// account when it is published, each credit from there to the merchant's
// account (billed to the campaign's municipality by the monthly billing
// run, like a redemption), and what is left back to funding when it closes.

// Campaign statuses.
const (
	CampaignDraft     = "draft"
	CampaignPublished = "published"
	CampaignClosed    = "closed"
)

// Application statuses of a merchant in a campaign.
const (
	CampaignApplied  = "applied"
	CampaignApproved = "approved"
	CampaignRejected = "rejected"
)

// Ledger names of the campaigns.
const (
	AccountCampaign        = "campaign"
	TransferCampaignBudget = "campaign_budget" // funding -> campaign, when published
	TransferCampaignCredit = "campaign_credit" // campaign -> merchant, per purchase
	TransferCampaignReturn = "campaign_return" // campaign -> funding, what is left when closed
)

// MerchantCategories are the categories of merchant a campaign may admit.
var MerchantCategories = []string{"food", "health", "clothing", "books", "home", "dining", "services", "other"}

// CampaignAccountID holds a published campaign's unspent budget.
func CampaignAccountID(campaignID string) string { return "campaign:" + campaignID }

// CampaignRule is what the campaign adds to a purchase.
type CampaignRule struct {
	Percent           int64 `json:"percent"`              // of the purchase, 1..100, rounded down to the cent
	CapPerPersonCents int64 `json:"cap_per_person_cents"` // the most a person is credited over the campaign
	MinPurchaseCents  int64 `json:"min_purchase_cents"`   // the least purchase that earns a credit
}

// Credit is what the rule adds to a purchase of cents, before the caps.
func (r CampaignRule) Credit(purchaseCents int64) int64 { return purchaseCents * r.Percent / 100 }

// Campaign is a campaign as the API shows it.
type Campaign struct {
	ID               string       `json:"id"`
	District         string       `json:"district"`
	Municipality     string       `json:"municipality"`
	MunicipalityName string       `json:"municipality_name"`
	NameIT           string       `json:"name_it"`
	NameEN           string       `json:"name_en"`
	DescriptionIT    string       `json:"description_it"`
	DescriptionEN    string       `json:"description_en"`
	StartsOn         string       `json:"starts_on"` // YYYY-MM-DD, Europe/Rome
	EndsOn           string       `json:"ends_on"`
	BudgetCents      int64        `json:"budget_cents"`
	RemainingCents   int64        `json:"remaining_cents"` // budget not yet credited (the whole budget while a draft, 0 once closed)
	Rule             CampaignRule `json:"rule"`
	Categories       []string     `json:"categories"`
	Status           string       `json:"status"`
	CreatedAt        time.Time    `json:"created_at"`
	PublishedAt      *time.Time   `json:"published_at,omitempty"`
	ClosedAt         *time.Time   `json:"closed_at,omitempty"`
	// Shops are the approved participating shops (one campaign's read only).
	Shops []CampaignShop `json:"shops,omitempty"`
}

// CampaignShop is a participating shop, as anyone may see it.
type CampaignShop struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Municipality     string `json:"municipality"`
	MunicipalityName string `json:"municipality_name"`
	Category         string `json:"category"`
	Address          string `json:"address"`
}

// NewCampaign is a campaign to create (a draft).
type NewCampaign struct {
	District, Municipality       string
	NameIT, NameEN               string
	DescriptionIT, DescriptionEN string
	StartsOn, EndsOn             time.Time
	BudgetCents                  int64
	Rule                         CampaignRule
	Categories                   []string
	CreatedBy                    int64
}

// ErrCampaignMunicipality: the municipality is not one of the district's.
var ErrCampaignMunicipality = errors.New("the municipality is not in the district")

const campaignColumns = `c.id::text, c.district_id, c.municipality_id, m.name, c.name_it, c.name_en, c.description_it,
	c.description_en, to_char(c.starts_on, 'YYYY-MM-DD'), to_char(c.ends_on, 'YYYY-MM-DD'), c.budget_cents,
	CASE c.status WHEN 'draft' THEN c.budget_cents ELSE coalesce(a.balance_cents, 0) END,
	c.rule, c.categories, c.status, c.created_at, c.published_at, c.closed_at`

const campaignFrom = ` FROM campaigns c JOIN municipalities m ON m.id = c.municipality_id
	LEFT JOIN accounts a ON a.id = 'campaign:' || c.id::text`

func scanCampaign(row pgx.Row) (Campaign, error) {
	var (
		c    Campaign
		rule []byte
	)
	err := row.Scan(&c.ID, &c.District, &c.Municipality, &c.MunicipalityName, &c.NameIT, &c.NameEN, &c.DescriptionIT,
		&c.DescriptionEN, &c.StartsOn, &c.EndsOn, &c.BudgetCents, &c.RemainingCents, &rule, &c.Categories, &c.Status,
		&c.CreatedAt, &c.PublishedAt, &c.ClosedAt)
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(rule, &c.Rule)
}

// CreateCampaign stores a new draft campaign under scope (row-level
// security lets only the district's managers write it).
func (a API) CreateCampaign(ctx context.Context, scope Scope, in NewCampaign) (Campaign, error) {
	var c Campaign
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM municipalities WHERE id = $1 AND district_id = $2)`,
			in.Municipality, in.District).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return ErrCampaignMunicipality
		}
		rule, err := json.Marshal(in.Rule)
		if err != nil {
			return err
		}
		id := uuid.NewString()
		if _, err := tx.Exec(ctx, `INSERT INTO campaigns (id, district_id, municipality_id, name_it, name_en, description_it,
				description_en, starts_on, ends_on, budget_cents, rule, categories, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			id, in.District, in.Municipality, in.NameIT, in.NameEN, in.DescriptionIT, in.DescriptionEN,
			in.StartsOn.Format(time.DateOnly), in.EndsOn.Format(time.DateOnly), in.BudgetCents, rule, in.Categories, in.CreatedBy); err != nil {
			return err
		}
		c, err = campaignByID(ctx, tx, id)
		return err
	})
	if errors.Is(err, ErrCampaignMunicipality) {
		return c, err
	}
	return c, MapError(err)
}

// CampaignFilter narrows a list of campaigns ("" = any).
type CampaignFilter struct {
	District, Municipality, Status string
}

// Campaigns lists the campaigns scope sees (anyone: published and closed
// ones; a district's managers also its drafts), newest period first.
func (a API) Campaigns(ctx context.Context, scope Scope, f CampaignFilter) ([]Campaign, error) {
	out := []Campaign{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT `+campaignColumns+campaignFrom+`
			WHERE ($1 = '' OR c.district_id = $1) AND ($2 = '' OR c.municipality_id = $2) AND ($3 = '' OR c.status = $3)
			ORDER BY c.starts_on DESC, c.name_it, c.id`, f.District, f.Municipality, f.Status)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCampaign(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// Campaign reads one campaign scope sees, with its approved shops by
// municipality, category and name.
func (a API) Campaign(ctx context.Context, scope Scope, id string) (Campaign, error) {
	var c Campaign
	if _, err := uuid.Parse(id); err != nil {
		return c, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		if c, err = campaignByID(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT me.id, me.name, me.municipality_id, m.name, me.category, me.address
			FROM campaign_merchants cm JOIN merchants me ON me.id = cm.merchant_id JOIN municipalities m ON m.id = me.municipality_id
			WHERE cm.campaign_id = $1 AND cm.status = 'approved'
			ORDER BY m.name, me.category, me.name, me.id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		c.Shops = []CampaignShop{}
		for rows.Next() {
			var s CampaignShop
			if err := rows.Scan(&s.ID, &s.Name, &s.Municipality, &s.MunicipalityName, &s.Category, &s.Address); err != nil {
				return err
			}
			c.Shops = append(c.Shops, s)
		}
		return rows.Err()
	})
	return c, MapError(err)
}

// campaignByID reads campaign id as tx's scope sees it.
func campaignByID(ctx context.Context, tx pgx.Tx, id string) (Campaign, error) {
	return scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignColumns+campaignFrom+` WHERE c.id = $1`, id))
}

// lockCampaign serialises everything that moves a campaign's money (every
// credit, and the close) for the rest of tx.
func lockCampaign(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "campaign:"+id)
	return err
}

// managedCampaign locks the campaign id of scope's district for an update
// (ErrNotFound for another district's, or one scope may not update).
func managedCampaign(ctx context.Context, tx pgx.Tx, scope Scope, id string) (Campaign, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Campaign{}, ErrNotFound
	}
	if err := lockCampaign(ctx, tx, id); err != nil {
		return Campaign{}, err
	}
	var locked string
	if err := tx.QueryRow(ctx, `SELECT id::text FROM campaigns WHERE id = $1 AND district_id = $2 FOR UPDATE`,
		id, scope.District).Scan(&locked); err != nil {
		return Campaign{}, err
	}
	return campaignByID(ctx, tx, id)
}

// PublishCampaign publishes a draft campaign of scope's district: its
// budget moves from the district's funding account to the campaign's
// account (key "campaign:<id>:budget"). A campaign that is not a draft, or
// whose period has ended, is a conflict.
func (a API) PublishCampaign(ctx context.Context, scope Scope, id string) (Campaign, error) {
	var c Campaign
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		if c, err = managedCampaign(ctx, tx, scope, id); err != nil {
			return err
		}
		if c.Status != CampaignDraft {
			return Conflict("campaign_not_draft", "the campaign is "+c.Status+": only a draft can be published")
		}
		var ended bool
		if err := tx.QueryRow(ctx, `SELECT $1::date < (now() AT TIME ZONE 'Europe/Rome')::date`, c.EndsOn).Scan(&ended); err != nil {
			return err
		}
		if ended {
			return Conflict("campaign_ended", "the campaign's period has already ended")
		}
		if err := EnsureAccount(ctx, tx, FundingAccountID(c.District), c.District, AccountFunding, true); err != nil {
			return err
		}
		if err := EnsureAccount(ctx, tx, CampaignAccountID(id), c.District, AccountCampaign, false); err != nil {
			return err
		}
		if _, _, err := Transfer(ctx, tx, TransferInput{Key: "campaign:" + id + ":budget", From: FundingAccountID(c.District),
			To: CampaignAccountID(id), Amount: c.BudgetCents, Kind: TransferCampaignBudget}); err != nil {
			return err
		}
		c, err = setCampaignStatus(ctx, tx, scope, id, CampaignPublished)
		return err
	})
	return c, MapError(err)
}

// setCampaignStatus moves campaign id to status (published or closed),
// by scope's user, and reads it again.
func setCampaignStatus(ctx context.Context, tx pgx.Tx, scope Scope, id, status string) (Campaign, error) {
	if _, err := tx.Exec(ctx, `UPDATE campaigns SET status = $2, updated_at = now(),
			published_by = CASE $2 WHEN 'published' THEN $3 ELSE published_by END,
			published_at = CASE $2 WHEN 'published' THEN now() ELSE published_at END,
			closed_by = CASE $2 WHEN 'closed' THEN $3 ELSE closed_by END,
			closed_at = CASE $2 WHEN 'closed' THEN now() ELSE closed_at END
		WHERE id = $1`, id, status, scope.UserID); err != nil {
		return Campaign{}, err
	}
	return campaignByID(ctx, tx, id)
}

// CloseCampaign closes a published campaign of scope's district: no more
// credits, and what is left of its budget goes back to the district's
// funding account (key "campaign:<id>:return"). A draft or a closed
// campaign is a conflict.
func (a API) CloseCampaign(ctx context.Context, scope Scope, id string) (Campaign, error) {
	var c Campaign
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		if c, err = managedCampaign(ctx, tx, scope, id); err != nil {
			return err
		}
		if c.Status != CampaignPublished {
			return Conflict("campaign_not_published", "the campaign is "+c.Status+": only a published campaign can be closed")
		}
		left, err := Balance(ctx, tx, CampaignAccountID(id))
		if err != nil {
			return err
		}
		if left > 0 {
			if _, _, err := Transfer(ctx, tx, TransferInput{Key: "campaign:" + id + ":return", From: CampaignAccountID(id),
				To: FundingAccountID(c.District), Amount: left, Kind: TransferCampaignReturn}); err != nil {
				return err
			}
		}
		c, err = setCampaignStatus(ctx, tx, scope, id, CampaignClosed)
		return err
	})
	return c, MapError(err)
}

// CampaignApplication is a merchant's application to join a campaign.
type CampaignApplication struct {
	ID               string     `json:"id"`
	CampaignID       string     `json:"campaign_id"`
	CampaignNameIT   string     `json:"campaign_name_it"`
	CampaignNameEN   string     `json:"campaign_name_en"`
	MerchantID       string     `json:"merchant_id"`
	MerchantName     string     `json:"merchant_name"`
	MerchantCategory string     `json:"merchant_category"`
	Municipality     string     `json:"municipality"`
	Status           string     `json:"status"`
	AppliedAt        time.Time  `json:"applied_at"`
	DecidedAt        *time.Time `json:"decided_at,omitempty"`
	Reason           string     `json:"reason,omitempty"`
}

const applicationColumns = `cm.id::text, cm.campaign_id::text, c.name_it, c.name_en, cm.merchant_id, me.name, me.category,
	me.municipality_id, cm.status, cm.applied_at, cm.decided_at, cm.reason`

const applicationFrom = ` FROM campaign_merchants cm JOIN campaigns c ON c.id = cm.campaign_id
	JOIN merchants me ON me.id = cm.merchant_id`

func scanApplication(row pgx.Row) (CampaignApplication, error) {
	var x CampaignApplication
	err := row.Scan(&x.ID, &x.CampaignID, &x.CampaignNameIT, &x.CampaignNameEN, &x.MerchantID, &x.MerchantName,
		&x.MerchantCategory, &x.Municipality, &x.Status, &x.AppliedAt, &x.DecidedAt, &x.Reason)
	return x, err
}

// ErrCodeCategoryNotAdmitted refuses a credit at an approved shop whose
// category the campaign does not admit (any more).
const ErrCodeCategoryNotAdmitted = "category_not_admitted"

// ErrCategoryNotAllowed: the merchant's category may not join the campaign.
type ErrCategoryNotAllowed struct{ Category string }

func (e ErrCategoryNotAllowed) Error() string {
	return "the merchant's category " + e.Category + " may not join this campaign"
}

// ApplyToCampaign records merchant's application to a published campaign
// of its district (ErrNotFound for a draft or another district's). A
// merchant whose category the campaign does not admit gets
// ErrCategoryNotAllowed; a second application, or one to a closed
// campaign, is a conflict.
func (a API) ApplyToCampaign(ctx context.Context, scope Scope, merchantID, campaignID string) (CampaignApplication, error) {
	var x CampaignApplication
	if _, err := uuid.Parse(campaignID); err != nil {
		return x, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var (
			status, district, category string
			allowed                    bool
		)
		if err := tx.QueryRow(ctx, `SELECT c.status, c.district_id, me.category, me.category = ANY(c.categories)
			FROM campaigns c JOIN merchants me ON me.id = $2 AND me.district_id = c.district_id
			WHERE c.id = $1 AND c.status <> 'draft'`, campaignID, merchantID).Scan(&status, &district, &category, &allowed); err != nil {
			return err
		}
		if status != CampaignPublished {
			return Conflict("campaign_closed", "the campaign is closed")
		}
		if !allowed {
			return ErrCategoryNotAllowed{Category: category}
		}
		id := uuid.NewString()
		tag, err := tx.Exec(ctx, `INSERT INTO campaign_merchants (id, campaign_id, merchant_id, district_id, status, applied_by)
			VALUES ($1, $2, $3, $4, 'applied', $5) ON CONFLICT (campaign_id, merchant_id) DO NOTHING`,
			id, campaignID, merchantID, district, scope.UserID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return Conflict("already_applied", "the shop has already applied to this campaign")
		}
		x, err = scanApplication(tx.QueryRow(ctx, `SELECT `+applicationColumns+applicationFrom+` WHERE cm.id = $1`, id))
		return err
	})
	var cat ErrCategoryNotAllowed
	if errors.As(err, &cat) {
		return x, err
	}
	return x, MapError(err)
}

// ApplicationFilter narrows a list of applications ("" = any). Merchant,
// when set, keeps the merchant's own; District the district's.
type ApplicationFilter struct {
	Merchant, District, Campaign, Status string
}

// CampaignApplications lists the applications scope sees, matching f,
// newest first.
func (a API) CampaignApplications(ctx context.Context, scope Scope, f ApplicationFilter) ([]CampaignApplication, error) {
	out := []CampaignApplication{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT `+applicationColumns+applicationFrom+`
			WHERE ($1 = '' OR cm.merchant_id = $1) AND ($2 = '' OR cm.district_id = $2)
			  AND ($3 = '' OR cm.campaign_id::text = $3) AND ($4 = '' OR cm.status = $4)
			ORDER BY cm.applied_at DESC, cm.id`, f.Merchant, f.District, f.Campaign, f.Status)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scanApplication(rows)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// DecideApplication approves or rejects an application of scope's
// district, once (a decided one, or one of a closed campaign, is a
// conflict).
func (a API) DecideApplication(ctx context.Context, scope Scope, id string, approve bool, reason string) (CampaignApplication, error) {
	var x CampaignApplication
	if _, err := uuid.Parse(id); err != nil {
		return x, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var status, campaignStatus string
		if err := tx.QueryRow(ctx, `SELECT cm.status, c.status FROM campaign_merchants cm JOIN campaigns c ON c.id = cm.campaign_id
			WHERE cm.id = $1 AND cm.district_id = $2 FOR UPDATE OF cm`, id, scope.District).Scan(&status, &campaignStatus); err != nil {
			return err
		}
		if status != CampaignApplied {
			return Conflict("application_decided", "the application was already "+status)
		}
		if campaignStatus == CampaignClosed {
			return Conflict("campaign_closed", "the campaign is closed")
		}
		decision := CampaignRejected
		if approve {
			decision = CampaignApproved
		}
		if _, err := tx.Exec(ctx, `UPDATE campaign_merchants SET status = $2, decided_by = $3, decided_at = now(), reason = $4
			WHERE id = $1`, id, decision, scope.UserID, reason); err != nil {
			return err
		}
		var err error
		x, err = scanApplication(tx.QueryRow(ctx, `SELECT `+applicationColumns+applicationFrom+` WHERE cm.id = $1`, id))
		return err
	})
	return x, MapError(err)
}

// CampaignPurchase is a purchase a merchant records for a campaign.
type CampaignPurchase struct {
	MerchantID     string
	CampaignID     string
	TaxCode        string // the resident's, normalised; never stored
	PurchaseCents  int64
	IdempotencyKey string // required: a retried request is applied once
	RequestHash    string // of the request, to refuse a reused key with another body
}

// CampaignCredit is what the campaign added to a purchase.
type CampaignCredit struct {
	ID            string    `json:"id"`
	CampaignID    string    `json:"campaign_id"`
	PurchaseCents int64     `json:"purchase_cents"`
	CreditCents   int64     `json:"credit_cents"`
	Capped        bool      `json:"capped"`                 // less than the rule's percentage: the person's cap or the budget
	PersonLeft    int64     `json:"person_remaining_cents"` // what the person may still be credited in the campaign
	CreatedAt     time.Time `json:"created_at"`
	Replayed      bool      `json:"-"`
}

// Refusals of a purchase that are about its input (the API answers 422).
var (
	ErrCampaignNotResident      = errors.New("the tax code is not of a resident of the campaign's municipality")
	ErrCampaignPurchaseTooSmall = errors.New("the purchase is below the campaign's minimum")
)

// PersonKey is the pseudonym of a person in a campaign: the SHA-256 of the
// campaign id and the tax code.
func PersonKey(campaignID, taxCode string) string {
	sum := sha256.Sum256([]byte(campaignID + ":" + strings.ToUpper(strings.TrimSpace(taxCode))))
	return hex.EncodeToString(sum[:])
}

// RecordCampaignPurchase credits the campaign's share of a purchase to the
// merchant, once per idempotency key, in one transaction: the credit is the
// rule's percentage of the purchase, rounded down to the cent, lowered to
// what the person may still receive and to what is left of the budget.
// Every credit of a campaign takes the campaign's lock, so concurrent
// purchases can never overspend the budget or a person's cap; the ledger
// transfer (campaign -> merchant) would refuse an overspend anyway.
func (a API) RecordCampaignPurchase(ctx context.Context, scope Scope, in CampaignPurchase) (CampaignCredit, error) {
	var res CampaignCredit
	if _, err := uuid.Parse(in.CampaignID); err != nil {
		return res, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"campaign-credit:"+in.MerchantID+":"+in.IdempotencyKey); err != nil {
			return err
		}
		var hash string
		err := tx.QueryRow(ctx, `SELECT id::text, campaign_id::text, purchase_cents, credit_cents, created_at, request_hash
			FROM campaign_credits WHERE merchant_id = $1 AND idempotency_key = $2`, in.MerchantID, in.IdempotencyKey).
			Scan(&res.ID, &res.CampaignID, &res.PurchaseCents, &res.CreditCents, &res.CreatedAt, &hash)
		if err == nil {
			if hash != in.RequestHash {
				return Conflict("idempotency_key_reused", "this Idempotency-Key was already used for a different purchase")
			}
			res.Replayed = true
			return a.creditLeft(ctx, tx, &res, in.TaxCode)
		}
		if err != pgx.ErrNoRows {
			return err
		}
		if err := lockCampaign(ctx, tx, in.CampaignID); err != nil {
			return err
		}
		var (
			c            Campaign
			inTime       bool
			joined       string
			rawRule      []byte
			admitted     bool
			shopCategory string
		)
		err = tx.QueryRow(ctx, `SELECT c.district_id, c.municipality_id, c.status, c.rule,
				(now() AT TIME ZONE 'Europe/Rome')::date BETWEEN c.starts_on AND c.ends_on,
				coalesce((SELECT cm.status FROM campaign_merchants cm WHERE cm.campaign_id = c.id AND cm.merchant_id = $2), ''),
				coalesce(me.category = ANY(c.categories), false), coalesce(me.category, '')
			FROM campaigns c LEFT JOIN merchants me ON me.id = $2
			WHERE c.id = $1 AND c.status <> 'draft' AND c.district_id = $3`,
			in.CampaignID, in.MerchantID, scope.District).Scan(&c.District, &c.Municipality, &c.Status, &rawRule, &inTime, &joined,
			&admitted, &shopCategory)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(rawRule, &c.Rule); err != nil {
			return err
		}
		switch {
		case c.Status != CampaignPublished:
			return Conflict("campaign_closed", "the campaign is closed")
		case !inTime:
			return Conflict("campaign_not_running", "today is outside the campaign's period")
		case joined != CampaignApproved:
			return Conflict("not_participating", "the shop is not an approved participant of the campaign")
		case !admitted: // approved, but its category has changed since to one the campaign does not admit
			return Conflict(ErrCodeCategoryNotAdmitted, "the shop's category "+shopCategory+" is not one the campaign admits")
		}
		var resident bool
		if err := tx.QueryRow(ctx, `SELECT campaign_resident($1, $2)`, in.TaxCode, c.Municipality).Scan(&resident); err != nil {
			return err
		}
		if !resident {
			return ErrCampaignNotResident
		}
		credit := c.Rule.Credit(in.PurchaseCents)
		if in.PurchaseCents < c.Rule.MinPurchaseCents || credit <= 0 {
			return ErrCampaignPurchaseTooSmall
		}
		person := PersonKey(in.CampaignID, in.TaxCode)
		var credited int64
		if err := tx.QueryRow(ctx, `SELECT campaign_person_credited($1, $2)`, in.CampaignID, person).Scan(&credited); err != nil {
			return err
		}
		personLeft := c.Rule.CapPerPersonCents - credited
		if personLeft <= 0 {
			return Conflict("person_cap_reached", "this person has already received the campaign's most")
		}
		budget, err := Balance(ctx, tx, CampaignAccountID(in.CampaignID))
		if err != nil {
			return err
		}
		if budget <= 0 {
			return Conflict("budget_exhausted", "the campaign's budget is spent")
		}
		res.CreditCents = min(credit, personLeft, budget)
		res.Capped = res.CreditCents < credit
		if err := EnsureAccount(ctx, tx, MerchantAccountID(in.MerchantID), c.District, AccountMerchant, false); err != nil {
			return err
		}
		id := uuid.NewString()
		transferID, _, err := Transfer(ctx, tx, TransferInput{Key: "campaign_credit:" + id, From: CampaignAccountID(in.CampaignID),
			To: MerchantAccountID(in.MerchantID), Amount: res.CreditCents, Kind: TransferCampaignCredit})
		if err != nil {
			return err
		}
		res.ID, res.CampaignID, res.PurchaseCents, res.PersonLeft = id, in.CampaignID, in.PurchaseCents, personLeft-res.CreditCents
		return tx.QueryRow(ctx, `INSERT INTO campaign_credits (id, campaign_id, merchant_id, district_id, municipality_id, person_key,
				purchase_cents, credit_cents, idempotency_key, request_hash, transfer_id, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING created_at`,
			id, in.CampaignID, in.MerchantID, c.District, c.Municipality, person, in.PurchaseCents, res.CreditCents,
			in.IdempotencyKey, in.RequestHash, transferID, scope.UserID).Scan(&res.CreatedAt)
	})
	if errors.Is(err, ErrCampaignNotResident) || errors.Is(err, ErrCampaignPurchaseTooSmall) {
		return CampaignCredit{}, err
	}
	if err != nil {
		return CampaignCredit{}, MapError(err)
	}
	return res, nil
}

// creditLeft fills in a replayed credit what the person may still receive.
func (a API) creditLeft(ctx context.Context, tx pgx.Tx, res *CampaignCredit, taxCode string) error {
	var cap, credited int64
	if err := tx.QueryRow(ctx, `SELECT (rule->>'cap_per_person_cents')::bigint, campaign_person_credited(id, $2)
		FROM campaigns WHERE id = $1`, res.CampaignID, PersonKey(res.CampaignID, taxCode)).Scan(&cap, &credited); err != nil {
		return err
	}
	res.PersonLeft = max(cap-credited, 0)
	return nil
}
