package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/activities"
	"sportello/internal/accounting"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"
)

// billingStack is the e2e stack whose worker talks to a sandbox accounting
// system on loopback.
func billingStack(t *testing.T, opts accounting.Options) (*stack, *accounting.Server) {
	t.Helper()
	s := newStack(t)
	s.stopWorker()
	acc, cl := testenv.Accounting(t, opts)
	s.worker = worker.NewWith(s.tc, s.st, worker.Config{TaskQueue: s.taskQueue, Accounting: cl})
	if err := s.worker.Start(); err != nil {
		t.Fatal(err)
	}
	return s, acc
}

func (s *stack) startBilling(id string, in workflows.BillingInput) client.WorkflowRun {
	s.t.Helper()
	in.PollInterval = 200 * time.Millisecond
	run, err := s.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: s.taskQueue}, workflows.Billing, in)
	if err != nil {
		s.t.Fatalf("start %s: %v", id, err)
	}
	return run
}

func billingResult(t *testing.T, run client.WorkflowRun) workflows.BillingResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var res workflows.BillingResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("billing run %s: %v", run.GetID(), err)
	}
	return res
}

func (s *stack) recordBillingHistory(t *testing.T, id, name string) {
	dir := os.Getenv("SPORTELLO_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(filepath.Join(dir, "billing"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeHistory(context.Background(), s.tc, id, filepath.Join(dir, "billing", name+".json")); err != nil {
		t.Fatalf("record history: %v", err)
	}
}

// The month's confirmed voucher-paid sessions of Baobab in Tradate and the
// redemptions at a pharmacy are billed through an accounting system that
// answers 503 to the first submissions and status reads: two billing runs
// of the cooperative at once and a third one later make one invoice, sent
// once, paid once; the merchant's claim waits for its self-declaration
// (refused incomplete over HTTP, then signed) and is paid once too. A
// session confirmed this month, planned sessions and a month with nothing
// to bill stay out. The ledger sums to zero throughout.
func TestBillingExactlyOnceThroughAccountingFailures(t *testing.T) {
	s, acc := billingStack(t, accounting.Options{PayAfter: 0})
	f := newBillingFixture(t, s.st)
	b1, s1 := f.book(4, 1500)
	f.confirm(b1, s1[0], lastMonth(3))
	f.confirm(b1, s1[1], lastMonth(10))
	b2, s2 := f.book(2, 2000)
	f.confirm(b2, s2[0], lastMonth(20))
	f.confirm(b2, s2[1], time.Now()) // this month: next month's invoice
	f.redeem(1250, lastMonth(5))
	f.redeem(3000, lastMonth(12))
	for _, fault := range []accounting.Fault{{Kind: "fail-503", Op: "submit", Times: 2}, {Kind: "fail-503", Op: "status", Times: 1}} {
		if err := acc.Inject(fault); err != nil {
			t.Fatal(err)
		}
	}

	coop := workflows.BillingInput{Kind: store.InvoiceCooperative, PayeeID: "baobab", Municipality: "tradate"}
	r1 := s.startBilling("billing-test-coop-1", coop)
	r2 := s.startBilling("billing-test-coop-2", coop)
	merchantRun := s.startBilling("billing-test-merchant", workflows.BillingInput{Kind: store.InvoiceMerchant, PayeeID: f.merchant, Municipality: "tradate"})
	empty := s.startBilling("billing-test-empty", workflows.BillingInput{Kind: store.InvoiceCooperative, PayeeID: "baobab", Municipality: "vedano-olona"})
	// The redeemed vouchers are Tradate's: Vedano Olona owes the pharmacy nothing.
	otherTown := s.startBilling("billing-test-merchant-vedano", workflows.BillingInput{Kind: store.InvoiceMerchant, PayeeID: f.merchant, Municipality: "vedano-olona"})

	res1, res2 := billingResult(t, r1), billingResult(t, r2)
	if res1.Status != store.InvoicePaid || res2.Status != store.InvoicePaid || res1.InvoiceID != res2.InvoiceID {
		t.Fatalf("two runs at once: %+v and %+v", res1, res2)
	}
	for _, run := range []client.WorkflowRun{empty, otherTown} {
		if e := billingResult(t, run); !e.Empty || e.InvoiceID != "" {
			t.Fatalf("%s: a month with nothing to bill: %+v", run.GetID(), e)
		}
	}

	// The merchant's claim waits for the declaration, signed over HTTP.
	m := s.login("esercente.tradate")
	var claim store.InvoiceView
	eventually(t, "the merchant's claim", func() bool {
		var raw json.RawMessage
		if m.call("GET", "/api/v1/invoices", nil, nil, &raw) != http.StatusOK {
			return false
		}
		items := listOf[store.InvoiceView](t, raw)
		if len(items) == 1 {
			claim = items[0]
		}
		return claim.ID != ""
	})
	if claim.Status != store.InvoiceAwaitingDeclaration || claim.TotalCents != 4250 || claim.LineCount != 2 {
		t.Fatalf("claim before the declaration: %+v", claim)
	}
	if len(acc.Invoices()) != 1 {
		t.Fatalf("the claim went to accounting before its declaration: %+v", acc.Invoices())
	}
	var bad struct {
		Error struct {
			Fields []FieldErrorJSON `json:"fields"`
		} `json:"error"`
	}
	if code := m.call("POST", "/api/v1/invoices/"+claim.ID+"/declaration", map[string]bool{"essentials_only": true}, nil, &bad); code != 422 || len(bad.Error.Fields) != 3 {
		t.Fatalf("incomplete declaration: %d %+v", code, bad)
	}
	all := map[string]bool{}
	for _, k := range store.DeclarationItems {
		all[k] = true
	}
	m.mustCall(http.StatusOK, "POST", "/api/v1/invoices/"+claim.ID+"/declaration", all, nil)
	m.mustCall(http.StatusConflict, "POST", "/api/v1/invoices/"+claim.ID+"/declaration", all, nil)
	mres := billingResult(t, merchantRun)
	if mres.Status != store.InvoicePaid || mres.InvoiceID != claim.ID {
		t.Fatalf("merchant run: %+v", mres)
	}

	// A third run of the month changes nothing.
	r3 := s.startBilling("billing-test-coop-3", coop)
	if res3 := billingResult(t, r3); res3.InvoiceID != res1.InvoiceID || res3.Status != store.InvoicePaid {
		t.Fatalf("third run: %+v", res3)
	}
	s.recordBillingHistory(t, "billing-test-coop-1", "cooperative-paid")
	s.recordBillingHistory(t, "billing-test-merchant", "merchant-declared-paid")
	s.recordBillingHistory(t, "billing-test-empty", "empty")

	inv, err := s.st.InvoiceByID(context.Background(), res1.InvoiceID)
	if err != nil {
		t.Fatal(err)
	}
	if inv.TotalCents != 5000 || len(inv.Lines) != 3 || inv.PaymentRef == "" || inv.AccountingID == "" {
		t.Fatalf("the cooperative's invoice: %+v", inv)
	}
	if n := acc.Submissions("invoice:" + inv.ID); n < 3 {
		t.Fatalf("%d submissions of the invoice: the accounting failures were not retried through", n)
	}
	if recs := acc.Invoices(); len(recs) != 2 {
		t.Fatalf("accounting received %d invoices, want 2: %+v", len(recs), recs)
	}

	// The session confirmed this month goes on next month's invoice only.
	_, end := activities.BilledMonth(time.Now())
	next, err := s.st.PrepareInvoice(context.Background(), store.PrepareInvoiceInput{Kind: store.InvoiceCooperative, PayeeID: "baobab",
		Municipality: "tradate", Period: end, PeriodEnd: end.AddDate(0, 1, 0)})
	if err != nil || next.Empty || next.TotalCents != 2000 || next.Lines != 1 {
		t.Fatalf("next month: %+v %v", next, err)
	}

	// One to one: every confirmed voucher-paid session on exactly one line,
	// nothing else billed; each paid invoice has one payout of its total.
	if n := s.count(`SELECT count(*) FROM booking_sessions s WHERE s.status = 'confirmed' AND s.voucher_cents > 0
		AND (SELECT count(*) FROM invoice_lines l WHERE l.session_id = s.id) <> 1`); n != 0 {
		t.Fatalf("%d confirmed sessions not billed exactly once", n)
	}
	if n := s.count(`SELECT count(*) FROM invoice_lines l JOIN booking_sessions s ON s.id = l.session_id WHERE s.status <> 'confirmed'`); n != 0 {
		t.Fatalf("%d sessions billed before confirmation", n)
	}
	if n := s.count(`SELECT count(*) FROM redemptions r WHERE (SELECT count(*) FROM invoice_lines l WHERE l.redemption_id = r.id) <> 1`); n != 0 {
		t.Fatalf("%d redemptions not claimed exactly once", n)
	}
	if n := s.count(`SELECT count(*) FROM transfers WHERE kind = 'payout'`); n != 2 {
		t.Fatalf("%d payouts, want 2", n)
	}
	if n := s.count(`SELECT count(*) FROM invoices i JOIN transfers t ON t.id = i.payout_transfer_id
		WHERE i.status = 'paid' AND t.amount_cents = i.total_cents
		  AND t.amount_cents = (SELECT sum(amount_cents) FROM invoice_lines l WHERE l.invoice_id = i.id)`); n != 2 {
		t.Fatalf("%d paid invoices with one payout of their total, want 2", n)
	}
	for acct, want := range map[string]int64{
		store.CooperativeAccountID("baobab"): 2000, // the session confirmed this month
		store.MerchantAccountID(f.merchant):  0,
		store.PayoutAccountID("tradate"):     5000 + 4250,
	} {
		if got := testenv.Balance(t, s.st, acct); got != want {
			t.Errorf("%s: %d, want %d", acct, got, want)
		}
	}
	s.assertBooksBalance()
}

// FieldErrorJSON is a field error as the API writes it.
type FieldErrorJSON struct {
	Pointer string `json:"pointer"`
	Code    string `json:"code"`
}
