package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/bookingtest"
	"sportello/internal/calendar"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// campaignWorld is a seeded database with a new draft campaign of Tradate
// created by the supervisor (books and clothing shops, 20%).
type campaignWorld struct {
	st                                 *store.Store
	api                                store.API
	sup, manager, padova, op, libreria store.UserView
	pharmacy                           store.UserView
	id                                 string
}

func newCampaignWorld(t *testing.T, budget, cap int64) *campaignWorld {
	t.Helper()
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	w := &campaignWorld{st: st, api: st.API()}
	w.sup = bookingtest.User(t, st, "supervisore")
	w.manager = bookingtest.User(t, st, "commercio.tradate")
	w.padova = bookingtest.User(t, st, "supervisore.padova")
	w.op = bookingtest.User(t, st, "operatore.tradate")
	w.libreria = bookingtest.User(t, st, "libreria.tradate")
	w.pharmacy = bookingtest.User(t, st, "esercente.tradate")
	today := time.Now()
	c, err := w.api.CreateCampaign(ctx, w.sup.Scope(), store.NewCampaign{District: "tradate", Municipality: "tradate",
		NameIT: "Prova", NameEN: "Test", StartsOn: today.AddDate(0, 0, -1), EndsOn: today.AddDate(0, 0, 30),
		BudgetCents: budget, Rule: store.CampaignRule{Percent: 20, CapPerPersonCents: cap, MinPurchaseCents: 10_00},
		Categories: []string{"books", "clothing"}, CreatedBy: w.sup.ID})
	if err != nil {
		t.Fatalf("create campaign: %v", err)
	}
	if c.Status != store.CampaignDraft || c.RemainingCents != budget {
		t.Fatalf("new campaign = %+v", c)
	}
	w.id = c.ID
	return w
}

// join publishes the campaign and approves the bookshop.
func (w *campaignWorld) join(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.api.PublishCampaign(ctx, w.manager.Scope(), w.id); err != nil {
		t.Fatalf("publish: %v", err)
	}
	app, err := w.api.ApplyToCampaign(ctx, w.libreria.Scope(), w.libreria.MerchantID, w.id)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if _, err := w.api.DecideApplication(ctx, w.manager.Scope(), app.ID, true, ""); err != nil {
		t.Fatalf("approve: %v", err)
	}
}

func (w *campaignWorld) purchase(person string, cents int64, key string) (store.CampaignCredit, error) {
	return w.api.RecordCampaignPurchase(context.Background(), w.libreria.Scope(), store.CampaignPurchase{
		MerchantID: w.libreria.MerchantID, CampaignID: w.id, TaxCode: person, PurchaseCents: cents,
		IdempotencyKey: key, RequestHash: fmt.Sprintf("%s:%d", person, cents)})
}

func ledgerBalances(t *testing.T, st *store.Store) {
	t.Helper()
	if msg, err := store.LedgerCheck(context.Background(), st.Pool); err != nil || msg != "" {
		t.Fatalf("ledger check: %q, %v", msg, err)
	}
}

// Who sees and changes a campaign, per role: a draft only its district's
// managers; a published one anyone; writes only the district's managers.
func TestCampaignRowLevelSecurityPerRole(t *testing.T) {
	ctx := context.Background()
	w := newCampaignWorld(t, 1000_00, 30_00)
	anonymous := store.Scope{Kind: "anonymous"}
	for name, scope := range map[string]store.Scope{"anonymous": anonymous, "merchant": w.libreria.Scope(),
		"operator": w.op.Scope(), "other district's supervisor": w.padova.Scope()} {
		if _, err := w.api.Campaign(ctx, scope, w.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s reads the draft: %v", name, err)
		}
	}
	if _, err := w.api.Campaign(ctx, w.manager.Scope(), w.id); err != nil {
		t.Errorf("commerce manager cannot read the draft: %v", err)
	}
	// Only a district's managers create.
	in := store.NewCampaign{District: "tradate", Municipality: "tradate", NameIT: "x", NameEN: "x", StartsOn: time.Now(),
		EndsOn: time.Now(), BudgetCents: 1, Rule: store.CampaignRule{Percent: 1, CapPerPersonCents: 1}, Categories: []string{"food"}}
	for name, u := range map[string]store.UserView{"operator": w.op, "merchant": w.libreria, "other district's supervisor": w.padova} {
		in.CreatedBy = u.ID
		if _, err := w.api.CreateCampaign(ctx, u.Scope(), in); err == nil {
			t.Errorf("%s created a campaign of Tradate", name)
		}
	}
	// The rule is checked by the database too.
	if _, err := w.st.Pool.Exec(ctx, `UPDATE campaigns SET rule = '{"percent": 120, "cap_per_person_cents": 1, "min_purchase_cents": 0}' WHERE id = $1`, w.id); err == nil {
		t.Error("a rule of 120% was stored")
	}
	// Another district's supervisor cannot publish; a merchant cannot apply to a draft.
	if _, err := w.api.PublishCampaign(ctx, w.padova.Scope(), w.id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other district publishes: %v", err)
	}
	if _, err := w.api.ApplyToCampaign(ctx, w.libreria.Scope(), w.libreria.MerchantID, w.id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("apply to a draft: %v", err)
	}
	w.join(t)
	if _, err := w.api.PublishCampaign(ctx, w.sup.Scope(), w.id); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second publish: %v, want a conflict", err)
	}
	c, err := w.api.Campaign(ctx, anonymous, w.id)
	if err != nil || len(c.Shops) != 1 || c.Shops[0].ID != w.libreria.MerchantID {
		t.Fatalf("public campaign = %+v, %v", c, err)
	}
	// The pharmacy's category is not admitted.
	var cat store.ErrCategoryNotAllowed
	if _, err := w.api.ApplyToCampaign(ctx, w.pharmacy.Scope(), w.pharmacy.MerchantID, w.id); !errors.As(err, &cat) || cat.Category != "health" {
		t.Errorf("pharmacy applies: %v", err)
	}
	// A merchant's application of another merchant is refused by the database.
	if _, err := w.api.ApplyToCampaign(ctx, w.pharmacy.Scope(), "tradate-boutique-mazzini", w.id); err == nil {
		t.Error("a merchant applied for another one")
	}
	// Applications: the merchant sees its own; another district's supervisor none.
	for name, tc := range map[string]struct {
		u    store.UserView
		want int
	}{"bookshop": {w.libreria, 1}, "pharmacy": {w.pharmacy, 0}, "padova": {w.padova, 0}, "manager": {w.manager, 1}} {
		f := store.ApplicationFilter{Campaign: w.id}
		if tc.u.MerchantID != "" {
			f.Merchant = tc.u.MerchantID
		} else {
			f.District = tc.u.District
		}
		apps, err := w.api.CampaignApplications(ctx, tc.u.Scope(), f)
		if err != nil || len(apps) != tc.want {
			t.Errorf("%s sees %d applications (%v), want %d", name, len(apps), err, tc.want)
		}
	}
	// Credits: the merchant's own, the district's managers'; nobody else's.
	maria := seed.Residents()[0].TaxCode()
	if _, err := w.purchase(maria, 50_00, "k1"); err != nil {
		t.Fatalf("purchase: %v", err)
	}
	for name, tc := range map[string]struct {
		scope store.Scope
		want  int
	}{"bookshop": {w.libreria.Scope(), 1}, "pharmacy": {w.pharmacy.Scope(), 0}, "padova": {w.padova.Scope(), 0},
		"manager": {w.manager.Scope(), 1}, "supervisor": {w.sup.Scope(), 1}, "operator": {w.op.Scope(), 0}, "anonymous": {anonymous, 0}} {
		var n int
		if err := w.st.InTx(ctx, tc.scope, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM campaign_credits`).Scan(&n)
		}); err != nil || n != tc.want {
			t.Errorf("%s sees %d credits (%v), want %d", name, n, err, tc.want)
		}
	}
	ledgerBalances(t, w.st)
}

// Concurrent purchases never credit a person over the cap nor the
// campaign over its budget, to the cent; a retried request books once;
// closing returns the rest; the merchant's claim bills every credit.
func TestCampaignCreditsUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	const budget, cap = 70_00, 30_00
	w := newCampaignWorld(t, budget, cap)
	w.join(t)
	res := seed.Residents()
	people := []string{res[0].TaxCode(), res[2].TaxCode(), res[6].TaxCode()} // Maria, Luca, Marco: residents of Tradate

	// Input refusals.
	if _, err := w.purchase(res[1].TaxCode(), 50_00, "vedano"); !errors.Is(err, store.ErrCampaignNotResident) {
		t.Errorf("a resident of Vedano: %v", err)
	}
	if _, err := w.purchase(people[0], 9_99, "small"); !errors.Is(err, store.ErrCampaignPurchaseTooSmall) {
		t.Errorf("below the minimum: %v", err)
	}

	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		total   int64
		refused int
		byWho   = map[string]int64{}
		booked  = map[int]store.CampaignCredit{}
	)
	for i := range 18 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := people[i%3]
			// 123.45 euros: 20% is 24.69 euros.
			c, err := w.purchase(who, 123_45, fmt.Sprintf("c%d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				total += c.CreditCents
				byWho[who] += c.CreditCents
				booked[i] = c
			case errors.Is(err, store.ErrConflict):
				refused++
			default:
				t.Errorf("purchase %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if total != budget {
		t.Errorf("credited %d, want the whole budget %d", total, budget)
	}
	for who, n := range byWho {
		if n > cap {
			t.Errorf("%s credited %d, over the cap %d", who, n, cap)
		}
	}
	if refused == 0 {
		t.Error("no purchase was refused")
	}
	if b := testenv.Balance(t, w.st, store.CampaignAccountID(w.id)); b != 0 {
		t.Errorf("campaign account holds %d", b)
	}
	ledgerBalances(t, w.st)

	// A retried request books once; the same key with another body is a conflict.
	for i, first := range booked {
		again, err := w.purchase(people[i%3], 123_45, fmt.Sprintf("c%d", i))
		if err != nil || again.ID != first.ID || again.CreditCents != first.CreditCents {
			t.Errorf("replay of c%d: %+v, %v; first %+v", i, again, err, first)
		}
		if _, err := w.purchase(people[i%3], 100_00, fmt.Sprintf("c%d", i)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("reused key c%d: %v", i, err)
		}
		break
	}
	if _, err := w.purchase(people[0], 100_00, "never-used"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("after the budget: %v", err)
	}
	var n int
	if err := w.st.Pool.QueryRow(ctx, `SELECT count(*) FROM campaign_credits WHERE campaign_id = $1`, w.id).Scan(&n); err != nil || n != 18-refused {
		t.Errorf("%d credits (%v), want %d", n, err, 18-refused)
	}

	c, err := w.api.CloseCampaign(ctx, w.manager.Scope(), w.id)
	if err != nil || c.Status != store.CampaignClosed {
		t.Fatalf("close: %+v, %v", c, err)
	}
	if _, err := w.api.CloseCampaign(ctx, w.manager.Scope(), w.id); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second close: %v", err)
	}
	if _, err := w.purchase(people[0], 50_00, "after"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("purchase after close: %v", err)
	}
	ledgerBalances(t, w.st)

	// The merchant's monthly claim to Tradate bills every credit.
	now := time.Now()
	period := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	inv, err := w.st.PrepareInvoice(ctx, store.PrepareInvoiceInput{Kind: store.InvoiceMerchant, PayeeID: w.libreria.MerchantID,
		Municipality: "tradate", Period: period, PeriodEnd: now.Add(time.Hour), WorkflowID: "test"})
	if err != nil {
		t.Fatalf("prepare invoice: %v", err)
	}
	if inv.TotalCents != budget || inv.Lines != 18-refused {
		t.Errorf("invoice = %+v, want %d cents on %d lines", inv, budget, 18-refused)
	}
	if b := testenv.Balance(t, w.st, store.MerchantAccountID(w.libreria.MerchantID)); b != budget {
		t.Errorf("merchant account = %d, want %d", b, budget)
	}
}

// A budget partly spent goes back to funding when the campaign closes.
func TestCampaignCloseReturnsTheRest(t *testing.T) {
	ctx := context.Background()
	w := newCampaignWorld(t, 1000_00, 50_00)
	w.join(t)
	maria := seed.Residents()[0].TaxCode()
	c, err := w.purchase(maria, 33_33, "one")
	if err != nil || c.CreditCents != 6_66 || c.PersonLeft != 43_34 || c.Capped {
		t.Fatalf("credit = %+v, %v; want 6.66, 43.34 left", c, err)
	}
	before := testenv.Balance(t, w.st, store.FundingAccountID("tradate"))
	if _, err := w.api.CloseCampaign(ctx, w.sup.Scope(), w.id); err != nil {
		t.Fatal(err)
	}
	if after := testenv.Balance(t, w.st, store.FundingAccountID("tradate")); after-before != 1000_00-6_66 {
		t.Errorf("returned %d, want %d", after-before, 1000_00-6_66)
	}
	ledgerBalances(t, w.st)

	// The ledger check sees a credit that does not match its transfer, and
	// a person over the cap.
	if _, err := w.st.Pool.Exec(ctx, `UPDATE campaign_credits SET credit_cents = 6000, purchase_cents = 30000 WHERE campaign_id = $1`, w.id); err != nil {
		t.Fatal(err)
	}
	r, err := store.VerifyLedger(ctx, w.st.Pool, store.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	broken := map[string]bool{}
	for _, c := range r.Checks {
		broken[c.Name] = c.Violations > 0
	}
	if !broken["campaign_credit_has_transfer"] || !broken["campaign_cap_per_person"] || broken["balances_sum_to_zero"] {
		t.Errorf("ledger check after tampering: %+v", r.Checks)
	}
}

// Migration 028 goes down (with the demo campaign's money in the ledger)
// and up again, the books balanced after each (checked with every later
// migration in place, as the ledger check reads their tables too).
func TestCampaignMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	goesDownAndUp(t, conn, 28, `SELECT to_regclass('campaigns') IS NOT NULL OR EXISTS (SELECT 1 FROM users WHERE role = 'commerce_manager')
		OR EXISTS (SELECT 1 FROM transfers WHERE kind LIKE 'campaign%')`, "campaigns")
	upToLatest(t, conn)
	if msg, err := store.LedgerCheck(context.Background(), conn); err != nil || msg != "" {
		t.Fatalf("ledger check after down and up: %q, %v", msg, err)
	}
}

// A credit is given only at an approved shop of a category the campaign
// admits: a shop whose category changed after its approval is refused,
// and nothing moves.
func TestCampaignCreditOnlyAtAdmittedCategories(t *testing.T) {
	ctx := context.Background()
	w := newCampaignWorld(t, 1000_00, 50_00)
	w.join(t)
	maria := seed.Residents()[0].TaxCode()
	if _, err := w.st.Pool.Exec(ctx, `UPDATE merchants SET category = 'services' WHERE id = $1`, w.libreria.MerchantID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.purchase(maria, 50_00, "changed"); conflictCode(err) != store.ErrCodeCategoryNotAdmitted {
		t.Fatalf("credit at a shop of a category not admitted: %v", err)
	}
	if b := testenv.Balance(t, w.st, store.CampaignAccountID(w.id)); b != 1000_00 {
		t.Errorf("campaign balance %d after the refusal", b)
	}
	if _, err := w.st.Pool.Exec(ctx, `UPDATE merchants SET category = 'books' WHERE id = $1`, w.libreria.MerchantID); err != nil {
		t.Fatal(err)
	}
	if c, err := w.purchase(maria, 50_00, "books"); err != nil || c.CreditCents != 10_00 {
		t.Fatalf("credit at the bookshop: %+v, %v", c, err)
	}
	ledgerBalances(t, w.st)
}

// The list of a campaign's credits: per shop and in total, people as
// numbers (no tax code, no hash), for the district's managers only; the
// billing run's claim marks the credits claimed, its payment reimbursed.
func TestCampaignCreditList(t *testing.T) {
	ctx := context.Background()
	w := newCampaignWorld(t, 1000_00, 50_00)
	w.join(t)
	res := seed.Residents()
	maria, luca := res[0].TaxCode(), res[2].TaxCode()
	for i, p := range []struct {
		who   string
		cents int64
	}{{maria, 50_00}, {luca, 20_00}, {maria, 30_00}} {
		if _, err := w.purchase(p.who, p.cents, fmt.Sprint("k", i)); err != nil {
			t.Fatalf("purchase %d: %v", i, err)
		}
	}
	for _, u := range []store.UserView{w.padova, w.libreria, w.op} {
		if _, err := w.api.CampaignCreditList(ctx, u.Scope(), w.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s reads the list: %v", u.Username, err)
		}
	}
	for _, u := range []store.UserView{w.manager, w.sup} {
		l, err := w.api.CampaignCreditList(ctx, u.Scope(), w.id)
		if err != nil {
			t.Fatalf("%s: %v", u.Username, err)
		}
		if l.Purchases != 3 || l.Persons != 2 || l.SpentCents != 100_00 || l.CreditedCents != 20_00 ||
			l.RemainingCents != 980_00 || l.BudgetCents != 1000_00 || l.ClaimedCents != 0 || l.ReimbursedCents != 0 {
			t.Errorf("%s: totals %+v", u.Username, l)
		}
		if len(l.Shops) != 1 || l.Shops[0].MerchantID != w.libreria.MerchantID || l.Shops[0].Purchases != 3 ||
			l.Shops[0].CreditedCents != 20_00 || l.Shops[0].SpentCents != 100_00 {
			t.Errorf("%s: shops %+v", u.Username, l.Shops)
		}
		var people []int
		for _, c := range l.Credits {
			people = append(people, c.Person)
			if c.Billing != store.CreditUnbilled {
				t.Errorf("credit %s billing %s before the billing run", c.ID, c.Billing)
			}
		}
		if fmt.Sprint(people) != "[1 2 1]" { // newest first: Maria again, Luca, Maria
			t.Errorf("%s: people %v", u.Username, people)
		}
		raw, _ := json.Marshal(l)
		for _, secret := range []string{maria, luca, store.PersonKey(w.id, maria), store.PersonKey(w.id, luca)} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s: the list holds %s", u.Username, secret)
			}
		}
	}

	// The billing run claims the credits, then they are paid.
	now := time.Now().In(calendar.Rome())
	period := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, calendar.Rome())
	inv, err := w.st.PrepareInvoice(ctx, store.PrepareInvoiceInput{Kind: store.InvoiceMerchant, PayeeID: w.libreria.MerchantID,
		Municipality: "tradate", Period: period, PeriodEnd: period.AddDate(0, 1, 0), WorkflowID: "billing-test"})
	if err != nil || inv.Lines != 3 {
		t.Fatalf("invoice %+v, %v", inv, err)
	}
	l, err := w.api.CampaignCreditList(ctx, w.manager.Scope(), w.id)
	if err != nil || l.ClaimedCents != 20_00 || l.ReimbursedCents != 0 || l.Shops[0].ClaimedCents != 20_00 || l.Credits[0].Billing != store.CreditClaimed {
		t.Fatalf("claimed: %+v, %v", l, err)
	}
	decl := map[string]bool{}
	for _, k := range store.DeclarationItems {
		decl[k] = true
	}
	if _, err := w.api.DeclareClaim(ctx, w.libreria.Scope(), inv.ID, decl); err != nil {
		t.Fatal(err)
	}
	if err := w.st.MarkInvoiceSent(ctx, inv.ID, "ACC-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.ReconcileInvoice(ctx, inv.ID, "PAY-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	l, err = w.api.CampaignCreditList(ctx, w.manager.Scope(), w.id)
	if err != nil || l.ClaimedCents != 0 || l.ReimbursedCents != 20_00 || l.Shops[0].ReimbursedCents != 20_00 {
		t.Fatalf("reimbursed: %+v, %v", l, err)
	}
	for _, c := range l.Credits {
		if c.Billing != store.CreditReimbursed {
			t.Errorf("credit %s billing %s after payment", c.ID, c.Billing)
		}
	}
	ledgerBalances(t, w.st)

	// The ledger check sees a credit's line claimed for another amount
	// than the credit (the books themselves still balance).
	if _, err := w.st.Pool.Exec(ctx, `UPDATE invoice_lines SET amount_cents = amount_cents + 1
		WHERE invoice_id = $1 AND seq = 1`, inv.ID); err != nil {
		t.Fatal(err)
	}
	r, err := store.VerifyLedger(ctx, w.st.Pool, store.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Checks {
		if broken := c.Violations > 0; broken != (c.Name == "campaign_credit_claimed_by_its_shop") {
			t.Errorf("ledger check %s: %d violations after changing a claimed line", c.Name, c.Violations)
		}
	}
}
