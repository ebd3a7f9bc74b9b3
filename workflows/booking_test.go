package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
	"sportello/internal/payments"
)

// bookingSuite runs the Booking workflow with activities that keep a small
// fake of the database's state (offers, sessions, transfers by key), so the
// tests can assert on the money moved: each transfer key once.
type bookingSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env        *testsuite.TestWorkflowEnvironment
	load       *testsuite.MockCallWrapper // LoadBooking's mock (a test may delay it)
	loadStatus string                     // the booking's status as LoadBooking reads it

	lock      sync.Mutex
	coops     []string // cooperatives willing to take the booking, in order
	offers    []contract.Offer
	closed    []contract.CloseOfferInput
	transfers map[string]int64 // idempotency key → amount (a key applied twice is a test failure)
	dupKeys   []string
	intents   int // CreatePaymentIntent calls that reached the "provider"
	refunds   []activities.RefundInput
	failFirst map[string]int // activity name → attempts to fail with a retryable error first
	notes     []string
	sessions  int
	voucher   int64 // per session
	online    int64 // per session
}

func TestBookingWorkflow(t *testing.T) { suite.Run(t, new(bookingSuite)) }

var (
	bookingStart = time.Date(2026, 3, 2, 10, 0, 0, 0, rome)
	coopActor    = Actor{UserID: 77, Username: "coop.baobab", Role: "cooperative"}
	eurekaActor  = Actor{UserID: 78, Username: "coop.eureka", Role: "cooperative"}
	bookingOwner = Actor{UserID: 5, Username: "cittadino.tradate", Role: "citizen"}
)

func (s *bookingSuite) SetupTest() {
	s.env = newTestEnv(&s.WorkflowTestSuite, errorsOnly)
	s.env.SetStartTime(bookingStart)
	s.env.RegisterActivity(&activities.Bookings{})
	s.coops = []string{"baobab", "eureka"}
	s.offers, s.closed, s.refunds, s.notes, s.dupKeys = nil, nil, nil, nil, nil
	s.transfers, s.failFirst = map[string]int64{}, map[string]int{}
	s.intents, s.sessions, s.voucher, s.online = 0, 3, 1000, 500
	s.loadStatus = BookingAwaitingPayment

	s.load = s.env.OnActivity(bookActs.LoadBooking, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BookingRef) (activities.BookingFactsResult, error) {
			res := activities.BookingFactsResult{Status: s.loadStatus, CooperativeID: "baobab", AutoconfirmDays: 7,
				OnlineCents: s.online * int64(s.sessions)}
			for i := 1; i <= s.sessions; i++ {
				res.Sessions = append(res.Sessions, contract.BookingSession{Seq: i, Status: contract.SessionPlanned,
					VoucherCents: s.voucher, OnlineCents: s.online})
			}
			return res, nil
		})
	s.env.OnActivity(bookActs.CreatePaymentIntent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BookingRef) (activities.PaymentIntentResult, error) {
			if err := s.fail("intent"); err != nil {
				return activities.PaymentIntentResult{}, err
			}
			s.lock.Lock()
			defer s.lock.Unlock()
			s.intents++
			return activities.PaymentIntentResult{PaymentID: "pay_1", PaymentURL: "http://sandbox/pay/pay_1"}, nil
		})
	s.env.OnActivity(bookActs.PaymentStatus, mock.Anything, mock.Anything).Return(
		activities.PaymentStatusResult{Status: payments.StatusPending}, nil)
	s.env.OnActivity(bookActs.RecordPayment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordPaymentInput) error {
			s.transfer("booking:b1:payment", in.AmountCents)
			return nil
		})
	s.env.OnActivity(bookActs.MarkPaymentFailed, mock.Anything, mock.Anything).Return(nil)
	s.env.OnActivity(bookActs.MarkRequested, mock.Anything, mock.Anything).Return(nil)
	s.env.OnActivity(bookActs.OfferBooking, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.OfferInput) (contract.Offer, error) {
			s.lock.Lock()
			defer s.lock.Unlock()
			if in.Attempt > len(s.coops) {
				return contract.Offer{Attempt: in.Attempt}, nil
			}
			o := contract.Offer{Found: true, Attempt: in.Attempt, CooperativeID: s.coops[in.Attempt-1],
				CooperativeName: s.coops[in.Attempt-1], ServiceID: int64(in.Attempt), RespondBy: in.At.Add(48 * time.Hour)}
			s.offers = append(s.offers, o)
			return o, nil
		})
	s.env.OnActivity(bookActs.CloseOffer, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CloseOfferInput) error {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.closed = append(s.closed, in)
			return nil
		})
	s.env.OnActivity(bookActs.AcceptOffer, mock.Anything, mock.Anything).Return(nil)
	s.env.OnActivity(bookActs.RecordDelivery, mock.Anything, mock.Anything).Return(nil)
	s.env.OnActivity(bookActs.ConfirmSessions, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.ConfirmSessionsInput) error {
			for _, seq := range in.Seqs {
				s.transfer(sessionKey(seq, "post"), s.voucher)
				s.transfer(sessionKey(seq, "settle"), s.online)
			}
			return nil
		})
	s.env.OnActivity(bookActs.CancelSessions, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CancelSessionsInput) error {
			for _, seq := range in.Seqs {
				s.transfer(sessionKey(seq, "void"), s.voucher)
			}
			return nil
		})
	s.env.OnActivity(bookActs.RefundSessions, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RefundInput) error {
			if err := s.fail("refund"); err != nil {
				return err
			}
			s.lock.Lock()
			s.refunds = append(s.refunds, in)
			s.lock.Unlock()
			for _, seq := range in.Seqs {
				s.transfer(sessionKey(seq, "refund"), s.online)
			}
			return nil
		})
	s.env.OnActivity(bookActs.NotifyBooking, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BookingNotifyInput) error {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.notes = append(s.notes, in.Kind)
			return nil
		})
}

func sessionKey(seq int, kind string) string {
	return "booking:b1:session:" + string(rune('0'+seq)) + ":" + kind
}

// transfer applies a keyed transfer once, as store.Transfer does, and
// remembers keys applied again (none should be: the workflow asks once).
func (s *bookingSuite) transfer(key string, amount int64) {
	s.lock.Lock()
	defer s.lock.Unlock()
	if amount == 0 {
		return
	}
	if _, ok := s.transfers[key]; ok {
		s.dupKeys = append(s.dupKeys, key)
		return
	}
	s.transfers[key] = amount
}

// fail makes the named activity fail (retryably) its first attempts: the
// provider down, then back.
func (s *bookingSuite) fail(name string) error {
	s.lock.Lock()
	defer s.lock.Unlock()
	if s.failFirst[name] > 0 {
		s.failFirst[name]--
		return temporal.NewApplicationError("provider unavailable (503)", "payments")
	}
	return nil
}

func (s *bookingSuite) start(online int64) BookingResult {
	s.env.ExecuteWorkflow(Booking, BookingInput{BookingID: "b1", DistrictID: "tradate", CitizenID: bookingOwner.UserID, OnlineCents: online})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res BookingResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Empty(s.dupKeys, "no transfer key is applied twice")
	return res
}

type bookingOutcome struct {
	rejected, err error
}

func (s *bookingSuite) update(delay time.Duration, name string, arg any) *bookingOutcome {
	out := &bookingOutcome{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { out.rejected = err },
			OnComplete: func(_ any, err error) { out.err = err },
		}, arg)
	}, delay)
	return out
}

func (s *bookingSuite) signalPayment(delay time.Duration, event, status string, amount int64) {
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalBookingPayment, BookingPayment{EventID: event, PaymentID: "pay_1", Status: status, Amount: amount})
	}, delay)
}

func dates(n int, from time.Time) []time.Time {
	var out []time.Time
	for i := range n {
		out = append(out, from.Add(time.Duration(i+1)*7*24*time.Hour))
	}
	return out
}

func accept(coop string, a Actor, n int) BookingRespondInput {
	return BookingRespondInput{Actor: a, CooperativeID: coop, Accept: true, Sessions: dates(n, bookingStart)}
}

func deliver(seq int, at time.Time) BookingDeliveryInput {
	return BookingDeliveryInput{Actor: coopActor, CooperativeID: "baobab", Seq: seq, DeliveredAt: at}
}

func errType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}

func (s *bookingSuite) sum(kind string) int64 {
	var total int64
	for k, v := range s.transfers {
		if len(k) > len(kind) && k[len(k)-len(kind):] == kind {
			total += v
		}
	}
	return total
}

// A decline sends the booking to the next equivalent cooperative, which
// accepts; every session is delivered and confirmed (by the citizen, the
// second automatically after seven days): each
// session's voucher share is posted and its online share settled once.
func (s *bookingSuite) TestDeclineGoesToNextCooperativeThenDeliveredAndConfirmed() {
	s.signalPayment(time.Minute, "evt_1", "captured", 1500)
	decline := s.update(time.Hour, UpdateBookingRespond, BookingRespondInput{Actor: coopActor, CooperativeID: "baobab", Reason: "Nessun educatore libero"})
	wrong := s.update(2*time.Hour, UpdateBookingRespond, accept("baobab", coopActor, 3))
	ok := s.update(3*time.Hour, UpdateBookingRespond, accept("eureka", eurekaActor, 3))
	var delivered []*bookingOutcome
	for seq := 1; seq <= 3; seq++ {
		at := bookingStart.Add(time.Duration(seq) * 7 * 24 * time.Hour)
		delivered = append(delivered, s.update(at.Sub(bookingStart)+time.Hour, UpdateBookingRecordDelivery,
			BookingDeliveryInput{Actor: eurekaActor, CooperativeID: "eureka", Seq: seq, DeliveredAt: at}))
	}
	confirm := s.update(8*24*time.Hour, UpdateBookingConfirmDelivery, BookingConfirmInput{Actor: bookingOwner, Seqs: []int{1}})
	confirm2 := s.update(21*24*time.Hour+2*time.Hour, UpdateBookingConfirmDelivery, BookingConfirmInput{Actor: bookingOwner, Seqs: []int{3}}) // 2 was confirmed automatically at 21d+1h
	res := s.start(1500)

	s.Equal(BookingCompleted, res.Status)
	s.NoError(decline.rejected)
	s.NoError(decline.err)
	s.Equal(ErrTypeBookingNotYours, errType(wrong.rejected), "the first cooperative no longer holds the request")
	s.NoError(ok.rejected)
	s.NoError(ok.err)
	for _, d := range delivered {
		s.NoError(d.rejected)
	}
	s.NoError(confirm.rejected)
	s.NoError(confirm2.rejected)
	s.NoError(confirm2.err)
	s.Require().Len(s.offers, 2)
	s.Equal("eureka", s.offers[1].CooperativeID)
	s.Require().Len(s.closed, 1)
	s.Equal(contract.OfferDeclined, s.closed[0].Outcome)
	s.Equal("Nessun educatore libero", s.closed[0].Reason)
	s.Equal(int64(1500), s.transfers["booking:b1:payment"])
	s.Equal(int64(3000), s.sum(":post"))
	s.Equal(int64(1500), s.sum(":settle"))
	s.Zero(s.sum(":void") + s.sum(":refund"))
	s.Equal([]string{activities.KindBookingReoffered, activities.KindBookingConfirmed}, s.notes)
}

// Silence until respond_by counts as a decline: the next cooperative gets
// the booking; when nobody is left the booking is cancelled, the voucher
// part voided and the online part refunded, and the citizen told.
func (s *bookingSuite) TestTimeoutsThenNoneLeftCancelAndRefund() {
	s.signalPayment(time.Minute, "evt_1", "captured", 1500)
	res := s.start(1500)

	s.Equal(BookingCancelled, res.Status)
	s.Require().Len(s.closed, 2)
	s.Equal(contract.OfferExpired, s.closed[0].Outcome)
	s.Equal(contract.OfferExpired, s.closed[1].Outcome)
	s.True(bookingStart.Add(48*time.Hour+time.Minute).Equal(s.closed[0].At), "the first offer expires at its respond_by: %v", s.closed[0].At)
	s.Equal(int64(3000), s.sum(":void"))
	s.Equal(int64(1500), s.sum(":refund"))
	s.Require().Len(s.refunds, 1)
	s.Equal(int64(1500), s.refunds[0].AmountCents)
	s.Equal("booking:b1:refund:1", s.refunds[0].Key)
	s.Equal([]string{activities.KindBookingReoffered, activities.KindBookingCancelled}, s.notes)
}

// The provider is down when the intent is created and when the refund is
// asked: the activities are retried until it is back, each once in effect.
func (s *bookingSuite) TestProviderDownThenBack() {
	s.failFirst["intent"], s.failFirst["refund"] = 3, 2
	s.coops = []string{"baobab"}
	s.signalPayment(10*time.Minute, "evt_1", "captured", 1500)
	decline := s.update(time.Hour, UpdateBookingRespond, BookingRespondInput{Actor: coopActor, CooperativeID: "baobab", Reason: "Pieno"})
	res := s.start(1500)

	s.Equal(BookingCancelled, res.Status)
	s.NoError(decline.err)
	s.Equal(1, s.intents, "one intent once the provider answered")
	s.Zero(s.failFirst["intent"]+s.failFirst["refund"], "the failures happened")
	s.Require().Len(s.refunds, 1)
	s.Equal(int64(1500), s.sum(":refund"))
	s.Equal(int64(3000), s.sum(":void"))
}

// The provider answers twice (the same event, then another event saying
// the same): one payment transfer.
func (s *bookingSuite) TestDuplicatePaymentEventsApplyOnce() {
	s.signalPayment(time.Minute, "evt_1", "captured", 1500)
	s.signalPayment(2*time.Minute, "evt_1", "captured", 1500)
	s.signalPayment(3*time.Minute, "evt_2", "succeeded", 1500)
	cancel := s.update(time.Hour, UpdateBookingCancel, BookingCancelInput{Actor: bookingOwner, Reason: "Cambio di programma"})
	res := s.start(1500)

	s.Equal(BookingCancelled, res.Status)
	s.NoError(cancel.rejected)
	s.Len(s.transfers, 1+3+3, "one payment, three voids, three refunds")
	s.Equal(int64(1500), s.transfers["booking:b1:payment"])
	s.Require().Len(s.closed, 0, "the pending offer is withdrawn by the cancellation itself")
}

// Cancelling after a partial delivery: the delivered session still waits
// for its confirmation (here automatic) and is posted; the others are voided
// and refunded. A cancellation once everything is delivered is refused.
func (s *bookingSuite) TestCancelAfterPartialDeliveryThenAutoConfirm() {
	s.signalPayment(time.Minute, "evt_1", "captured", 1500)
	s.update(time.Hour, UpdateBookingRespond, accept("baobab", coopActor, 3))
	first := bookingStart.Add(7 * 24 * time.Hour)
	d1 := s.update(7*24*time.Hour+time.Hour, UpdateBookingRecordDelivery, deliver(1, first))
	cancel := s.update(8*24*time.Hour, UpdateBookingCancel, BookingCancelInput{Actor: bookingOwner, Reason: "Trasloco"})
	again := s.update(9*24*time.Hour, UpdateBookingCancel, BookingCancelInput{Actor: bookingOwner, Reason: "Ancora"})
	late := s.update(9*24*time.Hour, UpdateBookingRecordDelivery, deliver(2, first))
	var during *bookingOutcome
	s.env.RegisterDelayedCallback(func() {
		encoded, err := s.env.QueryWorkflow(QueryBookingState)
		s.Require().NoError(err)
		var st BookingState
		s.Require().NoError(encoded.Get(&st))
		s.Equal(BookingDelivered, st.Status)
		s.Require().NotNil(st.Sessions[0].ConfirmBy)
		s.True(bookingStart.Add(7*24*time.Hour+time.Hour+7*24*time.Hour).Equal(*st.Sessions[0].ConfirmBy), "%v", *st.Sessions[0].ConfirmBy)
		during = &bookingOutcome{}
	}, 10*24*time.Hour)
	res := s.start(1500)

	s.Equal(BookingCompleted, res.Status)
	s.NoError(d1.rejected)
	s.NoError(cancel.rejected)
	s.NoError(cancel.err)
	s.Equal(ErrTypeBookingWrongState, errType(again.rejected), "only a delivered session is left: nothing to cancel")
	s.NotNil(late.rejected, "a cancelled session cannot be delivered")
	s.NotNil(during)
	s.Equal(int64(1000), s.sum(":post"), "the delivered session is posted")
	s.Equal(int64(500), s.sum(":settle"))
	s.Equal(int64(2000), s.sum(":void"))
	s.Equal(int64(1000), s.sum(":refund"))
	s.Require().Len(s.refunds, 1)
	s.Equal([]int{2, 3}, s.refunds[0].Seqs)
}

// A booking paid only by voucher skips the payment; the citizen's silence
// after a delivery confirms it automatically after the district's days.
func (s *bookingSuite) TestVoucherOnlyAutoConfirm() {
	s.online, s.sessions = 0, 1
	s.update(time.Hour, UpdateBookingRespond, accept("baobab", coopActor, 1))
	s.update(7*24*time.Hour+time.Hour, UpdateBookingRecordDelivery, deliver(1, bookingStart.Add(7*24*time.Hour)))
	res := s.start(0)

	s.Equal(BookingCompleted, res.Status)
	s.Zero(s.intents)
	s.Equal(int64(1000), s.sum(":post"))
	s.Zero(s.sum(":settle"))
}

// No payment within the window: the provider is asked once more, then the
// booking is cancelled and the voucher part voided; nothing is refunded.
// A failed payment event cancels at once.
func (s *bookingSuite) TestPaymentDeadlineAndFailedPayment() {
	res := s.start(1500)
	s.Equal(BookingCancelled, res.Status)
	s.Equal(int64(3000), s.sum(":void"))
	s.Zero(s.sum(":refund"))
	s.Empty(s.offers)

	s.SetupTest()
	s.signalPayment(time.Minute, "evt_9", "failed", 0)
	res = s.start(1500)
	s.Equal(BookingCancelled, res.Status)
	s.Empty(s.offers)
	s.Equal(int64(3000), s.sum(":void"))
}

// The booking level (versions.go) decides where the online part to pay
// comes from: on level 1 the booking as written (here 3 x 500, though the
// start input says nothing online), so the citizen is asked to pay and,
// not paying, the booking is cancelled before any offer; an execution
// started before the level (no marker) pays what its start input said,
// here nothing, and the booking goes straight to the cooperatives.
func (s *bookingSuite) TestOnlinePartFollowsTheLevel() {
	s.start(0)
	s.Equal(1, s.intents)
	s.Empty(s.offers)

	s.SetupTest()
	s.env.OnGetVersion(versionBooking, workflow.DefaultVersion, bookingLevel).Return(workflow.DefaultVersion)
	s.start(0)
	s.Zero(s.intents)
	s.NotEmpty(s.offers)
}

// An update that arrives while the booking is still being loaded (the
// run's first activity, here taking a minute) is judged once the booking is
// known: a citizen cancelling moments after the checkout cancels it; a
// confirmation of a session not yet delivered is refused for that, not
// because the booking would have no such session; who may cancel is still
// checked at once. On level 1 the same cancellation was refused, judged
// against no sessions at all.
func (s *bookingSuite) TestUpdatesBeforeTheBookingIsLoaded() {
	s.load.After(time.Minute)
	cancel := s.update(10*time.Second, UpdateBookingCancel, BookingCancelInput{Actor: bookingOwner, Reason: "Ci ho ripensato"})
	stranger := s.update(10*time.Second, UpdateBookingCancel, BookingCancelInput{Actor: eurekaActor})
	res := s.start(1500)
	s.Equal(BookingCancelled, res.Status)
	s.NoError(cancel.rejected)
	s.NoError(cancel.err)
	s.Equal(ErrTypeForbidden, errType(stranger.rejected), "who may cancel is checked without waiting for the booking")
	s.Equal(int64(3000), s.sum(":void"), "every session's voucher share goes back")
	s.Empty(s.offers)

	s.SetupTest()
	s.load.After(time.Minute)
	confirm := s.update(10*time.Second, UpdateBookingConfirmDelivery, BookingConfirmInput{Actor: bookingOwner, Seqs: []int{1}})
	s.start(1500)
	s.NoError(confirm.rejected)
	s.Equal(ErrTypeBookingWrongState, errType(confirm.err), "session 1 exists and is planned: %v", confirm.err)

	// A booking found closed ends the run at once, but not before the
	// update waiting for it has its answer.
	s.SetupTest()
	s.loadStatus = BookingCancelled
	s.load.After(time.Minute)
	closed := s.update(10*time.Second, UpdateBookingCancel, BookingCancelInput{Actor: bookingOwner})
	s.Equal(BookingCancelled, s.start(1500).Status)
	s.NoError(closed.rejected)
	s.Equal(ErrTypeBookingClosed, errType(closed.err), "%v", closed.err)

	s.SetupTest()
	s.env.OnGetVersion(versionBooking, workflow.DefaultVersion, bookingLevel).Return(bookingOnlineFromBooking)
	s.load.After(time.Minute)
	early := s.update(10*time.Second, UpdateBookingCancel, BookingCancelInput{Actor: bookingOwner, Reason: "Ci ho ripensato"})
	s.start(1500)
	s.Equal(ErrTypeBookingWrongState, errType(early.rejected), "level 1 judges against the sessions not loaded yet")
}

// The validators: who may answer, one future date per session, a reason
// to decline, deliveries only after confirmation and never in the future,
// confirmations only by the citizen and only of delivered sessions.
func (s *bookingSuite) TestValidators() {
	s.online, s.sessions = 0, 2
	outcomes := map[string]*bookingOutcome{
		"not a cooperative":  s.update(time.Minute, UpdateBookingRespond, BookingRespondInput{Actor: bookingOwner, CooperativeID: "baobab", Accept: true}),
		"delivery too early": s.update(time.Minute, UpdateBookingRecordDelivery, deliver(1, bookingStart)),
		"one date missing":   s.update(time.Minute, UpdateBookingRespond, accept("baobab", coopActor, 1)),
		"past date": s.update(time.Minute, UpdateBookingRespond, BookingRespondInput{Actor: coopActor, CooperativeID: "baobab",
			Accept: true, Sessions: []time.Time{bookingStart.Add(time.Hour), bookingStart.Add(-time.Hour)}}),
		"no reason": s.update(time.Minute, UpdateBookingRespond, BookingRespondInput{Actor: coopActor, CooperativeID: "baobab"}),
		"future":    s.update(2*time.Hour, UpdateBookingRecordDelivery, deliver(1, bookingStart.Add(30*24*time.Hour))),
		"no seq":    s.update(2*time.Hour, UpdateBookingRecordDelivery, deliver(9, bookingStart.Add(time.Hour))),
		"stranger":  s.update(3*time.Hour, UpdateBookingConfirmDelivery, BookingConfirmInput{Actor: coopActor, Seqs: []int{1}}),
		"planned":   s.update(3*time.Hour, UpdateBookingConfirmDelivery, BookingConfirmInput{Actor: bookingOwner, Seqs: []int{2}}),
	}
	s.update(time.Hour, UpdateBookingRespond, accept("baobab", coopActor, 2))
	s.update(2*time.Hour+time.Minute, UpdateBookingRecordDelivery, deliver(1, bookingStart.Add(time.Hour)))
	s.update(4*time.Hour, UpdateBookingCancel, BookingCancelInput{Actor: bookingOwner})
	s.start(0)

	want := map[string]string{
		"not a cooperative": ErrTypeBookingNotYours, "delivery too early": ErrTypeBookingWrongState,
		"one date missing": ErrTypeBookingInvalidData, "past date": ErrTypeBookingInvalidData, "no reason": ErrTypeBookingInvalidData,
		"future": ErrTypeBookingInvalidData, "no seq": ErrTypeBookingInvalidData, "stranger": ErrTypeBookingNotYours,
		"planned": ErrTypeBookingWrongState,
	}
	for name, typ := range want {
		s.Equal(typ, errType(outcomes[name].rejected), name)
	}
	var ae *temporal.ApplicationError
	s.Require().ErrorAs(outcomes["past date"].rejected, &ae)
	var p FieldProblem
	s.Require().NoError(ae.Details(&p))
	s.Equal("/sessions/1", p.Pointer)
}
