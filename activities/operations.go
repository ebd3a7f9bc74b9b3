package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"sportello/internal/contract"
	"sportello/internal/payments"
	"sportello/internal/store"
)

// Operations are the activities of the operations console (issue 13).
type Operations struct {
	Store    *store.Store
	Payments *payments.Client
}

// ResolveRefundByHand carries out an approved refund resolution: the
// provider is asked to refund the incident's amount (its own idempotency
// key, so a retry refunds once), the payment is read back from the
// provider to confirm the refund, and only then the refund is booked in
// the ledger and the incident closed.
func (a *Operations) ResolveRefundByHand(ctx context.Context, in contract.ResolveRefundInput) (contract.ResolveRefundResult, error) {
	var res contract.ResolveRefundResult
	rc, err := a.Store.RefundCaseOf(ctx, in.IncidentID)
	if errors.Is(err, store.ErrNotFound) {
		return res, temporal.NewNonRetryableApplicationError("no such incident", contract.ErrTypeRefundNotOpen, err)
	}
	if err != nil {
		return res, err
	}
	x := rc.Incident
	if x.Status != store.IncidentOpen || x.Kind != store.IncidentRefundFailed || rc.PaymentID == "" {
		return res, temporal.NewNonRetryableApplicationError("the incident is not an open failed refund", contract.ErrTypeRefundNotOpen, nil)
	}
	if a.Payments == nil {
		return res, temporal.NewNonRetryableApplicationError("no payment provider configured", contract.ErrTypePaymentsDisabled, nil)
	}
	reason := fmt.Sprintf("resolved by hand: %s (asked by %s, approved by %s)", in.Reason, in.RequestedBy, in.ApprovedBy)
	rf, err := a.Payments.Refund(ctx, rc.Key+":by-hand", rc.PaymentID, x.AmountCents, reason)
	if err != nil {
		if !payments.IsRetryable(err) {
			return res, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypePaymentRefused, err)
		}
		return res, err
	}
	p, err := a.Payments.Payment(ctx, rc.PaymentID)
	if err != nil {
		return res, err
	}
	if rf.Status != "succeeded" || rf.PaymentID != rc.PaymentID || rf.AmountCents != x.AmountCents || p.RefundedCents < x.AmountCents {
		return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the provider does not confirm the refund (%s, %d cents; %d refunded in all)",
			rf.Status, rf.AmountCents, p.RefundedCents), contract.ErrTypePaymentUnconfirmed, nil)
	}
	if _, err := a.Store.RecordBookingRefund(ctx, x.BookingID, rc.Seqs); err != nil {
		return res, ledgerError(err)
	}
	if _, err := a.Store.ResolveIncidentByID(ctx, x.ID); err != nil {
		return res, err
	}
	return contract.ResolveRefundResult{RefundID: rf.ID, AmountCents: rf.AmountCents, RefundedCents: p.RefundedCents}, nil
}

// OperationsWatch is the activity of the stuck-journey watch. Its work is
// the operations console's list (internal/app/operations, which activities
// may not import): the worker gives it as Check.
type OperationsWatch struct {
	Check func(ctx context.Context) (int, error)
}

// OperationsStuckCheck e-mails the supervisors once about every item stuck
// longer than the threshold and returns how many items are stuck.
func (a *OperationsWatch) OperationsStuckCheck(ctx context.Context) (int, error) {
	return a.Check(ctx)
}
