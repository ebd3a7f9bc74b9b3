package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"

	"sportello/internal/payments"
	"sportello/internal/store"
	"sportello/workflows"
)

// signalTimeout bounds the signal of a payment event to its booking.
const signalTimeout = 10 * time.Second

// paymentsCallback receives the payment provider's signed events
// (payments.CallbackHandler: 400 for a bad signature or body, 204 when
// handled, 500 asks the provider to retry).
func (s *server) paymentsCallback() gin.HandlerFunc {
	return gin.WrapH(payments.CallbackHandler(s.PaymentsSecret, 0, s.log, s.paymentEvent))
}

// paymentEvent passes a captured or canceled payment to the workflow of the
// booking it pays (the intent's merchant reference is the booking id). The
// same event may come twice: the workflow tells repeats by event id. When
// the workflow has ended (e.g. the booking was cancelled for non-payment),
// a captured payment it never took is refunded here and recorded.
func (s *server) paymentEvent(ctx context.Context, ev payments.Event) error {
	if ev.Type != payments.EventCaptured && ev.Type != payments.EventCanceled {
		return nil // refund confirmations: the saga's refunds are final when the provider accepts them
	}
	p := ev.Payment
	if _, err := uuid.Parse(p.MerchantReference); err != nil {
		s.log.WarnContext(ctx, "payment event for no booking", "event", ev.ID, "payment_id", p.ID, "reference", p.MerchantReference)
		return nil
	}
	b, err := s.api.Booking(ctx, store.System, p.MerchantReference)
	if errors.Is(err, store.ErrNotFound) {
		s.log.WarnContext(ctx, "payment event for an unknown booking", "event", ev.ID, "payment_id", p.ID, "booking_id", p.MerchantReference)
		return nil
	}
	if err != nil {
		return err
	}
	if s.Temporal == nil {
		return errors.New("no Temporal client")
	}
	amount := p.AmountCents
	if ev.Type == payments.EventCaptured {
		amount = p.CapturedCents
	}
	sctx, cancel := context.WithTimeout(ctx, signalTimeout)
	defer cancel()
	err = s.Temporal.SignalWorkflow(sctx, b.WorkflowID, "", workflows.SignalBookingPayment, workflows.BookingPayment{
		EventID: ev.ID, PaymentID: p.ID, Status: p.Status, Amount: amount})
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return err
	}
	if ev.Type != payments.EventCaptured {
		return nil
	}
	return s.refundLatePayment(ctx, b, p)
}

// refundLatePayment gives back a captured payment that reached a booking
// after its workflow had ended, unless the ledger shows the workflow took
// it (then it settled or refunded it itself). The provider's refund and the
// record are both keyed by the payment id: a repeat does nothing twice.
func (s *server) refundLatePayment(ctx context.Context, b store.BookingView, p payments.Payment) error {
	taken, err := s.api.BookingPaymentTaken(ctx, b.ID)
	if err != nil || taken {
		return err
	}
	if p.CapturedCents > 0 {
		if s.Payments == nil {
			return errors.New("no payments client to refund a late payment")
		}
		_, err := s.Payments.Refund(ctx, "booking-late-refund:"+p.ID, p.ID, p.CapturedCents,
			fmt.Sprintf("booking %d was closed before the payment arrived", b.Number))
		if err != nil {
			return err
		}
	}
	if err := s.Store.RecordLateRefund(ctx, store.LateRefundInput{BookingID: b.ID, PaymentID: p.ID, Cents: p.CapturedCents}); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "late payment refunded", "booking_id", b.ID, "payment_id", p.ID, "cents", p.CapturedCents)
	return nil
}
