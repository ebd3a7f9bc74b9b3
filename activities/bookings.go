package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/contract"
	"sportello/internal/incident"
	"sportello/internal/notify"
	"sportello/internal/observe"
	"sportello/internal/payments"
	"sportello/internal/store"
)

// Notification kinds of bookings.
const (
	KindBookingConfirmed = notify.KindBookingConfirmed
	KindBookingReoffered = notify.KindBookingReoffered
	KindBookingCancelled = notify.KindBookingCancelled
)

// RefundIncidentAttempts is the attempt of RefundSessions from which a
// refund still failing for a retryable reason is reported as an incident
// (it keeps being retried; the incident is resolved if it goes through).
// With the saga's refund retry policy (2s doubling up to 5 minutes) that is
// after about ten minutes of failures.
const RefundIncidentAttempts = 10

// Bookings groups the activities of the Booking workflow: the database
// writes of each step, the payment provider's calls and the citizen's
// notifications. Every one is idempotent under retries.
type Bookings struct {
	Store       *store.Store
	Payments    *payments.Client // nil: bookings with an online part cannot be paid
	Mailer      Mailer           // nil: notifications are recorded, not sent
	PortalURL   string           // the portal's base URL (return page of payments, links in e-mails)
	CallbackURL string           // where the provider posts payment events ("" = PortalURL + contract.PaymentsCallbackPath)
}

// BookingRef names a booking and the workflow time.
type BookingRef struct {
	BookingID string    `json:"BookingID"`
	At        time.Time `json:"At"`
}

// BookingFactsResult is what the workflow learns about its booking at start.
type BookingFactsResult struct {
	Status          string                    `json:"Status"`
	CooperativeID   string                    `json:"CooperativeID"`
	OnlineCents     int64                     `json:"OnlineCents"`
	PaymentStatus   string                    `json:"PaymentStatus"`
	Sessions        []contract.BookingSession `json:"Sessions"`
	AutoconfirmDays int                       `json:"AutoconfirmDays"`
}

func notFoundBooking(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("booking "+id+" does not exist", contract.ErrTypeBookingNotFound, err)
	}
	return err
}

// LoadBooking reads the booking the API wrote at checkout.
func (a *Bookings) LoadBooking(ctx context.Context, in BookingRef) (BookingFactsResult, error) {
	f, err := a.Store.BookingFacts(ctx, in.BookingID)
	if err != nil {
		return BookingFactsResult{}, notFoundBooking(in.BookingID, err)
	}
	return BookingFactsResult{Status: f.Booking.Status, CooperativeID: f.Booking.CooperativeID, OnlineCents: f.Booking.OnlineCents,
		PaymentStatus: f.Booking.PaymentStatus, Sessions: f.Booking.Sessions, AutoconfirmDays: f.AutoconfirmDays}, nil
}

// PaymentIntentResult is the provider's payment of a booking.
type PaymentIntentResult struct {
	PaymentID  string `json:"PaymentID"`
	PaymentURL string `json:"PaymentURL"`
}

// IntentKey is the idempotency key of a booking's payment intent.
func IntentKey(bookingID string) string { return "booking:" + bookingID + ":intent" }

// CreatePaymentIntent asks the provider for the booking's payment (the same
// key on every attempt: one intent whatever the retries) and stores its id
// and checkout URL on the booking. A provider that is down is retried by
// Temporal; a refusal (4xx) is final.
func (a *Bookings) CreatePaymentIntent(ctx context.Context, in BookingRef) (PaymentIntentResult, error) {
	if a.Payments == nil {
		return PaymentIntentResult{}, temporal.NewNonRetryableApplicationError("no payment provider configured", contract.ErrTypePaymentsDisabled, nil)
	}
	b, err := a.Store.API().Booking(ctx, store.System, in.BookingID)
	if err != nil {
		return PaymentIntentResult{}, notFoundBooking(in.BookingID, err)
	}
	portal := strings.TrimRight(a.PortalURL, "/")
	callback := a.CallbackURL
	if callback == "" {
		callback = portal + contract.PaymentsCallbackPath
	}
	p, err := a.Payments.CreateIntent(ctx, IntentKey(b.ID), payments.IntentRequest{
		AmountCents:       b.OnlineCents,
		Description:       fmt.Sprintf("Prenotazione n. %d – %s", b.Number, b.ServiceName),
		MerchantReference: b.ID,
		ReturnURL:         portal + contract.BookingPaymentReturnPath(b.ID),
		CallbackURL:       callback,
	})
	if err != nil {
		if !payments.IsRetryable(err) {
			return PaymentIntentResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypePaymentRefused, err)
		}
		return PaymentIntentResult{}, err
	}
	if err := a.Store.SetBookingPayment(ctx, b.ID, p.ID, p.CheckoutURL); err != nil {
		return PaymentIntentResult{}, err
	}
	return PaymentIntentResult{PaymentID: p.ID, PaymentURL: p.CheckoutURL}, nil
}

// PaymentStatusInput asks the provider about a payment.
type PaymentStatusInput struct {
	PaymentID string `json:"PaymentID"`
}

// PaymentStatusResult is the provider's view of a payment.
type PaymentStatusResult struct {
	Status        string `json:"Status"`
	CapturedCents int64  `json:"CapturedCents"`
}

// PaymentStatus reads a payment at the provider (when no callback came).
func (a *Bookings) PaymentStatus(ctx context.Context, in PaymentStatusInput) (PaymentStatusResult, error) {
	if a.Payments == nil {
		return PaymentStatusResult{}, temporal.NewNonRetryableApplicationError("no payment provider configured", contract.ErrTypePaymentsDisabled, nil)
	}
	p, err := a.Payments.Payment(ctx, in.PaymentID)
	if err != nil {
		if !payments.IsRetryable(err) {
			return PaymentStatusResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypePaymentRefused, err)
		}
		return PaymentStatusResult{}, err
	}
	return PaymentStatusResult{Status: p.Status, CapturedCents: p.CapturedCents}, nil
}

// RecordPaymentInput is a captured payment of a booking.
type RecordPaymentInput struct {
	BookingID   string `json:"BookingID"`
	PaymentID   string `json:"PaymentID"`
	AmountCents int64  `json:"AmountCents"`
}

// RecordPayment books the captured payment into the booking's online
// account, once (key booking:<id>:payment), after confirming it with the
// provider: the payment must be captured, carry the booking as merchant
// reference, and its captured amount must be the booking's online part (and
// the amount claimed). Otherwise nothing is booked and the error is final;
// a captured payment of another amount is also reported to the district's
// supervisors as an incident (real money the booking cannot take).
func (a *Bookings) RecordPayment(ctx context.Context, in RecordPaymentInput) error {
	if err := a.confirmPayment(ctx, in); err != nil {
		return err
	}
	err := a.Store.RecordBookingPayment(ctx, in.BookingID, in.PaymentID, in.AmountCents)
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		return temporal.NewNonRetryableApplicationError(conflict.Message, contract.ErrTypeBookingPaymentBad, err)
	}
	return err
}

// confirmPayment reads the payment at the provider and checks it against
// the booking (see RecordPayment).
func (a *Bookings) confirmPayment(ctx context.Context, in RecordPaymentInput) error {
	if a.Payments == nil {
		return temporal.NewNonRetryableApplicationError("no payment provider configured", contract.ErrTypePaymentsDisabled, nil)
	}
	f, err := a.Store.BookingFacts(ctx, in.BookingID)
	if err != nil {
		return notFoundBooking(in.BookingID, err)
	}
	p, err := a.Payments.Payment(ctx, in.PaymentID)
	if err != nil {
		if !payments.IsRetryable(err) {
			return temporal.NewNonRetryableApplicationError("payment not confirmed by the provider: "+err.Error(), contract.ErrTypePaymentUnconfirmed, err)
		}
		return err
	}
	refuse := func(why string) error {
		activity.GetLogger(ctx).Warn("payment claim not confirmed by the provider", "booking", in.BookingID, "payment", in.PaymentID,
			"reason", why, "provider_status", p.Status, "captured_cents", p.CapturedCents, "claimed_cents", in.AmountCents)
		return temporal.NewNonRetryableApplicationError("payment not confirmed by the provider: "+why, contract.ErrTypePaymentUnconfirmed, nil)
	}
	switch {
	case p.MerchantReference != in.BookingID:
		return refuse("the payment is another booking's")
	case p.Status != payments.StatusCaptured:
		return refuse("the payment is " + p.Status + ", not captured")
	case p.CapturedCents != f.Booking.OnlineCents:
		if err := a.reportIncident(ctx, store.IncidentInput{Key: "booking-payment-mismatch:" + p.ID, BookingID: in.BookingID,
			Kind: store.IncidentPaymentMismatch, AmountCents: p.CapturedCents,
			Details: fmt.Sprintf("payment %s captured %d cents, the booking's online part is %d cents", p.ID, p.CapturedCents, f.Booking.OnlineCents)}); err != nil {
			return err
		}
		return refuse(fmt.Sprintf("captured %d cents, the booking's online part is %d", p.CapturedCents, f.Booking.OnlineCents))
	case in.AmountCents != p.CapturedCents:
		return refuse(fmt.Sprintf("%d cents claimed, %d captured", in.AmountCents, p.CapturedCents))
	}
	return nil
}

// reportIncident records the incident once (per key) and e-mails the
// district's supervisors about it, once each; a supervisor without an
// address sees it on the incidents page only. A transient mail failure is
// returned so that Temporal retries (the incident is not recorded twice).
func (a *Bookings) reportIncident(ctx context.Context, in store.IncidentInput) error {
	return ReportIncident(ctx, a.Store, a.Mailer, a.PortalURL, in)
}

// ReportIncident records an incident and tells the district's supervisors
// by e-mail when mailer is not nil (internal/incident; kept here for the
// integration tests).
func ReportIncident(ctx context.Context, st *store.Store, mailer Mailer, portalURL string, in store.IncidentInput) error {
	return incident.Report(ctx, st, mailer, portalURL, in)
}

// MarkPaymentFailed records a failed or abandoned payment.
func (a *Bookings) MarkPaymentFailed(ctx context.Context, in BookingRef) error {
	return a.Store.MarkBookingPaymentFailed(ctx, in.BookingID)
}

// MarkRequested moves a booking paid entirely by voucher to requested.
func (a *Bookings) MarkRequested(ctx context.Context, in BookingRef) error {
	return a.Store.MarkBookingRequested(ctx, in.BookingID)
}

// OfferBooking writes the attempt-th offer of the booking (see store.OfferBooking).
func (a *Bookings) OfferBooking(ctx context.Context, in contract.OfferInput) (contract.Offer, error) {
	return a.Store.OfferBooking(ctx, in)
}

// CloseOffer ends a pending offer as declined, expired or withdrawn.
func (a *Bookings) CloseOffer(ctx context.Context, in contract.CloseOfferInput) error {
	return a.Store.CloseOffer(ctx, in)
}

// AcceptOffer confirms the offer with the sessions' dates.
func (a *Bookings) AcceptOffer(ctx context.Context, in contract.AcceptOfferInput) error {
	return a.Store.AcceptOffer(ctx, in)
}

// RecordDelivery marks a session delivered.
func (a *Bookings) RecordDelivery(ctx context.Context, in contract.DeliveryInput) error {
	return a.Store.RecordSessionDelivery(ctx, in)
}

// ledgerError makes a ledger refusal final: retrying moves no money.
func ledgerError(err error) error {
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		return temporal.NewNonRetryableApplicationError(conflict.Message, contract.ErrTypeBookingLedger, err)
	}
	return err
}

// ConfirmSessions confirms delivered sessions and posts/settles their money.
func (a *Bookings) ConfirmSessions(ctx context.Context, in contract.ConfirmSessionsInput) error {
	return ledgerError(a.Store.ConfirmSessions(ctx, in))
}

// CancelSessions cancels planned sessions and voids their voucher shares.
func (a *Bookings) CancelSessions(ctx context.Context, in contract.CancelSessionsInput) error {
	return ledgerError(a.Store.CancelSessions(ctx, in))
}

// RefundInput refunds the online shares of cancelled sessions.
type RefundInput struct {
	BookingID   string `json:"BookingID"`
	PaymentID   string `json:"PaymentID"`
	Key         string `json:"Key"` // the provider's idempotency key: one refund per cancellation
	Seqs        []int  `json:"Seqs"`
	AmountCents int64  `json:"AmountCents"`
	Reason      string `json:"Reason"`
}

// RefundSessions refunds the online shares of cancelled sessions at the
// provider (same key on every attempt: refunded once) and then books the
// refund, once per session. A refund that cannot be made is never silent:
// a permanent refusal of the provider is recorded as an incident for the
// district's supervisors (and e-mailed to them) before the activity fails
// for good; a retryable failure keeps being retried by Temporal (the refund
// policy has no attempt limit) and, from RefundIncidentAttempts on, is an
// incident too, resolved when the refund finally goes through. One incident
// per refund key.
func (a *Bookings) RefundSessions(ctx context.Context, in RefundInput) error {
	if in.AmountCents > 0 {
		if a.Payments == nil {
			return temporal.NewNonRetryableApplicationError("no payment provider configured", contract.ErrTypePaymentsDisabled, nil)
		}
		attempt := activity.GetInfo(ctx).Attempt
		if _, err := a.Payments.Refund(ctx, in.Key, in.PaymentID, in.AmountCents, in.Reason); err != nil {
			incident := store.IncidentInput{Key: in.Key, BookingID: in.BookingID, Kind: store.IncidentRefundFailed,
				AmountCents: in.AmountCents, Details: fmt.Sprintf("refund %s of payment %s: %v", in.Key, in.PaymentID, err)}
			if !payments.IsRetryable(err) {
				if ierr := a.reportIncident(ctx, incident); ierr != nil {
					return ierr // retried: the provider answers the same key the same way
				}
				return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypePaymentRefused, err)
			}
			if attempt >= RefundIncidentAttempts {
				incident.Details = fmt.Sprintf("still failing after %d attempts (retried): %s", attempt, incident.Details)
				if ierr := a.reportIncident(ctx, incident); ierr != nil {
					activity.GetLogger(ctx).Error("refund incident not recorded", "key", in.Key, "error", ierr)
				}
			}
			return err
		}
		if attempt >= RefundIncidentAttempts {
			if err := a.Store.ResolveIncident(ctx, in.Key); err != nil {
				return err
			}
		}
	}
	// Counted only when this call booked it: an attempt retried after its
	// commit finds the refund booked and counts nothing.
	booked, err := a.Store.RecordBookingRefund(ctx, in.BookingID, in.Seqs)
	if err != nil {
		return ledgerError(err)
	}
	if booked {
		observe.Refunds.Inc()
	}
	return nil
}

// BookingNotifyInput is one message to the citizen of a booking.
type BookingNotifyInput struct {
	Key       string         `json:"Key"` // unique per notification; the recipient is appended
	BookingID string         `json:"BookingID"`
	CitizenID int64          `json:"CitizenID"`
	Kind      string         `json:"Kind"`
	Data      map[string]any `json:"Data"`
}

// NotifyBooking tells the citizen about their booking, once. A citizen
// without an e-mail address is recorded on the social_point channel, as for
// appointments.
func (a *Bookings) NotifyBooking(ctx context.Context, in BookingNotifyInput) error {
	n, err := a.Store.BookingNoticeFacts(ctx, in.BookingID)
	if err != nil {
		return notFoundBooking(in.BookingID, err)
	}
	data := map[string]any{"name": n.Name, "portal_url": a.PortalURL, "path": "/bookings/" + in.BookingID,
		"number": n.Number, "service_name": n.ServiceName, "cooperative": n.Cooperative, "reason": "",
		"previous": "", "refund_cents": int64(0), "voucher_cents": int64(0), "company_cents": int64(0)}
	if in.Kind == KindBookingCancelled {
		// The company credit given back is read from the booking (the
		// workflow's data names the voucher and online parts only): a
		// booking's planned sessions are cancelled all at once, so the
		// cancelled sessions' company parts are this cancellation's.
		data["company_cents"] = n.CompanyReturnedCents
	}
	maps.Copy(data, in.Data)
	return notifyCitizen(ctx, a.Store, a.Mailer, in.Key+":"+strconv.FormatInt(in.CitizenID, 10), in.Kind, n.Email, n.Name, data)
}
