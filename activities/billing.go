package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/accounting"
	"sportello/internal/billing"
	"sportello/internal/calendar"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// Billing groups the activities of the billing workflow: the database and
// the municipality's accounting system.
type Billing struct {
	Store      *store.Store
	Accounting *accounting.Client // nil: invoices cannot be sent (the activity fails and is retried)
}

// PrepareInvoiceInput names the payee; the month billed is the one before AsOf.
type PrepareInvoiceInput struct {
	Kind         string    `json:"Kind"` // contract.InvoiceCooperative or contract.InvoiceMerchant
	PayeeID      string    `json:"PayeeID"`
	Municipality string    `json:"Municipality"`
	AsOf         time.Time `json:"AsOf"`
	WorkflowID   string    `json:"WorkflowID"`
}

// BilledMonth is the month before t in Italian time: its first day and the
// first instant after it.
func BilledMonth(t time.Time) (time.Time, time.Time) {
	t = t.In(calendar.Rome())
	end := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, calendar.Rome())
	return end.AddDate(0, -1, 0), end
}

// PrepareInvoice makes (once) the payee's invoice for the month before AsOf.
func (a *Billing) PrepareInvoice(ctx context.Context, in PrepareInvoiceInput) (contract.PreparedInvoice, error) {
	from, end := BilledMonth(in.AsOf)
	res, err := a.Store.PrepareInvoice(ctx, store.PrepareInvoiceInput{Kind: in.Kind, PayeeID: in.PayeeID,
		Municipality: in.Municipality, Period: from, PeriodEnd: end, WorkflowID: in.WorkflowID})
	if errors.Is(err, store.ErrNotFound) {
		return res, temporal.NewNonRetryableApplicationError("no such payee "+in.PayeeID, contract.ErrTypeInvoiceState, err)
	}
	return res, err
}

// InvoiceInput names an invoice.
type InvoiceInput struct {
	InvoiceID string `json:"InvoiceID"`
}

// InvoiceStatusResult is an invoice's status in the database.
type InvoiceStatusResult struct {
	Status       string `json:"Status"`
	AccountingID string `json:"AccountingID"`
}

// InvoiceStatus reads an invoice's status (a claim waiting for its declaration).
func (a *Billing) InvoiceStatus(ctx context.Context, in InvoiceInput) (InvoiceStatusResult, error) {
	v, err := a.Store.InvoiceByID(ctx, in.InvoiceID)
	if err != nil {
		return InvoiceStatusResult{}, err
	}
	return InvoiceStatusResult{Status: v.Status, AccountingID: v.AccountingID}, nil
}

// SendInvoiceResult is the accounting system's id of the invoice.
type SendInvoiceResult struct {
	AccountingID string `json:"AccountingID"`
}

// SendInvoice sends a ready invoice with its PDF to the accounting system
// (idempotency key "invoice:<id>", the same on every attempt) and records
// it as sent. An invoice already sent returns its accounting id.
func (a *Billing) SendInvoice(ctx context.Context, in InvoiceInput) (SendInvoiceResult, error) {
	v, err := a.Store.InvoiceByID(ctx, in.InvoiceID)
	if err != nil {
		return SendInvoiceResult{}, err
	}
	switch v.Status {
	case store.InvoiceSent, store.InvoicePaid:
		return SendInvoiceResult{AccountingID: v.AccountingID}, nil
	case store.InvoiceReady:
	default:
		return SendInvoiceResult{}, temporal.NewNonRetryableApplicationError("invoice "+v.ID+" is "+v.Status, contract.ErrTypeInvoiceState, nil)
	}
	if a.Accounting == nil {
		return SendInvoiceResult{}, errors.New("no accounting system configured")
	}
	pdf, err := billing.InvoicePDF(v)
	if err != nil {
		return SendInvoiceResult{}, temporal.NewNonRetryableApplicationError("render invoice PDF", contract.ErrTypeInvoiceState, err)
	}
	sub := accounting.Submission{Reference: v.ID, Number: v.Number, Kind: v.Kind, District: v.District,
		Municipality: v.Municipality, PayeeID: v.PayeeID, PayeeName: v.PayeeName, Period: v.Period,
		TotalCents: v.TotalCents, Declaration: v.Declaration, Lines: accountingLines(v.Lines), PDF: pdf}
	rec, err := a.Accounting.Submit(ctx, "invoice:"+v.ID, sub)
	if accounting.IsPermanent(err) {
		return SendInvoiceResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeAccountingRejected, err)
	}
	if err != nil {
		activity.GetLogger(ctx).Warn("accounting system not reachable, will retry", "invoice", v.ID, "err", err)
		return SendInvoiceResult{}, err
	}
	if err := a.Store.MarkInvoiceSent(ctx, v.ID, rec.ID); err != nil {
		return SendInvoiceResult{}, err
	}
	return SendInvoiceResult{AccountingID: rec.ID}, nil
}

// accountingLines turns the invoice's lines into the accounting system's.
func accountingLines(lines []store.InvoiceLine) []accounting.Line {
	if lines == nil {
		return nil
	}
	out := make([]accounting.Line, 0, len(lines))
	for _, l := range lines {
		out = append(out, accounting.Line{Seq: l.Seq, Description: l.Description, Date: l.Date,
			AmountCents: l.AmountCents, Reference: l.Reference, Funder: l.Funder, CompanyID: l.CompanyID})
	}
	return out
}

// CheckPaymentInput names a sent invoice.
type CheckPaymentInput struct {
	InvoiceID    string `json:"InvoiceID"`
	AccountingID string `json:"AccountingID"`
}

// CheckPaymentResult says whether the municipality has paid.
type CheckPaymentResult struct {
	Paid       bool      `json:"Paid"`
	PaymentRef string    `json:"PaymentRef"`
	PaidAt     time.Time `json:"PaidAt"`
}

// CheckPayment reads the invoice's status in the accounting system.
func (a *Billing) CheckPayment(ctx context.Context, in CheckPaymentInput) (CheckPaymentResult, error) {
	if a.Accounting == nil {
		return CheckPaymentResult{}, errors.New("no accounting system configured")
	}
	rec, err := a.Accounting.Invoice(ctx, in.AccountingID)
	if accounting.IsPermanent(err) {
		return CheckPaymentResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeAccountingRejected, err)
	}
	if err != nil {
		return CheckPaymentResult{}, err
	}
	if rec.Status != accounting.StatusPaid || rec.PaidAt == nil || rec.PaymentRef == "" {
		return CheckPaymentResult{}, nil
	}
	return CheckPaymentResult{Paid: true, PaymentRef: rec.PaymentRef, PaidAt: *rec.PaidAt}, nil
}

// ReconcileInput is a payment to record.
type ReconcileInput struct {
	InvoiceID  string    `json:"InvoiceID"`
	PaymentRef string    `json:"PaymentRef"`
	PaidAt     time.Time `json:"PaidAt"`
}

// ReconcileResult is the payout transfer.
type ReconcileResult struct {
	TransferID int64 `json:"TransferID"`
}

// ReconcileInvoice records the payment once: payout transfer and paid status.
func (a *Billing) ReconcileInvoice(ctx context.Context, in ReconcileInput) (ReconcileResult, error) {
	id, err := a.Store.ReconcileInvoice(ctx, in.InvoiceID, in.PaymentRef, in.PaidAt)
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.Code != "retry" && !errors.Is(err, store.ErrInsufficient) {
		return ReconcileResult{}, temporal.NewNonRetryableApplicationError(ce.Message, contract.ErrTypeInvoiceState, err)
	}
	return ReconcileResult{TransferID: id}, err
}
