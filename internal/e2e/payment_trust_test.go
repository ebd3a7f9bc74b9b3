package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"sportello/activities"
	"sportello/api"
	"sportello/internal/apicontract"
	"sportello/internal/mailcatcher"
	"sportello/internal/payments"
	"sportello/internal/paysandbox"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"
)

const trustSecret = "trust-test-secret-0123456789"

// trustStack is the production wiring of payments (issue 10): the sandbox
// provider, the real API with the provider's client and callback secret
// (its callbacks reach the API's own /api/v1/payments/callback), and a
// worker that pays, refunds and e-mails through the mail catcher.
type trustStack struct {
	*sagaStack
	pay   *payments.Client
	inbox *mailInbox
}

func newTrustStack(t *testing.T) *trustStack {
	t.Helper()
	st, inbox := newMailStack(t)
	s := &trustStack{sagaStack: &sagaStack{stack: st}, inbox: inbox}
	s.stopWorker()
	s.startProvider(trustSecret)
	pay, err := payments.New(payments.Config{BaseURL: s.provider.URL, Secret: trustSecret, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.pay = pay
	d := s.apiDeps()
	d.Payments, d.PaymentsSecret, d.Mailer, d.PortalURL = pay, trustSecret, st.mailer, "http://portal.test"
	s.srv.Close()
	s.srv = httptest.NewServer(apicontract.For(s.t, api.New(d)))
	s.portal = s.srv
	s.worker = worker.NewWith(s.tc, s.st, worker.Config{TaskQueue: s.taskQueue, Mailer: s.mailer, PortalURL: s.srv.URL, Payments: pay})
	if err := s.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stopWorker()
		s.srv.Close()
	})
	return s
}

// paymentOf waits for the booking's payment intent at the provider.
func (s *trustStack) paymentOf(t *testing.T, bookingID string) payments.Payment {
	t.Helper()
	var id string
	eventually(t, "the payment intent of "+bookingID, func() bool {
		return s.st.Pool.QueryRow(context.Background(), `SELECT coalesce(payment_id, '') FROM bookings WHERE id = $1`, bookingID).Scan(&id) == nil && id != ""
	})
	p, err := s.pay.Payment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// payAtProvider pays the booking's intent on the provider's hosted page (the
// payer's browser is sent back to the portal's return page, not followed
// here: it needs the citizen's login) and returns the payment id.
func (s *trustStack) payAtProvider(t *testing.T, bookingID string) string {
	t.Helper()
	p := s.paymentOf(t, bookingID)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.PostForm(p.CheckoutURL+"/confirm", url.Values{"lang": {"it"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), workflows.BookingPaymentReturnPath(bookingID)) {
		t.Fatalf("hosted page answered %d, to %s", res.StatusCode, res.Header.Get("Location"))
	}
	return p.ID
}

// callback posts an event to the API's callback, signed with the provider's
// secret, and returns the answer's status.
func (s *trustStack) callback(t *testing.T, ev payments.Event) int {
	t.Helper()
	body, _ := json.Marshal(ev)
	req, _ := http.NewRequest("POST", s.srv.URL+workflows.PaymentsCallbackPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json") // as the provider sends it (the document's media type)
	req.Header.Set(payments.SignatureHeader, payments.Sign(trustSecret, time.Now(), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// failedActivities lists the failure messages of the workflow's failed
// activities of one type.
func (s *trustStack) failedActivities(t *testing.T, workflowID, activityType string) []string {
	t.Helper()
	scheduled := map[int64]string{}
	var out []string
	it := s.tc.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := ev.GetActivityTaskFailedEventAttributes(); a != nil && scheduled[a.GetScheduledEventId()] == activityType {
			out = append(out, a.GetFailure().GetMessage())
		}
	}
	return out
}

// paymentRefused waits for the booking workflow's RecordPayment to be
// refused, once and for good, with a message containing want, and checks
// that nothing was booked after what (the booking still awaits its
// payment, no payment transfer).
func (s *trustStack) paymentRefused(t *testing.T, bookingID, want, what string) {
	t.Helper()
	wfID := workflows.BookingWorkflowID(bookingID)
	eventually(t, "RecordPayment refused", func() bool { return len(s.failedActivities(t, wfID, "RecordPayment")) > 0 })
	if msgs := s.failedActivities(t, wfID, "RecordPayment"); len(msgs) != 1 || !strings.Contains(msgs[0], want) {
		t.Fatalf("RecordPayment failures %q, want one refusal (non-retryable) with %q", msgs, want)
	}
	if got := s.bookingStatus(bookingID); got != workflows.BookingAwaitingPayment {
		t.Fatalf("booking %s after %s, want awaiting_payment", got, what)
	}
	if n := s.count(`SELECT count(*) FROM transfers WHERE booking_id = $1 AND kind = 'payment'`, bookingID); n != 0 {
		t.Fatalf("%d payment transfers after %s", n, what)
	}
}

// A correctly signed but false payment.captured (the provider says the
// payment is pending) is refused by the API (409) and never reaches the
// booking; the same claim signalled straight to the workflow is refused by
// RecordPayment, which asks the provider; a made-up payment id is refused
// too. The booking still awaits payment and no money moved.
func TestForgedPaymentCallbackMovesNoMoney(t *testing.T) {
	s := newTrustStack(t)
	b := s.checkout(t, 2, 1_000)
	p := s.paymentOf(t, b.ID)
	if p.Status != payments.StatusPending || p.MerchantReference != b.ID {
		t.Fatalf("provider payment %+v", p)
	}
	wfID := workflows.BookingWorkflowID(b.ID)
	forged := p
	forged.Status, forged.CapturedCents = payments.StatusCaptured, b.Online
	if code := s.callback(t, payments.Event{ID: "evt_forged_1", Type: payments.EventCaptured, CreatedAt: time.Now(), Payment: forged}); code != http.StatusConflict {
		t.Fatalf("forged capture answered %d, want 409", code)
	}
	made := forged
	made.ID = "pi_madeup"
	if code := s.callback(t, payments.Event{ID: "evt_forged_2", Type: payments.EventCaptured, CreatedAt: time.Now(), Payment: made}); code != http.StatusConflict {
		t.Fatalf("made-up payment answered %d, want 409", code)
	}
	// A forged claim that got past the API (or any other sender of the
	// signal) is checked again before the money is booked.
	if err := s.tc.SignalWorkflow(context.Background(), wfID, "", workflows.SignalBookingPayment, workflows.BookingPayment{
		EventID: "evt_forged_3", PaymentID: p.ID, Status: payments.StatusCaptured, Amount: b.Online}); err != nil {
		t.Fatal(err)
	}
	s.paymentRefused(t, b.ID, "not confirmed by the provider", "forged captures")
	if got := testenv.Balance(t, s.st, store.BookingOnlineAccountID(b.ID)); got != 0 {
		t.Fatalf("the booking holds %d online after forged captures", got)
	}
	if got, _ := s.pay.Payment(context.Background(), p.ID); got.Status != payments.StatusPending {
		t.Fatalf("provider payment now %+v", got)
	}
	// The real payment still goes through.
	s.payAtProvider(t, b.ID)
	eventually(t, "the real payment booked", func() bool { return s.bookingStatus(b.ID) == workflows.BookingRequested })
	if n := s.count(`SELECT count(*) FROM transfers WHERE booking_id = $1 AND kind = 'payment'`, b.ID); n != 1 {
		t.Fatalf("%d payment transfers after the real payment", n)
	}
	s.assertBooksBalance()
}

// An amount that is not the booking's online part is refused: a payment
// really captured at the provider for the booking but for another amount is
// refused by the API (409) and recorded as an incident; a claim whose
// amount differs from what the provider captured is refused by
// RecordPayment. Nothing is booked until the right payment is confirmed.
func TestPaymentAmountMismatchRefused(t *testing.T) {
	s := newTrustStack(t)
	if err := s.sb.Inject(paysandbox.Fault{Kind: "drop-callback", Op: "create"}); err != nil {
		t.Fatal(err)
	}
	b := s.checkout(t, 2, 1_000)
	p := s.paymentOf(t, b.ID)
	wfID := workflows.BookingWorkflowID(b.ID)
	ctx := context.Background()

	// Another intent for the same booking, 1 euro more, paid on the page:
	// the provider's genuine callback is refused and becomes an incident.
	other, err := s.pay.CreateIntent(ctx, "other-amount:"+b.ID, payments.IntentRequest{AmountCents: b.Online + 100, Description: "other",
		MerchantReference: b.ID, ReturnURL: s.srv.URL + workflows.BookingPaymentReturnPath(b.ID), CallbackURL: s.srv.URL + workflows.PaymentsCallbackPath})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.PostForm(other.CheckoutURL+"/confirm", url.Values{"lang": {"it"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	eventually(t, "the mismatch incident", func() bool {
		return s.count(`SELECT count(*) FROM incidents WHERE booking_id = $1 AND kind = 'payment_mismatch' AND amount_cents = $2`, b.ID, b.Online+100) == 1
	})
	mail := s.inbox.wait("to the supervisor about the payment", func(m mailcatcher.Captured) bool {
		return slices.Contains(m.To, "ufficio.piano@example.org") && strings.Contains(m.Subject, "pagamento non conforme")
	})
	if !strings.Contains(mail.Text, "http://portal.test/incidents") {
		t.Errorf("incident e-mail without the link to the incidents page:\n%s", mail.Text)
	}
	captured := other
	captured.Status, captured.CapturedCents = payments.StatusCaptured, b.Online+100
	if code := s.callback(t, payments.Event{ID: "evt_other_amount", Type: payments.EventCaptured, CreatedAt: time.Now(), Payment: captured}); code != http.StatusConflict {
		t.Fatalf("a capture of another amount answered %d, want 409", code)
	}

	// The booking's own payment, paid (its callback dropped), claimed with
	// a wrong amount: RecordPayment refuses it.
	s.payAtProvider(t, b.ID)
	if got, _ := s.pay.Payment(ctx, p.ID); got.Status != payments.StatusCaptured || got.CapturedCents != b.Online {
		t.Fatalf("provider payment %+v", got)
	}
	if err := s.tc.SignalWorkflow(ctx, wfID, "", workflows.SignalBookingPayment, workflows.BookingPayment{
		EventID: "evt_wrong_amount", PaymentID: p.ID, Status: payments.StatusCaptured, Amount: b.Online - 100}); err != nil {
		t.Fatal(err)
	}
	s.paymentRefused(t, b.ID, "claimed", "mismatched amounts")
	// The provider's own figures, through the API, are booked.
	confirmed, _ := s.pay.Payment(ctx, p.ID)
	if code := s.callback(t, payments.Event{ID: "evt_right", Type: payments.EventCaptured, CreatedAt: time.Now(), Payment: confirmed}); code != http.StatusNoContent {
		t.Fatalf("the confirmed capture answered %d", code)
	}
	eventually(t, "the payment booked", func() bool { return s.bookingStatus(b.ID) == workflows.BookingRequested })
	if n := s.count(`SELECT count(*) FROM incidents WHERE booking_id = $1`, b.ID); n != 1 {
		t.Fatalf("%d incidents, want the one mismatch", n)
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE kind = 'staff_incident' AND status = 'sent'`); n != 1 {
		t.Fatalf("%d incident e-mails sent, want 1 (the provider redelivered the refused event)", n)
	}
	s.assertBooksBalance()
}

// A refund the provider refuses for good (the payment was already refunded
// by hand on the provider's side, so the saga's refund exceeds what is left)
// is never silent: exactly one incident for the district, one e-mail to its
// supervisor, listed by GET /api/v1/incidents and the supervisors' page for
// that district only; another district's supervisor sees none, an operator
// and a citizen are refused. Reporting it again changes nothing.
func TestRefusedRefundBecomesOneIncident(t *testing.T) {
	s := newTrustStack(t)
	ctx := context.Background()
	b := s.checkout(t, 2, 1_000)
	paymentID := s.payAtProvider(t, b.ID)
	eventually(t, "the payment booked", func() bool { return s.bookingStatus(b.ID) == workflows.BookingRequested })
	if _, err := s.pay.Refund(ctx, "by-hand:"+paymentID, paymentID, b.Online, "refunded by hand"); err != nil {
		t.Fatal(err)
	}
	s.citizenUpdate(t, b.ID, workflows.UpdateBookingCancel, workflows.BookingCancelInput{Actor: s.citizenActor(), Reason: "Cambio di programma"})
	if res := s.waitBooking(t, b.ID); res.Status != workflows.BookingCancelled {
		t.Fatalf("booking ended %s", res.Status)
	}
	if msgs := s.failedActivities(t, workflows.BookingWorkflowID(b.ID), "RefundSessions"); len(msgs) != 1 || !strings.Contains(msgs[0], "refund_exceeds_captured") {
		t.Fatalf("RefundSessions failures %q, want one permanent refusal", msgs)
	}

	mail := s.inbox.wait("to the supervisor about the incident", func(m mailcatcher.Captured) bool {
		return slices.Contains(m.To, "ufficio.piano@example.org") && strings.Contains(m.Subject, "Incidente")
	})
	for _, want := range []string{"rimborso", "Tradate", "/incidents", "refund_exceeds_captured"} {
		if !strings.Contains(mail.Text, want) {
			t.Errorf("incident e-mail lacks %q:\n%s", want, mail.Text)
		}
	}
	var incident store.Incident
	if err := s.st.Pool.QueryRow(ctx, `SELECT id, district_id, municipality_id, kind, amount_cents, status FROM incidents WHERE booking_id = $1`, b.ID).
		Scan(&incident.ID, &incident.DistrictID, &incident.MunicipalityID, &incident.Kind, &incident.AmountCents, &incident.Status); err != nil {
		t.Fatal(err)
	}
	if incident.DistrictID != "tradate" || incident.MunicipalityID != "tradate" || incident.Kind != store.IncidentRefundFailed ||
		incident.AmountCents != b.Online || incident.Status != store.IncidentOpen {
		t.Fatalf("incident %+v", incident)
	}
	// Reported again (a retried activity does exactly this): still one
	// incident, one e-mail.
	var key string
	if err := s.st.Pool.QueryRow(ctx, `SELECT key FROM incidents WHERE id = $1`, incident.ID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	if err := activities.ReportIncident(ctx, s.st, s.mailer, s.srv.URL, store.IncidentInput{Key: key, BookingID: b.ID,
		Kind: store.IncidentRefundFailed, AmountCents: b.Online, Details: "again"}); err != nil {
		t.Fatal(err)
	}
	if n := s.count(`SELECT count(*) FROM incidents`); n != 1 {
		t.Fatalf("%d incidents, want 1", n)
	}
	toSupervisor := 0
	for _, m := range s.inbox.catcher.Messages() {
		if slices.Contains(m.To, "ufficio.piano@example.org") {
			toSupervisor++
		}
	}
	if toSupervisor != 1 {
		t.Fatalf("%d e-mails to the supervisor, want 1", toSupervisor)
	}

	var list struct {
		Items []store.Incident `json:"items"`
	}
	s.login("supervisore").mustCall(http.StatusOK, "GET", "/api/v1/incidents", nil, &list)
	if len(list.Items) != 1 || list.Items[0].ID != incident.ID || list.Items[0].BookingID != b.ID || list.Items[0].AmountCents != b.Online ||
		list.Items[0].MunicipalityName != "Tradate" || list.Items[0].BookingNumber == 0 {
		t.Fatalf("supervisor's incidents %+v", list.Items)
	}
	s.login("supervisore.padova").mustCall(http.StatusOK, "GET", "/api/v1/incidents", nil, &list)
	if len(list.Items) != 0 {
		t.Fatalf("another district's supervisor sees %+v", list.Items)
	}
	for _, u := range []string{"operatore.tradate", "cittadino.tradate", "coop.baobab"} {
		if code := s.login(u).call("GET", "/api/v1/incidents", nil, nil, nil); code != http.StatusForbidden {
			t.Errorf("%s: GET /api/v1/incidents answered %d, want 403", u, code)
		}
	}
	if code := s.login("supervisore").call("GET", "/api/v1/incidents?status=bogus", nil, nil, nil); code != http.StatusUnprocessableEntity {
		t.Errorf("status=bogus answered %d, want 422", code)
	}
	s.assertBooksBalance()
}
