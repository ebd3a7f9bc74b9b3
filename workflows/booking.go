package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// bookActs is how the booking workflow names its activities: methods on a
// nil *Bookings.
var bookActs *activities.Bookings

// BookingPaymentWindow is how long a citizen has to pay the online part of
// a booking; after it the booking is cancelled and the voucher part voided.
const BookingPaymentWindow = time.Hour

// DeliveryClockSkew is how far in the future a recorded delivery may be (the
// API's clock and the workflow's differ a little).
const DeliveryClockSkew = 5 * time.Minute

// Limits of what a booking update may carry.
const (
	maxBookingReason = 1000
	maxDeliveryNote  = 2000
)

// Reasons the workflow itself gives for a cancellation.
const (
	BookingReasonNoCooperative = "no_cooperative"  // every equivalent cooperative declined or did not answer
	BookingReasonNotPaid       = "payment_missing" // no payment within BookingPaymentWindow
	BookingReasonPaymentFailed = "payment_failed"  // the provider reported a failed or cancelled payment
)

// Provider payment statuses the workflow understands.
var (
	paymentPaidStatuses   = []string{"captured", "succeeded", "paid"}
	paymentFailedStatuses = []string{"failed", "canceled", "cancelled"}
)

// BookingResult is how the saga ended.
type BookingResult struct {
	Status string `json:"status"`
}

// BookingUpdateResult answers every booking update.
type BookingUpdateResult struct {
	Status string `json:"status"`
}

// BookingOfferState is the offer currently out (or the last one).
type BookingOfferState struct {
	Attempt         int       `json:"attempt"`
	CooperativeID   string    `json:"cooperative_id"`
	CooperativeName string    `json:"cooperative_name"`
	ServiceID       int64     `json:"service_id"`
	RespondBy       time.Time `json:"respond_by"`
	Open            bool      `json:"open"`
}

// BookingSessionState is one session as the workflow sees it.
type BookingSessionState struct {
	Seq          int        `json:"seq"`
	Status       string     `json:"status"`
	VoucherCents int64      `json:"voucher_cents"`
	OnlineCents  int64      `json:"online_cents"`
	ScheduledAt  *time.Time `json:"scheduled_at,omitempty"`
	DeliveredAt  *time.Time `json:"delivered_at,omitempty"`
	ConfirmBy    *time.Time `json:"confirm_by,omitempty"` // automatic confirmation
}

// BookingState answers the booking-state query.
type BookingState struct {
	Status     string                `json:"status"`
	PaymentID  string                `json:"payment_id,omitempty"`
	PaymentURL string                `json:"payment_url,omitempty"`
	Paid       bool                  `json:"paid"`
	Offer      *BookingOfferState    `json:"offer,omitempty"`
	Sessions   []BookingSessionState `json:"sessions"`
}

// Booking is the saga of one marketplace booking: the online payment when
// there is one, the offer to the cooperative booked and, on decline or
// silence, to the next equivalent one, the sessions' dates, their delivery,
// their confirmation by the citizen or automatically (each one moving its
// money to the cooperative) and cancellation of what is not delivered.
func Booking(ctx workflow.Context, in BookingInput) (BookingResult, error) {
	s := &booking{in: in, status: BookingAwaitingPayment, events: map[string]bool{}}
	if err := s.setup(ctx); err != nil {
		return BookingResult{}, err
	}
	return s.run(ctx)
}

type booking struct {
	in         BookingInput
	mu         workflow.Mutex
	status     string
	paymentID  string
	paymentURL string
	level      workflow.Version // booking: the stacked changes this execution takes (versions.go)
	loaded     bool             // the booking has been read (the run's first activity)
	online     int64            // the online part, to be paid first
	paid       bool
	payFailed  bool
	events     map[string]bool // payment events applied (looked up, never iterated)
	offer      *BookingOfferState
	accepted   bool
	offering   bool   // an offer is being written (answers wait for it)
	prevCoop   string // the cooperative of the offer just closed, and why
	prevReason string
	sessions   []BookingSessionState
	autoDays   int
	version    int // bumped by every change the main loop waits on
	refunds    int
	pending    int // background work (refunds, notifications, payment events) in flight
	notifySeq  int
	mainOpts   workflow.ActivityOptions
	refundOpts workflow.ActivityOptions
	notifyOpts workflow.LocalActivityOptions
}

func (s *booking) setup(ctx workflow.Context) error {
	s.mu = workflow.NewMutex(ctx)
	s.mainOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
	s.refundOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: 5 * time.Minute},
	}
	s.notifyOpts = workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 15 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	}
	if err := workflow.SetQueryHandler(ctx, QueryBookingState, func() (BookingState, error) {
		st := BookingState{Status: s.status, PaymentID: s.paymentID, PaymentURL: s.paymentURL, Paid: s.paid,
			Sessions: append([]BookingSessionState(nil), s.sessions...)}
		if s.offer != nil {
			o := *s.offer
			st.Offer = &o
		}
		return st, nil
	}); err != nil {
		return err
	}
	for _, h := range []struct {
		name    string
		handler any
		valid   any
	}{
		{UpdateBookingRespond, s.respond, s.validateRespond},
		{UpdateBookingRecordDelivery, s.recordDelivery, s.validateDelivery},
		{UpdateBookingConfirmDelivery, s.confirmDelivery, s.validateConfirm},
		{UpdateBookingCancel, s.cancel, s.validateCancel},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.valid}); err != nil {
			return err
		}
	}
	ch := workflow.GetSignalChannel(ctx, SignalBookingPayment)
	workflow.Go(ctx, func(gctx workflow.Context) {
		for {
			var p BookingPayment
			ch.Receive(gctx, &p)
			s.pending++
			s.onPayment(gctx, p)
			s.pending--
		}
	})
	return nil
}

func (s *booking) act(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, s.mainOpts)
}

func (s *booking) ref(ctx workflow.Context) activities.BookingRef {
	return activities.BookingRef{BookingID: s.in.BookingID, At: workflow.Now(ctx)}
}

func (s *booking) run(ctx workflow.Context) (BookingResult, error) {
	s.level = workflow.GetVersion(ctx, versionBooking, workflow.DefaultVersion, bookingLevel)
	var facts activities.BookingFactsResult
	if err := workflow.ExecuteActivity(s.act(ctx), bookActs.LoadBooking, s.ref(ctx)).Get(ctx, &facts); err != nil {
		return BookingResult{}, err
	}
	s.status, s.autoDays, s.online = facts.Status, max(facts.AutoconfirmDays, 1), s.in.OnlineCents
	if s.level >= bookingOnlineFromBooking {
		s.online = facts.OnlineCents // the booking as written wins over the start input
	}
	for _, x := range facts.Sessions {
		s.sessions = append(s.sessions, BookingSessionState{Seq: x.Seq, Status: x.Status, VoucherCents: x.VoucherCents,
			OnlineCents: x.OnlineCents, ScheduledAt: x.ScheduledAt, DeliveredAt: x.DeliveredAt})
	}
	s.loaded = true
	if s.status == BookingCancelled || s.status == BookingCompleted {
		if s.level >= bookingJudgeWhenLoaded {
			// Updates that waited for the load are answered (the booking
			// is closed) before the run ends.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return BookingResult{}, err
			}
		}
		return BookingResult{Status: s.status}, nil // the API gave up on this booking
	}
	proceed := true
	if s.online > 0 {
		var err error
		if proceed, err = s.payment(ctx); err != nil {
			return BookingResult{}, err
		}
	} else if err := workflow.ExecuteActivity(s.act(ctx), bookActs.MarkRequested, s.ref(ctx)).Get(ctx, nil); err != nil {
		return BookingResult{}, err
	}
	if proceed {
		if err := s.offers(ctx); err != nil {
			return BookingResult{}, err
		}
	}
	if s.accepted {
		if err := s.deliveries(ctx); err != nil {
			return BookingResult{}, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && s.pending == 0 }); err != nil {
		return BookingResult{}, err
	}
	return BookingResult{Status: s.status}, nil
}

// ---- payment ----

// payment creates the intent and waits for the provider's event; it
// reports whether the booking goes on (paid) or was cancelled.
func (s *booking) payment(ctx workflow.Context) (bool, error) {
	deadline := workflow.Now(ctx).Add(BookingPaymentWindow)
	popts := s.mainOpts
	popts.ScheduleToCloseTimeout = BookingPaymentWindow // provider down for the whole window: cancel
	var intent activities.PaymentIntentResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, popts), bookActs.CreatePaymentIntent, s.ref(ctx)).Get(ctx, &intent)
	if err != nil {
		workflow.GetLogger(ctx).Warn("booking payment intent not created", "booking", s.in.BookingID, "error", err)
		return false, s.locked(ctx, func() error { return s.cancelUnpaid(ctx, BookingReasonNotPaid) })
	}
	s.paymentID, s.paymentURL = intent.PaymentID, intent.PaymentURL
	settled := func() bool { return s.paid || s.payFailed || s.status == BookingCancelled }
	if wait := deadline.Sub(workflow.Now(ctx)); wait > 0 {
		if _, err := workflow.AwaitWithTimeout(ctx, wait, settled); err != nil {
			return false, err
		}
	}
	err = s.locked(ctx, func() error {
		switch {
		case s.paid || s.status == BookingCancelled:
			return nil
		case s.payFailed:
			return s.cancelUnpaid(ctx, BookingReasonPaymentFailed)
		}
		// No event came: ask the provider before giving up (a lost callback).
		var st activities.PaymentStatusResult
		qopts := s.mainOpts
		qopts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3}
		qerr := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, qopts), bookActs.PaymentStatus,
			activities.PaymentStatusInput{PaymentID: s.paymentID}).Get(ctx, &st)
		if qerr == nil && oneOf(st.Status, paymentPaidStatuses) && st.CapturedCents == s.online {
			return s.recordPayment(ctx, st.CapturedCents)
		}
		return s.cancelUnpaid(ctx, BookingReasonNotPaid)
	})
	return s.paid && s.status != BookingCancelled, err
}

// onPayment applies one provider event: each event once, one payment once.
func (s *booking) onPayment(ctx workflow.Context, p BookingPayment) {
	if p.EventID != "" {
		if s.events[p.EventID] {
			return
		}
		s.events[p.EventID] = true
	}
	err := s.locked(ctx, func() error {
		if s.paymentID != "" && p.PaymentID != s.paymentID {
			workflow.GetLogger(ctx).Warn("payment event for another payment ignored", "booking", s.in.BookingID, "payment", p.PaymentID)
			return nil
		}
		switch {
		case oneOf(p.Status, paymentPaidStatuses):
			if s.paid {
				return nil // the provider said it twice
			}
			if s.paymentID == "" {
				s.paymentID = p.PaymentID
			}
			if err := s.recordPayment(ctx, p.Amount); err != nil {
				return err
			}
			if s.status == BookingCancelled {
				// Paid after the booking was cancelled: give it all back.
				return s.refund(ctx, s.seqsWhere(contract.SessionCancelled), "late payment")
			}
		case oneOf(p.Status, paymentFailedStatuses):
			if !s.paid {
				s.payFailed = true
				s.version++
			}
		}
		return nil
	})
	if err != nil {
		workflow.GetLogger(ctx).Error("payment event not applied", "booking", s.in.BookingID, "event", p.EventID, "error", err)
	}
}

func (s *booking) recordPayment(ctx workflow.Context, amount int64) error {
	if err := workflow.ExecuteActivity(s.act(ctx), bookActs.RecordPayment, activities.RecordPaymentInput{
		BookingID: s.in.BookingID, PaymentID: s.paymentID, AmountCents: amount}).Get(ctx, nil); err != nil {
		return err
	}
	s.paid = true
	s.status = contract.BookingStatusRequestable(s.status)
	s.version++
	return nil
}

// cancelUnpaid cancels a booking whose payment did not come.
func (s *booking) cancelUnpaid(ctx workflow.Context, reason string) error {
	if err := workflow.ExecuteActivity(s.act(ctx), bookActs.MarkPaymentFailed, s.ref(ctx)).Get(ctx, nil); err != nil {
		return err
	}
	return s.cancelPlanned(ctx, reason, false)
}

// ---- offers ----

func (s *booking) offers(ctx workflow.Context) error {
	for attempt := 1; ; attempt++ {
		var offer contract.Offer
		stop := false
		err := s.locked(ctx, func() error {
			if s.status == BookingCancelled {
				stop = true
				return nil
			}
			s.offering = true
			err := workflow.ExecuteActivity(s.act(ctx), bookActs.OfferBooking, contract.OfferInput{BookingID: s.in.BookingID,
				Attempt: attempt, At: workflow.Now(ctx)}).Get(ctx, &offer)
			s.offering = false
			if err != nil {
				return err
			}
			if !offer.Found {
				stop = true
				return s.cancelPlanned(ctx, BookingReasonNoCooperative, false)
			}
			s.offer = &BookingOfferState{Attempt: offer.Attempt, CooperativeID: offer.CooperativeID, CooperativeName: offer.CooperativeName,
				ServiceID: offer.ServiceID, RespondBy: offer.RespondBy, Open: true}
			s.status = BookingRequested
			if attempt > 1 {
				s.notify(ctx, activities.KindBookingReoffered, map[string]any{"previous": s.prevCoop, "reason": s.prevReason})
			}
			return nil
		})
		if err != nil || stop {
			return err
		}
		open := func() bool { return s.offer.Open }
		if wait := offer.RespondBy.Sub(workflow.Now(ctx)); wait > 0 {
			if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return !open() }); err != nil {
				return err
			}
		}
		err = s.locked(ctx, func() error {
			if !s.offer.Open {
				return nil
			}
			return s.closeOffer(ctx, contract.OfferExpired, "", 0)
		})
		if err != nil {
			return err
		}
		if s.accepted || s.status == BookingCancelled {
			return nil
		}
	}
}

func (s *booking) closeOffer(ctx workflow.Context, outcome, reason string, by int64) error {
	if err := workflow.ExecuteActivity(s.act(ctx), bookActs.CloseOffer, contract.CloseOfferInput{BookingID: s.in.BookingID,
		Attempt: s.offer.Attempt, Outcome: outcome, Reason: reason, By: by, At: workflow.Now(ctx)}).Get(ctx, nil); err != nil {
		return err
	}
	s.offer.Open = false
	s.prevCoop, s.prevReason = s.offer.CooperativeName, reason
	s.version++
	return nil
}

func (s *booking) validateRespond(ctx workflow.Context, in BookingRespondInput) error {
	if err := s.notClosed(); s.judged() && err != nil {
		return err
	}
	if in.Actor.Role != string(contract.RoleCooperative) {
		return temporal.NewApplicationError("only a cooperative answers a booking request", ErrTypeBookingNotYours)
	}
	// The offer row is visible in the cooperative's inbox as soon as it is
	// written, a moment before the workflow learns it: an answer arriving
	// then is accepted here and checked by the handler once it is known.
	if s.judged() && !s.offering {
		if err := s.offerPendingOn(ctx, in.CooperativeID); err != nil {
			return err
		}
	}
	now := workflow.Now(ctx)
	if !in.Accept {
		reason := strings.TrimSpace(in.Reason)
		if reason == "" {
			return bookingInvalid("/reason", "booking.err.decline_reason_required")
		}
		if utf8.RuneCountInString(reason) > maxBookingReason {
			return bookingInvalid("/reason", "booking.err.reason_too_long", maxBookingReason)
		}
		return nil
	}
	if s.judged() && len(in.Sessions) != len(s.sessions) {
		return bookingInvalid("/sessions", "booking.err.session_dates_count", len(s.sessions))
	}
	for i, d := range in.Sessions {
		if !d.After(now) {
			return bookingInvalid(fmt.Sprintf("/sessions/%d", i), "booking.err.session_date_in_past", i+1)
		}
	}
	return nil
}

// offerPendingOn checks that an offer is open on cooperative and not expired.
func (s *booking) offerPendingOn(ctx workflow.Context, cooperative string) error {
	if s.offer == nil || !s.offer.Open {
		return temporal.NewApplicationError("the booking is not waiting for a cooperative's answer", ErrTypeBookingWrongState)
	}
	if cooperative != s.offer.CooperativeID {
		return temporal.NewApplicationError("the request is not pending on this cooperative", ErrTypeBookingNotYours)
	}
	if !workflow.Now(ctx).Before(s.offer.RespondBy) {
		return temporal.NewApplicationError("the time to answer this request has run out", ErrTypeBookingWrongState)
	}
	return nil
}

func (s *booking) respond(ctx workflow.Context, in BookingRespondInput) (BookingUpdateResult, error) {
	if err := s.whenLoaded(ctx, func() error { return s.validateRespond(ctx, in) }); err != nil {
		return BookingUpdateResult{Status: s.status}, err
	}
	err := s.locked(ctx, func() error {
		if err := s.offerPendingOn(ctx, in.CooperativeID); err != nil {
			return err
		}
		if !in.Accept {
			return s.closeOffer(ctx, contract.OfferDeclined, strings.TrimSpace(in.Reason), in.Actor.UserID)
		}
		if err := workflow.ExecuteActivity(s.act(ctx), bookActs.AcceptOffer, contract.AcceptOfferInput{BookingID: s.in.BookingID,
			Attempt: s.offer.Attempt, By: in.Actor.UserID, Dates: in.Sessions, At: workflow.Now(ctx)}).Get(ctx, nil); err != nil {
			return err
		}
		for i := range s.sessions {
			if s.sessions[i].Status == contract.SessionPlanned {
				d := in.Sessions[i]
				s.sessions[i].ScheduledAt = &d
			}
		}
		s.offer.Open, s.accepted, s.status = false, true, BookingConfirmed
		s.version++
		s.notify(ctx, activities.KindBookingConfirmed, nil)
		return nil
	})
	return BookingUpdateResult{Status: s.status}, err
}

// ---- deliveries and confirmations ----

func (s *booking) deliveries(ctx workflow.Context) error {
	for !s.settled() {
		v := s.version
		changed := func() bool { return s.version != v }
		if next := s.nextAutoConfirm(); next != nil {
			if wait := next.Sub(workflow.Now(ctx)); wait > 0 {
				if _, err := workflow.AwaitWithTimeout(ctx, wait, changed); err != nil {
					return err
				}
			}
		} else if err := workflow.Await(ctx, changed); err != nil {
			return err
		}
		err := s.locked(ctx, func() error {
			now := workflow.Now(ctx)
			var due []int
			for _, x := range s.sessions {
				if x.Status == contract.SessionDelivered && x.ConfirmBy != nil && !x.ConfirmBy.After(now) {
					due = append(due, x.Seq)
				}
			}
			return s.confirmSessions(ctx, due, "auto")
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// settled: every session confirmed or cancelled.
func (s *booking) settled() bool {
	for _, x := range s.sessions {
		if x.Status == contract.SessionPlanned || x.Status == contract.SessionDelivered {
			return false
		}
	}
	return true
}

func (s *booking) nextAutoConfirm() *time.Time {
	var next *time.Time
	for _, x := range s.sessions {
		if x.Status == contract.SessionDelivered && x.ConfirmBy != nil && (next == nil || x.ConfirmBy.Before(*next)) {
			next = x.ConfirmBy
		}
	}
	return next
}

func (s *booking) session(seq int) *BookingSessionState {
	for i := range s.sessions {
		if s.sessions[i].Seq == seq {
			return &s.sessions[i]
		}
	}
	return nil
}

func (s *booking) validateDelivery(ctx workflow.Context, in BookingDeliveryInput) error {
	judged := s.judged()
	if err := s.notClosed(); judged && err != nil {
		return err
	}
	if in.Actor.Role != string(contract.RoleCooperative) || judged && (s.offer == nil || in.CooperativeID != s.offer.CooperativeID) {
		return temporal.NewApplicationError("the booking is not held by this cooperative", ErrTypeBookingNotYours)
	}
	if judged && !s.accepted {
		return temporal.NewApplicationError("deliveries are recorded once the booking is confirmed", ErrTypeBookingWrongState)
	}
	if judged {
		x := s.session(in.Seq)
		if x == nil {
			return bookingInvalid("/seq", "booking.err.no_such_session", in.Seq)
		}
		if x.Status != contract.SessionPlanned {
			return temporal.NewApplicationError(fmt.Sprintf("session %d is %s", in.Seq, x.Status), ErrTypeBookingWrongState)
		}
	}
	if in.DeliveredAt.IsZero() {
		return bookingInvalid("/delivered_at", "booking.err.delivery_date_required")
	}
	if in.DeliveredAt.After(workflow.Now(ctx).Add(DeliveryClockSkew)) {
		return bookingInvalid("/delivered_at", "booking.err.delivery_in_future")
	}
	if utf8.RuneCountInString(in.Note) > maxDeliveryNote {
		return bookingInvalid("/note", "booking.err.note_too_long", maxDeliveryNote)
	}
	return nil
}

func (s *booking) recordDelivery(ctx workflow.Context, in BookingDeliveryInput) (BookingUpdateResult, error) {
	if err := s.whenLoaded(ctx, func() error { return s.validateDelivery(ctx, in) }); err != nil {
		return BookingUpdateResult{Status: s.status}, err
	}
	err := s.locked(ctx, func() error {
		x := s.session(in.Seq)
		if x == nil || x.Status != contract.SessionPlanned {
			return temporal.NewApplicationError(fmt.Sprintf("session %d is no longer planned", in.Seq), ErrTypeBookingWrongState)
		}
		if err := workflow.ExecuteActivity(s.act(ctx), bookActs.RecordDelivery, contract.DeliveryInput{BookingID: s.in.BookingID,
			Seq: in.Seq, CooperativeID: in.CooperativeID, By: in.Actor.UserID, DeliveredAt: in.DeliveredAt,
			Note: strings.TrimSpace(in.Note)}).Get(ctx, nil); err != nil {
			return err
		}
		at, by := in.DeliveredAt, workflow.Now(ctx).Add(time.Duration(s.autoDays)*24*time.Hour)
		x.Status, x.DeliveredAt, x.ConfirmBy = contract.SessionDelivered, &at, &by
		s.refreshStatus()
		return nil
	})
	return BookingUpdateResult{Status: s.status}, err
}

func (s *booking) validateConfirm(ctx workflow.Context, in BookingConfirmInput) error {
	if err := s.notClosed(); s.judged() && err != nil {
		return err
	}
	if in.Actor.UserID != s.in.CitizenID {
		return temporal.NewApplicationError("only the citizen who booked confirms deliveries", ErrTypeBookingNotYours)
	}
	if len(in.Seqs) == 0 {
		return bookingInvalid("/seqs", "booking.err.no_session_chosen")
	}
	if !s.judged() {
		return nil
	}
	for i, seq := range in.Seqs {
		x := s.session(seq)
		if x == nil {
			return bookingInvalid(fmt.Sprintf("/seqs/%d", i), "booking.err.no_such_session", seq)
		}
		if x.Status != contract.SessionDelivered {
			return temporal.NewApplicationError(fmt.Sprintf("session %d is %s, not waiting for confirmation", seq, x.Status),
				ErrTypeBookingWrongState)
		}
	}
	return nil
}

func (s *booking) confirmDelivery(ctx workflow.Context, in BookingConfirmInput) (BookingUpdateResult, error) {
	if err := s.whenLoaded(ctx, func() error { return s.validateConfirm(ctx, in) }); err != nil {
		return BookingUpdateResult{Status: s.status}, err
	}
	err := s.locked(ctx, func() error {
		var seqs []int
		for _, seq := range in.Seqs {
			if x := s.session(seq); x != nil && x.Status == contract.SessionDelivered {
				seqs = append(seqs, seq) // one confirmed automatically meanwhile is left as it is
			}
		}
		return s.confirmSessions(ctx, seqs, "citizen")
	})
	return BookingUpdateResult{Status: s.status}, err
}

// confirmSessions confirms delivered sessions (posting their money).
func (s *booking) confirmSessions(ctx workflow.Context, seqs []int, by string) error {
	if len(seqs) == 0 {
		return nil
	}
	if err := workflow.ExecuteActivity(s.act(ctx), bookActs.ConfirmSessions, contract.ConfirmSessionsInput{BookingID: s.in.BookingID,
		Seqs: seqs, By: by, At: workflow.Now(ctx)}).Get(ctx, nil); err != nil {
		return err
	}
	for _, seq := range seqs {
		s.session(seq).Status = contract.SessionConfirmed
	}
	s.refreshStatus()
	return nil
}

// ---- cancellation ----

func (s *booking) validateCancel(ctx workflow.Context, in BookingCancelInput) error {
	if in.Actor.UserID != s.in.CitizenID && !isStaff(in.Actor) {
		return temporal.NewApplicationError("only the citizen or staff can cancel a booking", ErrTypeForbidden)
	}
	if err := s.notClosed(); s.judged() && err != nil {
		return err
	}
	if s.judged() && len(s.seqsWhere(contract.SessionPlanned)) == 0 {
		return temporal.NewApplicationError("every session has been delivered: nothing is left to cancel", ErrTypeBookingWrongState)
	}
	if utf8.RuneCountInString(strings.TrimSpace(in.Reason)) > maxBookingReason {
		return bookingInvalid("/reason", "booking.err.reason_too_long", maxBookingReason)
	}
	return nil
}

func (s *booking) cancel(ctx workflow.Context, in BookingCancelInput) (BookingUpdateResult, error) {
	if err := s.whenLoaded(ctx, func() error { return s.validateCancel(ctx, in) }); err != nil {
		return BookingUpdateResult{Status: s.status}, err
	}
	err := s.locked(ctx, func() error {
		if len(s.seqsWhere(contract.SessionPlanned)) == 0 {
			return temporal.NewApplicationError("nothing is left to cancel", ErrTypeBookingWrongState)
		}
		withdraw := s.offer != nil && s.offer.Open
		if err := s.cancelPlanned(ctx, strings.TrimSpace(in.Reason), withdraw); err != nil {
			return err
		}
		if withdraw {
			s.offer.Open = false
		}
		return nil
	})
	return BookingUpdateResult{Status: s.status}, err
}

// cancelPlanned cancels every planned session: their voucher shares go back
// to the voucher now, their online shares (when paid) are refunded through
// the provider in the background. The citizen is told.
func (s *booking) cancelPlanned(ctx workflow.Context, reason string, withdraw bool) error {
	seqs := s.seqsWhere(contract.SessionPlanned)
	if len(seqs) == 0 {
		return nil
	}
	if err := workflow.ExecuteActivity(s.act(ctx), bookActs.CancelSessions, contract.CancelSessionsInput{BookingID: s.in.BookingID,
		Seqs: seqs, Reason: reason, Withdraw: withdraw, At: workflow.Now(ctx)}).Get(ctx, nil); err != nil {
		return err
	}
	var voucher, online int64
	for _, seq := range seqs {
		x := s.session(seq)
		x.Status = contract.SessionCancelled
		voucher += x.VoucherCents
		online += x.OnlineCents
	}
	if !s.accepted {
		s.status = BookingCancelled
	}
	s.refreshStatus()
	refund := int64(0)
	if s.paid {
		refund = online
		if err := s.refund(ctx, seqs, reason); err != nil {
			return err
		}
	}
	s.notify(ctx, activities.KindBookingCancelled, map[string]any{"reason": reason, "refund_cents": refund, "voucher_cents": voucher})
	return nil
}

// refund gives back the online shares of cancelled sessions, in the
// background: the provider may be down for a while, the key keeps it once.
func (s *booking) refund(ctx workflow.Context, seqs []int, reason string) error {
	var amount int64
	for _, seq := range seqs {
		amount += s.session(seq).OnlineCents
	}
	s.refunds++
	in := activities.RefundInput{BookingID: s.in.BookingID, PaymentID: s.paymentID, Seqs: seqs, AmountCents: amount, Reason: reason,
		Key: fmt.Sprintf("%s:refund:%d", BookingWorkflowID(s.in.BookingID), s.refunds)}
	s.pending++
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { s.pending-- }()
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(gctx, s.refundOpts), bookActs.RefundSessions, in).Get(gctx, nil)
		if err != nil {
			workflow.GetLogger(gctx).Error("booking refund failed for good", "booking", s.in.BookingID, "key", in.Key, "error", err)
		}
	})
	return nil
}

// ---- helpers ----

// locked runs f holding the workflow's mutex: handlers and the main loop
// change the booking one at a time.
func (s *booking) locked(ctx workflow.Context, f func() error) error {
	if err := s.mu.Lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return f()
}

func (s *booking) seqsWhere(status string) []int {
	var out []int
	for _, x := range s.sessions {
		if x.Status == status {
			out = append(out, x.Seq)
		}
	}
	return out
}

// refreshStatus derives the booking's status from its sessions by the rule
// the store applies in the database (contract.BookingStatusFromSessions).
// Until a cooperative accepted, only a cancellation of every session
// changes it.
func (s *booking) refreshStatus() {
	s.version++
	statuses := make([]string, len(s.sessions))
	for i, x := range s.sessions {
		statuses[i] = x.Status
	}
	if next := contract.BookingStatusFromSessions(s.status, statuses); s.accepted || next == BookingCancelled {
		s.status = next
	}
}

// judged says whether the update validators judge the booking's state:
// always below level 2 (bookingJudgeWhenLoaded); from it, once the booking
// is loaded. Before that a validator checks only the update itself and
// accepts it, and the handler judges the rest once the booking is known
// (whenLoaded).
func (s *booking) judged() bool {
	return s.level < bookingJudgeWhenLoaded || s.loaded
}

// whenLoaded starts every update handler. An update its validator accepted
// before the booking was loaded waits for the load, then is judged by check
// (the validator, now with the booking's state); any other goes on at once.
// Validators and handlers run one after the other with nothing in between,
// so judged() answers here what it answered to the validator.
func (s *booking) whenLoaded(ctx workflow.Context, check func() error) error {
	if s.judged() {
		return nil
	}
	if err := workflow.Await(ctx, func() bool { return s.loaded }); err != nil {
		return err
	}
	return check()
}

func (s *booking) notClosed() error {
	if s.status == BookingCompleted || s.status == BookingCancelled {
		return temporal.NewApplicationError("the booking is "+s.status, ErrTypeBookingClosed)
	}
	return nil
}

// notify tells the citizen in the background; the workflow ends only when
// every notification has been handled.
func (s *booking) notify(ctx workflow.Context, kind string, data map[string]any) {
	s.notifySeq++
	in := activities.BookingNotifyInput{Key: fmt.Sprintf("%s:notify:%d:%s", BookingWorkflowID(s.in.BookingID), s.notifySeq, kind),
		BookingID: s.in.BookingID, CitizenID: s.in.CitizenID, Kind: kind, Data: data}
	notifyInBackground(ctx, s.notifyOpts, &s.pending, in.Key, bookActs.NotifyBooking, in)
}

// bookingInvalid is a validator's refusal of a field (invalid).
func bookingInvalid(pointer, id string, args ...any) error {
	return temporal.NewApplicationError(id, ErrTypeBookingInvalidData, FieldProblem{Pointer: pointer, ID: id, Args: args})
}

func oneOf(v string, set []string) bool {
	for _, x := range set {
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}

// BookingErrorType is the application error type of err ("" when none).
func BookingErrorType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}
