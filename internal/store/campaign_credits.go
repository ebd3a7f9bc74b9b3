package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The list of a campaign's credits, for its managers (a supervisor and the
// Commerce District's manager): what each shop granted, what residents
// spent, what the billing run has reimbursed, and the budget left. It
// names no resident: the tax code is never stored (person_key is a hash),
// and a person is shown only as a number within the campaign (1 for the
// first person credited, 2 for the next...), which cannot be turned back
// into a tax code, unlike the hash, which anyone holding a tax code could
// recompute. The same holds for both roles.

// Billing states of a campaign credit.
const (
	CreditUnbilled   = "unbilled"   // not yet on a merchant's claim
	CreditClaimed    = "claimed"    // on a claim not yet paid
	CreditReimbursed = "reimbursed" // on a paid claim
)

// CampaignCreditLimit is how many of the newest credits the list holds
// (the totals count them all).
const CampaignCreditLimit = 200

// CampaignCredits is a campaign's credit list.
type CampaignCredits struct {
	CampaignID      string                `json:"campaign_id"`
	BudgetCents     int64                 `json:"budget_cents"`
	RemainingCents  int64                 `json:"remaining_cents"`
	Purchases       int                   `json:"purchases"`
	Persons         int                   `json:"persons"`
	SpentCents      int64                 `json:"spent_cents"`      // what residents spent on the credited purchases
	CreditedCents   int64                 `json:"credited_cents"`   // what the campaign added
	ClaimedCents    int64                 `json:"claimed_cents"`    // on merchants' claims not yet paid
	ReimbursedCents int64                 `json:"reimbursed_cents"` // paid to merchants
	Shops           []CampaignShopCredits `json:"shops"`
	Credits         []CampaignCreditLine  `json:"credits"` // the newest CampaignCreditLimit, newest first
}

// CampaignShopCredits is what one shop granted in a campaign.
type CampaignShopCredits struct {
	MerchantID       string `json:"merchant_id"`
	Name             string `json:"name"`
	MunicipalityName string `json:"municipality_name"`
	Category         string `json:"category"`
	Purchases        int    `json:"purchases"`
	SpentCents       int64  `json:"spent_cents"`
	CreditedCents    int64  `json:"credited_cents"`
	ClaimedCents     int64  `json:"claimed_cents"`
	ReimbursedCents  int64  `json:"reimbursed_cents"`
}

// CampaignCreditLine is one credit, with its person as a number.
type CampaignCreditLine struct {
	ID            string    `json:"id"`
	CreatedAt     time.Time `json:"created_at"`
	MerchantID    string    `json:"merchant_id"`
	MerchantName  string    `json:"merchant_name"`
	Person        int       `json:"person"` // 1, 2...: the order in which people were first credited
	PurchaseCents int64     `json:"purchase_cents"`
	CreditCents   int64     `json:"credit_cents"`
	Billing       string    `json:"billing"` // unbilled, claimed, reimbursed
}

// CampaignCreditList reads the credits of campaign id of scope's district
// (ErrNotFound for another district's, or one scope may not manage; row
// -level security lets only the district's managers read its credits).
// The billing state of those credits is read with the system scope: the
// Commerce District's manager reads no invoice, only whether its
// campaign's credits are on a claim and whether the claim is paid.
func (a API) CampaignCreditList(ctx context.Context, scope Scope, id string) (CampaignCredits, error) {
	out := CampaignCredits{CampaignID: id, Shops: []CampaignShopCredits{}, Credits: []CampaignCreditLine{}}
	if _, err := uuid.Parse(id); err != nil {
		return out, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		c, err := campaignByID(ctx, tx, id)
		if err != nil {
			return err
		}
		var manages bool
		if err := tx.QueryRow(ctx, `SELECT campaign_manager_of($1)`, c.District).Scan(&manages); err != nil {
			return err
		}
		if !manages { // a merchant reads its own credits, but not the campaign's list
			return ErrNotFound
		}
		out.BudgetCents, out.RemainingCents = c.BudgetCents, c.RemainingCents
		if err := tx.QueryRow(ctx, `SELECT count(*), count(DISTINCT person_key), coalesce(sum(purchase_cents), 0), coalesce(sum(credit_cents), 0)
			FROM campaign_credits WHERE campaign_id = $1 AND district_id = $2`, id, scope.District).
			Scan(&out.Purchases, &out.Persons, &out.SpentCents, &out.CreditedCents); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT me.id, me.name, m.name, me.category, count(*), sum(cc.purchase_cents), sum(cc.credit_cents)
			FROM campaign_credits cc JOIN merchants me ON me.id = cc.merchant_id JOIN municipalities m ON m.id = me.municipality_id
			WHERE cc.campaign_id = $1 AND cc.district_id = $2
			GROUP BY me.id, me.name, m.name, me.category ORDER BY m.name, me.name, me.id`, id, scope.District)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s CampaignShopCredits
			if err := rows.Scan(&s.MerchantID, &s.Name, &s.MunicipalityName, &s.Category, &s.Purchases, &s.SpentCents, &s.CreditedCents); err != nil {
				rows.Close()
				return err
			}
			out.Shops = append(out.Shops, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `WITH people AS (
				SELECT person_key, row_number() OVER (ORDER BY min(created_at), min(id::text)) AS n
				FROM campaign_credits WHERE campaign_id = $1 GROUP BY person_key)
			SELECT cc.id::text, cc.created_at, cc.merchant_id, me.name, p.n, cc.purchase_cents, cc.credit_cents
			FROM campaign_credits cc JOIN merchants me ON me.id = cc.merchant_id JOIN people p ON p.person_key = cc.person_key
			WHERE cc.campaign_id = $1 AND cc.district_id = $2
			ORDER BY cc.created_at DESC, cc.id LIMIT $3`, id, scope.District, CampaignCreditLimit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l := CampaignCreditLine{Billing: CreditUnbilled}
			if err := rows.Scan(&l.ID, &l.CreatedAt, &l.MerchantID, &l.MerchantName, &l.Person, &l.PurchaseCents, &l.CreditCents); err != nil {
				return err
			}
			out.Credits = append(out.Credits, l)
		}
		return rows.Err()
	})
	if err != nil {
		return out, MapError(err)
	}
	return out, MapError(a.creditBilling(ctx, &out))
}

// creditBilling fills in the billing state of the credits of out (the
// campaign its caller may manage, checked before): the sums per shop, and
// the state of each listed credit.
func (a API) creditBilling(ctx context.Context, out *CampaignCredits) error {
	ids := make([]string, len(out.Credits))
	for i, l := range out.Credits {
		ids[i] = l.ID
	}
	return a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT cc.merchant_id, i.status = 'paid', sum(cc.credit_cents)
			FROM campaign_credits cc JOIN invoice_lines l ON l.campaign_credit_id = cc.id JOIN invoices i ON i.id = l.invoice_id
			WHERE cc.campaign_id = $1 GROUP BY 1, 2`, out.CampaignID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				merchant string
				paid     bool
				cents    int64
			)
			if err := rows.Scan(&merchant, &paid, &cents); err != nil {
				rows.Close()
				return err
			}
			sum, shopSum := &out.ClaimedCents, func(s *CampaignShopCredits) *int64 { return &s.ClaimedCents }
			if paid {
				sum, shopSum = &out.ReimbursedCents, func(s *CampaignShopCredits) *int64 { return &s.ReimbursedCents }
			}
			*sum += cents
			for i := range out.Shops {
				if out.Shops[i].MerchantID == merchant {
					*shopSum(&out.Shops[i]) += cents
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT l.campaign_credit_id::text, i.status = 'paid'
			FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE l.campaign_credit_id = ANY($1::uuid[])`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		billed := map[string]string{}
		for rows.Next() {
			var (
				credit string
				paid   bool
			)
			if err := rows.Scan(&credit, &paid); err != nil {
				return err
			}
			billed[credit] = CreditClaimed
			if paid {
				billed[credit] = CreditReimbursed
			}
		}
		for i := range out.Credits {
			if s, ok := billed[out.Credits[i].ID]; ok {
				out.Credits[i].Billing = s
			}
		}
		return rows.Err()
	})
}
