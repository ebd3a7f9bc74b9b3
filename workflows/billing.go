package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// billingActs is how the billing workflow names its activities.
var billingActs *activities.Billing

// SignalDeclared tells a billing run that the merchant signed the
// self-declaration of its claim (the run also checks by itself every
// PollInterval, so a lost signal only delays it).
const SignalDeclared = contract.SignalDeclared

// BillingInput is one payee's monthly billing run.
type BillingInput struct {
	Kind         string `json:"Kind"`         // contract.InvoiceCooperative or contract.InvoiceMerchant
	PayeeID      string `json:"PayeeID"`      // cooperative or merchant
	Municipality string `json:"Municipality"` // the municipality billed (a merchant's claim: whose vouchers it redeemed)
	// PollInterval is how often the run checks for the merchant's declaration
	// and for the payment (default 6h).
	PollInterval time.Duration `json:"PollInterval"`
	// InvoiceID resumes a run after continue-as-new (the invoice is made).
	InvoiceID string `json:"InvoiceID"`
}

// BillingResult is the run's outcome.
type BillingResult struct {
	InvoiceID  string `json:"InvoiceID"`
	Status     string `json:"Status"` // paid, or empty when there was nothing to bill
	Empty      bool   `json:"Empty"`
	TransferID int64  `json:"TransferID"`
}

// Billing bills one payee for the month before it runs: it makes the
// invoice (or the merchant's reimbursement claim) of the confirmed
// voucher-funded sessions or the redemptions not billed yet, waits for the
// merchant's self-declaration, sends it with its PDF to the municipality's
// accounting system (retried through its failures), polls until it is paid
// and reconciles the payment: one payout transfer, invoice paid. Every
// step is idempotent, so a repeated run bills and pays nothing twice; a
// month with nothing to bill sends nothing.
func Billing(ctx workflow.Context, in BillingInput) (BillingResult, error) {
	if in.PollInterval <= 0 {
		in.PollInterval = 6 * time.Hour
	}
	local := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	remote := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeAccountingRejected, contract.ErrTypeInvoiceState}},
	})
	res := BillingResult{InvoiceID: in.InvoiceID}
	status := ""
	if in.InvoiceID == "" {
		var prep contract.PreparedInvoice
		if err := workflow.ExecuteActivity(local, billingActs.PrepareInvoice, activities.PrepareInvoiceInput{
			Kind: in.Kind, PayeeID: in.PayeeID, Municipality: in.Municipality,
			AsOf: workflow.Now(ctx), WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		}).Get(ctx, &prep); err != nil {
			return res, err
		}
		if prep.Empty {
			res.Empty = true
			return res, nil
		}
		res.InvoiceID, status = prep.ID, prep.Status
	} else {
		var st activities.InvoiceStatusResult
		if err := workflow.ExecuteActivity(local, billingActs.InvoiceStatus, activities.InvoiceInput{InvoiceID: in.InvoiceID}).Get(ctx, &st); err != nil {
			return res, err
		}
		status = st.Status
	}
	if status == contract.InvoicePaid {
		res.Status = status
		return res, nil
	}

	// A merchant's claim waits for the self-declaration.
	declared := workflow.GetSignalChannel(ctx, SignalDeclared)
	for status == contract.InvoiceAwaitingDeclaration {
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			in.InvoiceID = res.InvoiceID
			return res, workflow.NewContinueAsNewError(ctx, Billing, in)
		}
		timerCtx, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(declared, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.AddFuture(workflow.NewTimer(timerCtx, in.PollInterval), func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		var st activities.InvoiceStatusResult
		if err := workflow.ExecuteActivity(local, billingActs.InvoiceStatus, activities.InvoiceInput{InvoiceID: res.InvoiceID}).Get(ctx, &st); err != nil {
			return res, err
		}
		status = st.Status
	}

	var sent activities.SendInvoiceResult
	if err := workflow.ExecuteActivity(remote, billingActs.SendInvoice, activities.InvoiceInput{InvoiceID: res.InvoiceID}).Get(ctx, &sent); err != nil {
		return res, err
	}
	for {
		var pay activities.CheckPaymentResult
		if err := workflow.ExecuteActivity(remote, billingActs.CheckPayment, activities.CheckPaymentInput{
			InvoiceID: res.InvoiceID, AccountingID: sent.AccountingID}).Get(ctx, &pay); err != nil {
			return res, err
		}
		if pay.Paid {
			var rec activities.ReconcileResult
			if err := workflow.ExecuteActivity(local, billingActs.ReconcileInvoice, activities.ReconcileInput{
				InvoiceID: res.InvoiceID, PaymentRef: pay.PaymentRef, PaidAt: pay.PaidAt}).Get(ctx, &rec); err != nil {
				return res, err
			}
			res.Status, res.TransferID = contract.InvoicePaid, rec.TransferID
			return res, nil
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			in.InvoiceID = res.InvoiceID
			return res, workflow.NewContinueAsNewError(ctx, Billing, in)
		}
		if err := workflow.Sleep(ctx, in.PollInterval); err != nil {
			return res, err
		}
	}
}
