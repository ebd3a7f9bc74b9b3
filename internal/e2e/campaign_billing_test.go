package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"sportello/internal/accounting"
	"sportello/internal/calendar"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/workflows"
)

// campaignOver creates and publishes, as the Commerce District's manager, a
// campaign of municipality that started on the first day of last month and
// admits bookshops; the bookshop applies and the manager approves it. It
// returns the campaign's id.
func campaignOver(t *testing.T, manager, shop *session, municipality string, budget, percent int64) string {
	t.Helper()
	now := time.Now().In(calendar.Rome())
	starts := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	var c struct {
		ID             string `json:"id"`
		Status         string `json:"status"`
		RemainingCents int64  `json:"remaining_cents"`
	}
	manager.mustCall(http.StatusCreated, "POST", "/api/v1/campaigns", map[string]any{"municipality": municipality,
		"name_it": "Rimborso in " + municipality, "name_en": "Reimbursed in " + municipality,
		"starts_on": starts.Format(time.DateOnly), "ends_on": now.AddDate(0, 1, 0).Format(time.DateOnly),
		"budget_cents": budget, "rule": map[string]any{"percent": percent, "cap_per_person_cents": 30_00, "min_purchase_cents": 5_00},
		"categories": []string{"books"}}, &c)
	manager.mustCall(http.StatusOK, "POST", "/api/v1/campaigns/"+c.ID+"/publish", nil, &c)
	if c.Status != store.CampaignPublished || c.RemainingCents != budget {
		t.Fatalf("published campaign: %+v", c)
	}
	var app struct {
		ID string `json:"id"`
	}
	shop.mustCall(http.StatusCreated, "POST", "/api/v1/campaigns/"+c.ID+"/applications", nil, &app)
	manager.mustCall(http.StatusOK, "POST", "/api/v1/campaign-applications/"+app.ID+"/decision", map[string]string{"decision": "approved"}, nil)
	return c.ID
}

// buyAt records, as the shop, a resident's purchase in a campaign over
// HTTP (201 or the test fails) and returns the credit; a credit dated is
// moved to that instant, as if recorded then.
func buyAt(t *testing.T, s *stack, shop *session, campaign, taxCode string, cents int64, dated *time.Time) store.CampaignCredit {
	t.Helper()
	var cr store.CampaignCredit
	if code := shop.call("POST", "/api/v1/campaign-purchases", map[string]any{"campaign_id": campaign, "tax_code": taxCode,
		"purchase_cents": cents}, map[string]string{"Idempotency-Key": uuid.NewString()}, &cr); code != http.StatusCreated {
		t.Fatalf("purchase of %d at %s: status %d", cents, campaign, code)
	}
	if dated != nil {
		tag, err := s.st.Pool.Exec(context.Background(), `UPDATE campaign_credits SET created_at = $2 WHERE id = $1`, cr.ID, *dated)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("date credit %s: %v (%d rows)", cr.ID, err, tag.RowsAffected())
		}
	}
	return cr
}

// creditsOf reads a campaign's credit list over HTTP, as its manager.
func creditsOf(manager *session, campaign string) store.CampaignCredits {
	var l store.CampaignCredits
	manager.mustCall(http.StatusOK, "GET", "/api/v1/campaigns/"+campaign+"/credits", nil, &l)
	return l
}

// billingOf returns the billing state of each credit of a list, by id.
func billingOf(l store.CampaignCredits) map[string]string {
	out := map[string]string{}
	for _, c := range l.Credits {
		out[c.ID] = c.Billing
	}
	return out
}

// claimOf waits until the shop sees its claim to municipality over HTTP and
// reads it with its lines.
func claimOf(t *testing.T, shop *session, municipality string) store.InvoiceView {
	t.Helper()
	var id string
	eventually(t, "the shop's claim to "+municipality, func() bool {
		var raw json.RawMessage
		if shop.call("GET", "/api/v1/invoices?kind=merchant", nil, nil, &raw) != http.StatusOK {
			return false
		}
		for _, v := range listOf[store.InvoiceView](t, raw) {
			if v.Municipality == municipality {
				id = v.ID
			}
		}
		return id != ""
	})
	var v store.InvoiceView
	shop.mustCall(http.StatusOK, "GET", "/api/v1/invoices/"+id, nil, &v)
	return v
}

// TestCampaignCreditReimbursedByTheBillingRun (issue 15, part 2: "the
// campaign's credit flows through the same ledger and the merchants are
// reimbursed through the existing billing"). The Commerce District's
// manager publishes a campaign in Tradate and one in Vedano Olona; the
// bookshop of Tradate joins both and is approved; it records, over HTTP,
// two purchases of Tradate's residents last month, one this month, and one
// of a Vedano Olona resident last month. The Billing workflows of last
// month (real Temporal server, the production worker) make one claim per
// municipality, each with exactly that municipality's credits of last
// month; the Tradate claim is sent to the sandbox accounting system after
// the shop's declaration, and nothing is booked while the platform has not
// read the payment from the accounting system; once read, the payout is
// booked once, the campaign's list says the credits reimbursed (the one of
// this month still unbilled), and the shop's account holds exactly what is
// not yet reimbursed. The ledger check, campaigns' checks included, passes.
func TestCampaignCreditReimbursedByTheBillingRun(t *testing.T) {
	// The sandbox pays only when its treasurer does (Pay).
	s, acc := billingStack(t, accounting.Options{PayAfter: -1})
	ctx := context.Background()
	manager, shop := s.login("commercio.tradate"), s.login("libreria.tradate")
	const merchant = "tradate-libreria-del-corso"
	res := seed.Residents()
	maria, giovanni, luca := res[0].TaxCode(), res[1].TaxCode(), res[2].TaxCode()

	tradate := campaignOver(t, manager, shop, "tradate", 500_00, 10)
	vedano := campaignOver(t, manager, shop, "vedano-olona", 100_00, 20)
	if b := testenv.Balance(t, s.st, store.MerchantAccountID(merchant)); b != 0 {
		t.Fatalf("the shop's account holds %d before any purchase", b)
	}

	// The billing run bills the month before it runs (Temporal's clock is
	// the real one): the credits of last month are dated there, as the
	// billing fixture dates redemptions.
	d3, d17, d9 := lastMonth(3), lastMonth(17), lastMonth(9)
	c1 := buyAt(t, s, shop, tradate, maria, 123_45, &d3)  // 10%: 12.34
	c2 := buyAt(t, s, shop, tradate, luca, 80_00, &d17)   // 8.00
	c3 := buyAt(t, s, shop, tradate, maria, 50_00, nil)   // this month: 5.00, next month's claim
	cv := buyAt(t, s, shop, vedano, giovanni, 50_00, &d9) // 20%: 10.00, Vedano Olona's
	for _, x := range []struct {
		c    store.CampaignCredit
		want int64
	}{{c1, 12_34}, {c2, 8_00}, {c3, 5_00}, {cv, 10_00}} {
		if x.c.CreditCents != x.want {
			t.Fatalf("credit %s: %d cents, want %d", x.c.ID, x.c.CreditCents, x.want)
		}
	}
	balances := func(when string, want map[string]int64) {
		t.Helper()
		for acct, cents := range want {
			if got := testenv.Balance(t, s.st, acct); got != cents {
				t.Errorf("%s: %s holds %d, want %d", when, acct, got, cents)
			}
		}
	}
	balances("after the purchases", map[string]int64{
		store.MerchantAccountID(merchant): 12_34 + 8_00 + 5_00 + 10_00,
		store.CampaignAccountID(tradate):  500_00 - 25_34,
		store.CampaignAccountID(vedano):   100_00 - 10_00,
		store.PayoutAccountID("tradate"):  0,
	})

	// Before the run: every credit unbilled.
	l := creditsOf(manager, tradate)
	if l.Purchases != 3 || l.CreditedCents != 25_34 || l.SpentCents != 253_45 || l.ClaimedCents != 0 || l.ReimbursedCents != 0 {
		t.Fatalf("the Tradate campaign before the run: %+v", l)
	}
	for id, b := range billingOf(l) {
		if b != store.CreditUnbilled {
			t.Fatalf("credit %s is %s before the billing run", id, b)
		}
	}

	// The next status read of the accounting system waits until released:
	// while it waits, the payment is not known to the platform.
	if err := acc.Inject(accounting.Fault{Kind: "hold", Op: "status"}); err != nil {
		t.Fatal(err)
	}
	suffix := uuid.NewString()[:8]
	run := s.startBilling("billing-campaign-tradate-"+suffix, workflows.BillingInput{Kind: store.InvoiceMerchant, PayeeID: merchant, Municipality: "tradate"})
	runV := s.startBilling("billing-campaign-vedano-"+suffix, workflows.BillingInput{Kind: store.InvoiceMerchant, PayeeID: merchant, Municipality: "vedano-olona"})
	empty := s.startBilling("billing-campaign-castiglione-"+suffix, workflows.BillingInput{Kind: store.InvoiceMerchant, PayeeID: merchant, Municipality: "castiglione-olona"})
	if e := billingResult(t, empty); !e.Empty || e.InvoiceID != "" {
		t.Fatalf("a municipality with no campaign of the shop's: %+v", e)
	}

	// Each municipality's claim holds its own credits of last month, once.
	claim := claimOf(t, shop, "tradate")
	refs := func(v store.InvoiceView) []string {
		var out []string
		for _, ln := range v.Lines {
			out = append(out, ln.Reference)
		}
		return out
	}
	if claim.Status != store.InvoiceAwaitingDeclaration || claim.TotalCents != 20_34 || claim.LineCount != 2 ||
		!slices.Equal(refs(claim), []string{"campaign_credit:" + c1.ID, "campaign_credit:" + c2.ID}) ||
		claim.Lines[0].AmountCents != 12_34 || claim.Lines[1].AmountCents != 8_00 || claim.PayeeID != merchant {
		t.Fatalf("the Tradate claim: %+v", claim)
	}
	if !strings.Contains(claim.Lines[0].Description, "Rimborso in tradate") {
		t.Errorf("the line does not name its campaign: %q", claim.Lines[0].Description)
	}
	claimV := claimOf(t, shop, "vedano-olona")
	if claimV.Status != store.InvoiceAwaitingDeclaration || claimV.TotalCents != 10_00 ||
		!slices.Equal(refs(claimV), []string{"campaign_credit:" + cv.ID}) {
		t.Fatalf("the Vedano Olona claim: %+v", claimV)
	}
	l = creditsOf(manager, tradate)
	if l.ClaimedCents != 20_34 || l.ReimbursedCents != 0 || len(l.Shops) != 1 || l.Shops[0].ClaimedCents != 20_34 {
		t.Fatalf("the Tradate campaign on its claim: %+v", l)
	}
	if b := billingOf(l); b[c1.ID] != store.CreditClaimed || b[c2.ID] != store.CreditClaimed || b[c3.ID] != store.CreditUnbilled {
		t.Fatalf("billing states on the claim: %v", b)
	}
	if len(acc.Invoices()) != 0 {
		t.Fatalf("a claim went to accounting before its declaration: %+v", acc.Invoices())
	}

	// The shop declares; the claim is sent and the run asks for its payment.
	all := map[string]bool{}
	for _, k := range store.DeclarationItems {
		all[k] = true
	}
	shop.mustCall(http.StatusOK, "POST", "/api/v1/invoices/"+claim.ID+"/declaration", all, nil)
	eventually(t, "the run reading the claim's payment", func() bool { return acc.Held() == 1 })
	recs := acc.Invoices()
	if len(recs) != 1 || recs[0].Reference != claim.ID || recs[0].TotalCents != 20_34 || recs[0].LineCount != 2 || recs[0].Status != accounting.StatusReceived {
		t.Fatalf("accounting received %+v", recs)
	}
	notBooked := func(when string) {
		t.Helper()
		if n := s.count(`SELECT count(*) FROM transfers WHERE kind = 'payout'`); n != 0 {
			t.Fatalf("%s: %d payouts booked", when, n)
		}
		if st := s.count(`SELECT count(*) FROM invoices WHERE id = $1 AND status = 'sent' AND payment_ref IS NULL`, claim.ID); st != 1 {
			t.Fatalf("%s: the claim is not sent and unpaid", when)
		}
		if b := billingOf(creditsOf(manager, tradate)); b[c1.ID] != store.CreditClaimed || b[c2.ID] != store.CreditClaimed {
			t.Fatalf("%s: billing states %v", when, b)
		}
	}
	notBooked("before the payment")
	// The treasurer pays; the platform books nothing until it reads it.
	paid, ok := acc.Pay(recs[0].ID)
	if !ok {
		t.Fatal("the sandbox does not know the claim")
	}
	notBooked("paid at the source, not yet read")
	balances("paid at the source, not yet read", map[string]int64{store.MerchantAccountID(merchant): 35_34})
	acc.ReleaseHeld()
	out := billingResult(t, run)
	if out.Status != store.InvoicePaid || out.InvoiceID != claim.ID || out.TransferID == 0 {
		t.Fatalf("the Tradate run: %+v", out)
	}
	inv, err := s.st.InvoiceByID(ctx, claim.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != store.InvoicePaid || inv.PaymentRef != paid.PaymentRef || inv.AccountingID != paid.ID ||
		inv.PaidAt == nil || !inv.PaidAt.Equal(*paid.PaidAt) {
		t.Fatalf("the paid claim %+v, the sandbox's payment %+v", inv, paid)
	}
	if n := s.count(`SELECT count(*) FROM transfers WHERE kind = 'payout' AND id = $1 AND amount_cents = 2034
		AND from_account = $2 AND to_account = $3`, out.TransferID, store.MerchantAccountID(merchant), store.PayoutAccountID("tradate")); n != 1 {
		t.Fatalf("the payout transfer %d is not 20.34 from the shop to the district's payouts", out.TransferID)
	}

	// The campaign's list: reimbursed, this month's credit still unbilled.
	l = creditsOf(manager, tradate)
	if l.Purchases != 3 || l.CreditedCents != 25_34 || l.ClaimedCents != 0 || l.ReimbursedCents != 20_34 ||
		l.RemainingCents != 500_00-25_34 || len(l.Shops) != 1 || l.Shops[0].ReimbursedCents != 20_34 || l.Shops[0].ClaimedCents != 0 {
		t.Fatalf("the Tradate campaign after the payment: %+v", l)
	}
	if b := billingOf(l); b[c1.ID] != store.CreditReimbursed || b[c2.ID] != store.CreditReimbursed || b[c3.ID] != store.CreditUnbilled {
		t.Fatalf("billing states after the payment: %v", b)
	}
	balances("after the Tradate claim's payment", map[string]int64{
		store.MerchantAccountID(merchant): 5_00 + 10_00, // this month's credit and Vedano Olona's claim
		store.PayoutAccountID("tradate"):  20_34,
	})

	// Vedano Olona's claim: declared, paid, reimbursed on its own campaign.
	if lv := creditsOf(manager, vedano); lv.ClaimedCents != 10_00 || lv.ReimbursedCents != 0 {
		t.Fatalf("the Vedano Olona campaign on its claim: %+v", lv)
	}
	shop.mustCall(http.StatusOK, "POST", "/api/v1/invoices/"+claimV.ID+"/declaration", all, nil)
	var recV accounting.Record
	eventually(t, "the Vedano Olona claim at accounting", func() bool {
		for _, r := range acc.Invoices() {
			if r.Reference == claimV.ID {
				recV = r
			}
		}
		return recV.ID != ""
	})
	if _, ok := acc.Pay(recV.ID); !ok {
		t.Fatal("the sandbox does not know the Vedano Olona claim")
	}
	if o := billingResult(t, runV); o.Status != store.InvoicePaid || o.InvoiceID != claimV.ID {
		t.Fatalf("the Vedano Olona run: %+v", o)
	}
	if lv := creditsOf(manager, vedano); lv.ClaimedCents != 0 || lv.ReimbursedCents != 10_00 || billingOf(lv)[cv.ID] != store.CreditReimbursed {
		t.Fatalf("the Vedano Olona campaign after the payment: %+v", lv)
	}

	// A second run of the month bills and pays nothing again.
	again := s.startBilling("billing-campaign-tradate-again-"+suffix, workflows.BillingInput{Kind: store.InvoiceMerchant, PayeeID: merchant, Municipality: "tradate"})
	if o := billingResult(t, again); o.InvoiceID != claim.ID || o.Status != store.InvoicePaid {
		t.Fatalf("the month's second run: %+v", o)
	}
	if n := s.count(`SELECT count(*) FROM campaign_credits cc WHERE (SELECT count(*) FROM invoice_lines l WHERE l.campaign_credit_id = cc.id) > 1`); n != 0 {
		t.Fatalf("%d credits on more than one claim", n)
	}
	if n := s.count(`SELECT count(*) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id JOIN campaign_credits cc ON cc.id = l.campaign_credit_id
		WHERE i.municipality_id <> cc.municipality_id OR i.merchant_id <> cc.merchant_id OR l.amount_cents <> cc.credit_cents`); n != 0 {
		t.Fatalf("%d credit lines on another municipality's or shop's claim, or of another amount", n)
	}
	if n := s.count(`SELECT count(*) FROM transfers WHERE kind = 'payout'`); n != 2 {
		t.Fatalf("%d payouts, want 2", n)
	}
	balances("at the end", map[string]int64{
		store.MerchantAccountID(merchant): 5_00,
		store.PayoutAccountID("tradate"):  20_34 + 10_00,
		store.CampaignAccountID(tradate):  500_00 - 25_34,
		store.CampaignAccountID(vedano):   100_00 - 10_00,
	})

	// The ledger check, the campaigns' invariants among its checks.
	report, err := s.st.VerifyLedgerSnapshot(ctx, store.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range report.Checks {
		names = append(names, c.Name)
		if c.Violations != 0 {
			t.Errorf("ledger check %s: %d violations %v", c.Name, c.Violations, c.Samples)
		}
	}
	for _, want := range []string{"campaign_budget_funded", "campaign_credit_has_transfer", "campaign_within_budget", "paid_invoice_has_payout", "balances_sum_to_zero"} {
		if !slices.Contains(names, want) {
			t.Errorf("the ledger check lacks %s: %v", want, names)
		}
	}
	s.assertBooksBalance()
}
