package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
	"sportello/internal/store"
)

// The demo's local campaign (issue 15): "A Natale… Compra Locale" in
// Tradate. The municipality adds 20% to what a resident spends at the
// participating shops of the centre, from a budget of EUR 20,000, up to
// EUR 50 per person, on purchases of at least EUR 10; it runs from 15
// November to 6 January (the coming season's, or the current one's). The
// Commerce District's manager (commercio.tradate) runs it; the bookshop's
// account (libreria.tradate) records purchases; the butcher's application
// waits for a decision.

// Demo campaign parameters.
const (
	DemoCampaignNameIT     = "A Natale… Compra Locale"
	DemoCampaignNameEN     = "At Christmas… Shop Local"
	demoCampaignBudget     = 20_000_00
	demoCampaignPercent    = 20
	demoCampaignCap        = 50_00
	demoCampaignMinimum    = 10_00
	demoCommerceManager    = "commercio.tradate"
	demoCampaignMerchant   = "libreria.tradate"
	demoCampaignPendingApp = "tradate-macelleria-abbiate"
)

// DemoCampaignID is the demo campaign's id for the season starting in year.
func DemoCampaignID(year int) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "sportello:campaign:compra-locale:tradate:%d", year)).String()
}

// DemoCampaignCategories are the merchant categories the demo campaign admits.
func DemoCampaignCategories() []string {
	return []string{"food", "clothing", "books", "home", "dining"}
}

// CampaignShops are the shops of Tradate's centre that joined the campaign
// (besides two of the food-voucher shops); they do not take food vouchers.
func CampaignShops() []Merchant {
	m := func(slug, name, category, addr string) Merchant {
		return Merchant{ID: "tradate-" + slug, District: "tradate", Municipality: "tradate", Name: name, Kind: "shop",
			Category: category, Address: addr}
	}
	return []Merchant{
		m("libreria-del-corso", "Libreria del Corso", "books", "Corso Bernacchi 21, Tradate"),
		m("boutique-mazzini", "Boutique Mazzini", "clothing", "Via Mazzini 7, Tradate"),
		m("casalinghi-volta", "Casalinghi Volta", "home", "Via Volta 12, Tradate"),
		m("trattoria-del-broletto", "Trattoria del Broletto", "dining", "Piazza Unità d'Italia 3, Tradate"),
	}
}

// approvedCampaignShops are the demo campaign's approved participants.
func approvedCampaignShops() []string {
	ids := []string{"tradate-supermercato-centro", "tradate-alimentari-bianchi"}
	for _, m := range CampaignShops() {
		ids = append(ids, m.ID)
	}
	return ids
}

// campaignDemoUsers are the demo accounts of the campaign.
func campaignDemoUsers() []DemoUser {
	return []DemoUser{
		{Username: demoCommerceManager, Role: string(contract.RoleCommerceManager), DisplayName: "Distretto del Commercio di Tradate",
			District: "tradate", Municipality: "tradate", Email: "distretto.commercio@example.org"},
		{Username: demoCampaignMerchant, Role: string(contract.RoleMerchant), DisplayName: "Libreria del Corso", District: "tradate",
			Municipality: "tradate", Merchant: "tradate-libreria-del-corso", Email: "libreria.corso@example.org"},
	}
}

// demoCampaignSeason is the period of the demo campaign: 15 November to
// 6 January of the season that is running on today, or the next one.
func demoCampaignSeason(today time.Time) (starts, ends time.Time) {
	y := today.Year()
	if today.Month() == time.January && today.Day() <= 6 {
		y--
	}
	starts = time.Date(y, time.November, 15, 0, 0, 0, 0, time.UTC)
	return starts, time.Date(y+1, time.January, 6, 0, 0, 0, 0, time.UTC)
}

// seedCampaigns creates the demo campaign, published and funded from the
// district's funding account, with its approved shops and one pending
// application. A campaign already present is left as it is.
func seedCampaigns(ctx context.Context, tx pgx.Tx, today time.Time) error {
	starts, ends := demoCampaignSeason(today)
	id := DemoCampaignID(starts.Year())
	var manager int64
	if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, demoCommerceManager).Scan(&manager); err != nil {
		return fmt.Errorf("seed: campaign manager: %w", err)
	}
	rule := fmt.Sprintf(`{"percent": %d, "cap_per_person_cents": %d, "min_purchase_cents": %d}`,
		demoCampaignPercent, demoCampaignCap, demoCampaignMinimum)
	var created string
	err := tx.QueryRow(ctx, `INSERT INTO campaigns (id, district_id, municipality_id, name_it, name_en, description_it, description_en,
			starts_on, ends_on, budget_cents, rule, categories, status, created_by, published_by, published_at)
		VALUES ($1, 'tradate', 'tradate', $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, 'published', $11, $11, now())
		ON CONFLICT (id) DO NOTHING RETURNING id::text`,
		id, DemoCampaignNameIT, DemoCampaignNameEN,
		"Per le feste il Comune di Tradate aggiunge il 20% a quanto spendi nei negozi aderenti del centro, fino a 50 euro a persona, su acquisti di almeno 10 euro.",
		"For the holidays the Municipality of Tradate adds 20% to what you spend at the participating shops of the centre, up to 50 euros per person, on purchases of at least 10 euros.",
		starts.Format(time.DateOnly), ends.Format(time.DateOnly), int64(demoCampaignBudget), rule, DemoCampaignCategories(), manager).Scan(&created)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("seed: campaign: %w", err)
	}
	if err := store.EnsureAccount(ctx, tx, store.CampaignAccountID(id), "tradate", store.AccountCampaign, false); err != nil {
		return fmt.Errorf("seed: campaign account: %w", err)
	}
	if _, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "campaign:" + id + ":budget", From: store.FundingAccountID("tradate"),
		To: store.CampaignAccountID(id), Amount: demoCampaignBudget, Kind: store.TransferCampaignBudget}); err != nil {
		return fmt.Errorf("seed: campaign budget: %w", err)
	}
	for _, m := range append(approvedCampaignShops(), demoCampaignPendingApp) {
		status, decidedBy, decidedAt := "approved", any(manager), any(time.Now())
		if m == demoCampaignPendingApp {
			status, decidedBy, decidedAt = "applied", nil, nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO campaign_merchants (id, campaign_id, merchant_id, district_id, status, applied_by, decided_by, decided_at)
			VALUES ($1, $2, $3, 'tradate', $4, $5, $6, $7) ON CONFLICT (campaign_id, merchant_id) DO NOTHING`,
			uuid.NewSHA1(uuid.MustParse(id), []byte(m)), id, m, status, manager, decidedBy, decidedAt); err != nil {
			return fmt.Errorf("seed: campaign shop %s: %w", m, err)
		}
	}
	return nil
}
