package marketplace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"

	"sportello/internal/incident"
	"sportello/internal/observe"
	"sportello/internal/payments"
	"sportello/internal/store"
	"sportello/workflows"
)

// What follows a payment provider's callback: the API checks its signature
// and body (payments.CallbackHandler, api/payments_callback.go); the event
// is handled here.

// signalTimeout bounds the signal of a payment event to its booking.
const signalTimeout = 10 * time.Second

// PaymentEvent passes a captured or canceled payment to the workflow of the
// booking it pays (the intent's merchant reference is the booking id). A
// signature only proves who may have sent the event, so the claim is first
// confirmed with the provider: the payment as the provider reports it must
// carry this booking as merchant reference, be in the state the event
// claims and, when captured, for the booking's online part; the workflow
// then gets the provider's figures, never the event's. A claim the provider
// does not confirm is refused (payments.ErrUnconfirmed, so that the real
// provider redelivers an event its API could not confirm yet) and logged;
// a captured amount that is not the booking's online part is also recorded
// as an incident for the district's supervisors. The same event may come
// twice: the workflow tells repeats by event id. When the workflow has
// ended (e.g. the booking was cancelled for non-payment), a captured
// payment it never took is refunded here and recorded. Any other error
// asks the provider to deliver the event again.
func (s Service) PaymentEvent(ctx context.Context, ev payments.Event) error {
	if ev.Type != payments.EventCaptured && ev.Type != payments.EventCanceled {
		return nil // refund confirmations: the saga's refunds are final when the provider accepts them
	}
	claim := ev.Payment
	if _, err := uuid.Parse(claim.MerchantReference); err != nil {
		s.Log.WarnContext(ctx, "payment event for no booking", "event", ev.ID, "payment_id", claim.ID, "reference", claim.MerchantReference)
		return nil
	}
	b, err := s.API.Booking(ctx, store.System, claim.MerchantReference)
	if errors.Is(err, store.ErrNotFound) {
		s.Log.WarnContext(ctx, "payment event for an unknown booking", "event", ev.ID, "payment_id", claim.ID, "booking_id", claim.MerchantReference)
		return nil
	}
	if err != nil {
		return err
	}
	p, err := s.confirmPayment(ctx, ev, b)
	if err != nil {
		return err
	}
	if s.Temporal == nil {
		return errors.New("no Temporal client")
	}
	amount := p.AmountCents
	if p.Status == payments.StatusCaptured {
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
	if p.Status != payments.StatusCaptured {
		return nil
	}
	return s.refundLatePayment(ctx, b, p)
}

// confirmPayment reads the event's payment at the provider and checks the
// claim against it and the booking (see PaymentEvent). A provider that
// cannot be reached is an error (the provider retries).
func (s Service) confirmPayment(ctx context.Context, ev payments.Event, b store.BookingView) (payments.Payment, error) {
	if s.Payments == nil {
		return payments.Payment{}, errors.New("no payments client to confirm the event with")
	}
	refuse := func(p payments.Payment, why string) error {
		s.Log.WarnContext(ctx, "payment event refused: not confirmed by the provider", "event", ev.ID, "type", ev.Type,
			"payment_id", ev.Payment.ID, "booking_id", b.ID, "reason", why, "provider_status", p.Status,
			"provider_captured_cents", p.CapturedCents, "claimed_cents", ev.Payment.CapturedCents)
		return fmt.Errorf("%w: %s", payments.ErrUnconfirmed, why)
	}
	p, err := s.Payments.Payment(ctx, ev.Payment.ID)
	if err != nil {
		if payments.IsRetryable(err) {
			return p, err
		}
		return p, refuse(p, "the provider does not know the payment: "+err.Error())
	}
	want := payments.StatusCaptured
	if ev.Type == payments.EventCanceled {
		want = payments.StatusCanceled
	}
	switch {
	case p.ID != ev.Payment.ID || p.MerchantReference != b.ID:
		return p, refuse(p, "the payment is not this booking's")
	case p.Status != want:
		return p, refuse(p, "the provider says the payment is "+p.Status)
	case p.Status == payments.StatusCaptured && p.CapturedCents != b.OnlineCents:
		if err := s.reportIncident(ctx, store.IncidentInput{Key: "booking-payment-mismatch:" + p.ID, BookingID: b.ID,
			Kind: store.IncidentPaymentMismatch, AmountCents: p.CapturedCents,
			Details: fmt.Sprintf("payment %s captured %d cents, the booking's online part is %d cents", p.ID, p.CapturedCents, b.OnlineCents)}); err != nil {
			return p, err
		}
		return p, refuse(p, fmt.Sprintf("captured %d cents, the booking's online part is %d", p.CapturedCents, b.OnlineCents))
	}
	return p, nil
}

// refundLatePayment gives back a captured payment that reached a booking
// after its workflow had ended, unless the ledger shows the workflow took
// it (then it settled or refunded it itself). p is the payment as the
// provider confirmed it. The provider's refund and the record are both
// keyed by the payment id: a repeat does nothing twice. A refund the
// provider refuses for good becomes an incident for the district's
// supervisors (once per payment) and the event is answered as handled:
// redelivering it cannot change the provider's answer.
func (s Service) refundLatePayment(ctx context.Context, b store.BookingView, p payments.Payment) error {
	taken, err := s.API.BookingPaymentTaken(ctx, b.ID)
	if err != nil || taken {
		return err
	}
	if p.CapturedCents > 0 {
		if s.Payments == nil {
			return errors.New("no payments client to refund a late payment")
		}
		key := "booking-late-refund:" + p.ID
		_, err := s.Payments.Refund(ctx, key, p.ID, p.CapturedCents,
			fmt.Sprintf("booking %d was closed before the payment arrived", b.Number))
		if err != nil && !payments.IsRetryable(err) {
			if ierr := s.reportIncident(ctx, store.IncidentInput{Key: key, BookingID: b.ID, Kind: store.IncidentRefundFailed,
				AmountCents: p.CapturedCents, Details: fmt.Sprintf("late refund %s of payment %s: %v", key, p.ID, err)}); ierr != nil {
				return ierr
			}
			s.Log.ErrorContext(ctx, "late payment refund refused by the provider: incident recorded", "booking_id", b.ID, "payment_id", p.ID, "err", err)
			return nil
		}
		if err != nil {
			return err
		}
	}
	booked, err := s.Store.RecordLateRefund(ctx, store.LateRefundInput{BookingID: b.ID, PaymentID: p.ID, Cents: p.CapturedCents})
	if err != nil {
		return err
	}
	if booked { // a redelivered event finds it booked: counted once
		observe.Refunds.Inc()
	}
	s.Log.InfoContext(ctx, "late payment refunded", "booking_id", b.ID, "payment_id", p.ID, "cents", p.CapturedCents)
	return nil
}

// reportIncident records an incident once per key and e-mails the district's
// supervisors once each, as the worker's activities do; a transient mail
// failure is an error (the provider redelivers the event, nothing is done
// twice).
func (s Service) reportIncident(ctx context.Context, in store.IncidentInput) error {
	return incident.Report(ctx, s.Store, s.Mailer, s.PortalURL, in)
}
