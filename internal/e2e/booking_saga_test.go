package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"sportello/api"
	"sportello/internal/bookingtest"
	"sportello/internal/payments"
	"sportello/internal/paysandbox"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"
)

const sagaSecret = "saga-test-secret"

// sagaStack is the e2e stack whose worker pays through the sandbox
// provider, with a portal on loopback whose payment callback verifies the
// provider's events and signals the booking's workflow (as the checkout's
// callback handler does).
type sagaStack struct {
	*stack
	sb       *paysandbox.Server
	provider *httptest.Server
	portal   *httptest.Server
}

func newSagaStack(t *testing.T) *sagaStack {
	t.Helper()
	s := &sagaStack{stack: newStack(t)}
	s.stopWorker()
	s.startProvider(sagaSecret)
	mux := http.NewServeMux()
	mux.Handle(workflows.PaymentsCallbackPath, payments.CallbackHandler(sagaSecret, 0, nil, func(ctx context.Context, ev payments.Event) error {
		if ev.Type == payments.EventRefunded {
			return nil
		}
		err := s.tc.SignalWorkflow(ctx, workflows.BookingWorkflowID(ev.Payment.MerchantReference), "", workflows.SignalBookingPayment,
			workflows.BookingPayment{EventID: ev.ID, PaymentID: ev.Payment.ID, Status: ev.Payment.Status, Amount: ev.Payment.CapturedCents})
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}))
	mux.HandleFunc("/bookings/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "grazie") })
	s.portal = httptest.NewServer(mux)
	pay, err := payments.New(payments.Config{BaseURL: s.provider.URL, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.worker = worker.NewWith(s.tc, s.st, worker.Config{TaskQueue: s.taskQueue, PortalURL: s.portal.URL, Payments: pay})
	if err := s.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stopWorker()
		s.portal.Close()
	})
	return s
}

// startProvider runs the sandbox payment provider, signing its callbacks
// with secret, until the test ends.
func (s *sagaStack) startProvider(secret string) {
	s.t.Helper()
	sb, err := paysandbox.New(paysandbox.Options{Secret: secret, CallbackBackoff: 20 * time.Millisecond})
	if err != nil {
		s.t.Fatal(err)
	}
	s.sb, s.provider = sb, httptest.NewServer(sb)
	s.t.Cleanup(func() {
		s.provider.Close()
		sb.Close()
	})
}

// checkout writes a booking as the citizen's checkout does (quantity
// sessions of Baobab's after-school service, voucher cents by voucher, the
// rest online; see bookingtest) and starts the booking's workflow.
func (s *sagaStack) checkout(t *testing.T, quantity int, voucher int64) bookingtest.Booking {
	t.Helper()
	ctx := context.Background()
	b, err := bookingtest.Checkout(t, s.st, quantity, voucher)
	if err != nil {
		t.Fatalf("checkout: %v", err)
	}
	if _, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.BookingWorkflowID(b.ID), TaskQueue: s.taskQueue},
		workflows.Booking, workflows.BookingInput{BookingID: b.ID, DistrictID: "tradate", CitizenID: b.CitizenID, OnlineCents: b.Online}); err != nil {
		t.Fatal(err)
	}
	return b
}

// payOnline waits for the booking's payment page and pays on it as a
// browser would, following the redirect back to the portal.
func (s *sagaStack) payOnline(t *testing.T, bookingID string) string {
	t.Helper()
	var payURL, paymentID string
	eventually(t, "the payment page of "+bookingID, func() bool {
		return s.st.Pool.QueryRow(context.Background(), `SELECT coalesce(payment_url, ''), coalesce(payment_id, '') FROM bookings WHERE id = $1`,
			bookingID).Scan(&payURL, &paymentID) == nil && payURL != ""
	})
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	page, err := hc.Get(payURL)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	resp, err := hc.PostForm(payURL+"/confirm", url.Values{"lang": {"it"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), s.portal.URL+"/bookings/"+bookingID+"/return") {
		t.Fatalf("after paying: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return paymentID
}

func (s *sagaStack) bookingStatus(id string) string {
	var st string
	_ = s.st.Pool.QueryRow(context.Background(), `SELECT status FROM bookings WHERE id = $1`, id).Scan(&st)
	return st
}

func (s *sagaStack) waitBooking(t *testing.T, id string) workflows.BookingResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res workflows.BookingResult
	if err := s.tc.GetWorkflow(ctx, workflows.BookingWorkflowID(id), "").Get(ctx, &res); err != nil {
		t.Fatalf("booking workflow: %v", err)
	}
	return res
}

func (s *sagaStack) citizenUpdate(t *testing.T, id, name string, arg any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.BookingWorkflowID(id), UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func (s *sagaStack) citizenActor() workflows.Actor {
	var id int64
	_ = s.st.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'cittadino.tradate'`).Scan(&id)
	return workflows.Actor{UserID: id, Username: "cittadino.tradate", Role: "citizen"}
}

// recordBookingHistory saves a finished booking workflow's history for the
// replay test when SPORTELLO_RECORD_HISTORIES names a folder.
func (s *sagaStack) recordBookingHistory(t *testing.T, id, name string) {
	dir := os.Getenv("SPORTELLO_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(filepath.Join(dir, "booking"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := writeHistory(ctx, s.tc, workflows.BookingWorkflowID(id), filepath.Join(dir, "booking", name+".json")); err != nil {
		t.Fatalf("record history: %v", err)
	}
}

// A split booking (two sessions, part voucher, part online): paid on the
// provider's page (its callback delivered twice), accepted by Baobab with a
// date per session over the cooperative's API, both sessions delivered and
// confirmed by the citizen. The ledger sums to zero, one payment transfer,
// Baobab is owed exactly the voucher shares and earned the online ones, the
// booking's accounts are empty.
func TestBookingSplitPaidConfirmedDeliveredConfirmed(t *testing.T) {
	s := newSagaStack(t)
	if err := s.sb.Inject(paysandbox.Fault{Kind: "duplicate-callback", Op: "create"}); err != nil {
		t.Fatal(err)
	}
	b := s.checkout(t, 2, 3_000)
	if b.Online <= 0 {
		t.Fatalf("the service's price leaves no online part: %+v", b)
	}
	paymentID := s.payOnline(t, b.ID)
	eventually(t, "the payment booked", func() bool { return s.bookingStatus(b.ID) == workflows.BookingRequested })

	coop := s.login("coop.baobab")
	var inbox struct {
		Items []store.CoopBookingItem `json:"items"`
	}
	eventually(t, "the request in Baobab's inbox", func() bool {
		coop.mustCall(http.StatusOK, "GET", "/api/v1/coop/bookings?view=requests", nil, &inbox)
		return len(inbox.Items) == 1 && inbox.Items[0].ID == b.ID && inbox.Items[0].RespondBy != nil
	})
	if want := time.Now().Add(48 * time.Hour); inbox.Items[0].RespondBy.Before(want.Add(-time.Hour)) || inbox.Items[0].RespondBy.After(want) {
		t.Errorf("respond_by %v: not the cooperative's 48 hours", inbox.Items[0].RespondBy)
	}
	week := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	coop.mustCall(http.StatusOK, "POST", "/api/v1/coop/bookings/"+b.ID+"/respond",
		map[string]any{"accept": true, "sessions": []time.Time{week, week.Add(7 * 24 * time.Hour)}}, nil)
	for seq := 1; seq <= 2; seq++ {
		coop.mustCall(http.StatusOK, "POST", "/api/v1/coop/bookings/"+b.ID+"/deliveries",
			map[string]any{"seq": seq, "delivered_at": time.Now().Add(-time.Minute), "note": "Tutto bene"}, nil)
	}
	if got := s.bookingStatus(b.ID); got != workflows.BookingDelivered {
		t.Fatalf("after both deliveries: %s", got)
	}
	s.citizenUpdate(t, b.ID, workflows.UpdateBookingConfirmDelivery, workflows.BookingConfirmInput{Actor: s.citizenActor(), Seqs: []int{1, 2}})
	if res := s.waitBooking(t, b.ID); res.Status != workflows.BookingCompleted {
		t.Fatalf("booking ended %s", res.Status)
	}
	s.recordBookingHistory(t, b.ID, "split-paid-delivered-confirmed")

	s.assertBooksBalance()
	if n := s.count(`SELECT count(*) FROM transfers WHERE booking_id = $1 AND kind = 'payment'`, b.ID); n != 1 {
		t.Errorf("%d payment transfers, want 1 (the provider called back twice)", n)
	}
	if got := testenv.Balance(t, s.st, store.CooperativeAccountID("baobab")); got != b.Voucher {
		t.Errorf("Baobab is owed %d, want the voucher shares %d", got, b.Voucher)
	}
	if got := testenv.Balance(t, s.st, store.CooperativeOnlineAccountID("baobab")); got != b.Online {
		t.Errorf("Baobab earned %d online, want %d", got, b.Online)
	}
	for _, acc := range []string{store.BookingVoucherAccountID(b.ID), store.BookingOnlineAccountID(b.ID)} {
		if got := testenv.Balance(t, s.st, acc); got != 0 {
			t.Errorf("%s holds %d after completion", acc, got)
		}
	}
	if n := s.count(`SELECT count(*) FROM booking_sessions WHERE booking_id = $1 AND status = 'confirmed' AND confirmed_by = 'citizen'`, b.ID); n != 2 {
		t.Errorf("%d sessions confirmed by the citizen, want 2", n)
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE key LIKE $1 AND kind = 'booking_confirmed'`,
		workflows.BookingWorkflowID(b.ID)+":%"); n != 1 {
		t.Errorf("%d confirmation notices, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE actor_username = 'coop.baobab' AND action IN ('respond_booking','record_delivery')
		AND detail->>'booking_id' = $1`, b.ID); n != 3 {
		t.Errorf("%d audit rows of the cooperative's actions, want 3", n)
	}
	var captured int64
	for _, p := range s.sb.Payments() {
		if p.ID == paymentID {
			captured = p.CapturedCents
		}
	}
	if captured != b.Online || len(s.sb.Refunds(paymentID)) != 0 {
		t.Errorf("provider: captured %d (want %d), refunds %v", captured, b.Online, s.sb.Refunds(paymentID))
	}
}

// A paid split booking cancelled by the citizen while Baobab is deciding,
// with the provider failing the first refund calls: the online part is
// refunded at the provider exactly once, the voucher credit is back, the
// pending offer is withdrawn, the ledger sums to zero.
func TestBookingCancelledRefundedOnce(t *testing.T) {
	s := newSagaStack(t)
	b := s.checkout(t, 3, 2_000)
	paymentID := s.payOnline(t, b.ID)
	eventually(t, "the offer to Baobab", func() bool {
		return s.count(`SELECT count(*) FROM booking_offers WHERE booking_id = $1 AND outcome = 'pending'`, b.ID) == 1 &&
			s.bookingStatus(b.ID) == workflows.BookingRequested
	})
	if err := s.sb.Inject(paysandbox.Fault{Kind: "fail-503", Op: "refund", Times: 4}); err != nil {
		t.Fatal(err)
	}
	s.citizenUpdate(t, b.ID, workflows.UpdateBookingCancel, workflows.BookingCancelInput{Actor: s.citizenActor(), Reason: "Cambio di programma"})
	if res := s.waitBooking(t, b.ID); res.Status != workflows.BookingCancelled {
		t.Fatalf("booking ended %s", res.Status)
	}
	s.recordBookingHistory(t, b.ID, "paid-cancelled-refunded")

	s.assertBooksBalance()
	refunds := s.sb.Refunds(paymentID)
	if len(refunds) != 1 || refunds[0].AmountCents != b.Online {
		t.Fatalf("provider refunds %+v, want one of %d", refunds, b.Online)
	}
	if got := testenv.Balance(t, s.st, store.VoucherAccountID(b.VoucherID)); got != b.VoucherCredit {
		t.Errorf("voucher balance %d, want %d back", got, b.VoucherCredit)
	}
	for _, acc := range []string{store.BookingVoucherAccountID(b.ID), store.BookingOnlineAccountID(b.ID), store.CooperativeAccountID("baobab")} {
		if got := testenv.Balance(t, s.st, acc); got != 0 {
			t.Errorf("%s holds %d", acc, got)
		}
	}
	var payStatus, outcome string
	if err := s.st.Pool.QueryRow(context.Background(), `SELECT b.payment_status, o.outcome FROM bookings b
		JOIN booking_offers o ON o.booking_id = b.id WHERE b.id = $1`, b.ID).Scan(&payStatus, &outcome); err != nil {
		t.Fatal(err)
	}
	if payStatus != store.PaymentRefunded || outcome != store.OfferWithdrawn {
		t.Errorf("payment %s, offer %s", payStatus, outcome)
	}
	if n := s.count(`SELECT count(*) FROM transfers WHERE booking_id = $1 AND kind = 'refund'`, b.ID); n != 3 {
		t.Errorf("%d refund transfers, want one per session", n)
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE key LIKE $1 AND kind = 'booking_cancelled'`,
		workflows.BookingWorkflowID(b.ID)+":%"); n != 1 {
		t.Errorf("%d cancellation notices, want 1", n)
	}
}

// Baobab declines over its API: the booking goes to another accredited
// cooperative with an equivalent service (same category and unit, serving
// Tradate, at a price not above the booked one), the booking now names it,
// the citizen is told; Baobab no longer sees the request as pending and
// cannot answer again (409).
func TestBookingDeclinedGoesToEquivalentCooperative(t *testing.T) {
	s := newSagaStack(t)
	ctx := context.Background()
	// An equivalent service of another cooperative, cheaper than Baobab's.
	var price int64
	var category, unit string
	if err := s.st.Pool.QueryRow(ctx, `SELECT price_cents, category, unit FROM services WHERE cooperative_id = 'baobab' AND name = 'Doposcuola e aiuto compiti'`).
		Scan(&price, &category, &unit); err != nil {
		t.Fatal(err)
	}
	if err := s.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return store.EnsureService(ctx, tx, "eureka", store.ServiceInput{Category: category, Name: "Doposcuola pomeridiano", Unit: unit,
			PriceCents: price - 100, Capacity: 10, CapacityPeriod: "week", Municipalities: []string{"tradate"}}, true)
	}); err != nil {
		t.Fatal(err)
	}
	b := s.checkout(t, 1, price)
	coop := s.login("coop.baobab")
	eventually(t, "the offer to Baobab", func() bool {
		return s.count(`SELECT count(*) FROM booking_offers WHERE booking_id = $1 AND outcome = 'pending'`, b.ID) == 1
	})
	citizen := s.login("cittadino.tradate")
	for _, c := range []struct {
		who          *session
		method, path string
		body         any
		want         int
	}{
		{citizen, "GET", "/api/v1/coop/bookings", nil, http.StatusForbidden},
		{coop, "GET", "/api/v1/coop/bookings?view=all", nil, http.StatusUnprocessableEntity},
		{coop, "GET", "/api/v1/coop/bookings/" + uuid.NewString(), nil, http.StatusNotFound},
		{coop, "GET", "/api/v1/coop/bookings/not-a-uuid", nil, http.StatusNotFound},
		{coop, "POST", "/api/v1/coop/bookings/" + b.ID + "/deliveries", map[string]any{"seq": 1}, http.StatusUnprocessableEntity},
		{coop, "POST", "/api/v1/coop/bookings/" + b.ID + "/deliveries", map[string]any{"seq": 1, "delivered_at": time.Now()}, http.StatusConflict},
		{coop, "POST", "/api/v1/coop/bookings/" + b.ID + "/respond", map[string]any{"accept": true,
			"sessions": []time.Time{time.Now().Add(-time.Hour)}}, http.StatusUnprocessableEntity},
	} {
		if code := c.who.call(c.method, c.path, c.body, nil, nil); code != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, code, c.want)
		}
	}
	var refused api.ErrorBody
	if code := coop.call("POST", "/api/v1/coop/bookings/"+b.ID+"/respond", map[string]any{"accept": false}, nil, &refused); code != http.StatusUnprocessableEntity ||
		len(refused.Error.Fields) != 1 || refused.Error.Fields[0].Pointer != "/reason" {
		t.Fatalf("decline without a reason: %d %+v", code, refused)
	}
	coop.mustCall(http.StatusOK, "POST", "/api/v1/coop/bookings/"+b.ID+"/respond", map[string]any{"accept": false, "reason": "Nessun posto"}, nil)
	var next struct {
		Coop, Service string
	}
	eventually(t, "the second offer", func() bool {
		return s.st.Pool.QueryRow(ctx, `SELECT o.cooperative_id, b.service_name FROM booking_offers o JOIN bookings b ON b.id = o.booking_id
			WHERE o.booking_id = $1 AND o.attempt = 2`, b.ID).Scan(&next.Coop, &next.Service) == nil
	})
	if next.Coop == "baobab" {
		t.Fatalf("offered to Baobab again")
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND cooperative_id = $2`, b.ID, next.Coop); n != 1 {
		t.Errorf("the booking does not name %s", next.Coop)
	}
	var code int
	var body api.ErrorBody
	if code = coop.call("POST", "/api/v1/coop/bookings/"+b.ID+"/respond",
		map[string]any{"accept": true, "sessions": []time.Time{time.Now().Add(48 * time.Hour)}}, nil, &body); code != http.StatusConflict {
		t.Errorf("Baobab answering again: %d %+v", code, body)
	}
	var inbox struct {
		Items []store.CoopBookingItem `json:"items"`
	}
	coop.mustCall(http.StatusOK, "GET", "/api/v1/coop/bookings", nil, &inbox)
	if len(inbox.Items) != 0 {
		t.Errorf("Baobab still sees %d requests", len(inbox.Items))
	}
	eventually(t, "the citizen told", func() bool {
		return s.count(`SELECT count(*) FROM notifications WHERE key LIKE $1 AND kind = 'booking_reoffered'`, workflows.BookingWorkflowID(b.ID)+":%") == 1
	})
	s.citizenUpdate(t, b.ID, workflows.UpdateBookingCancel, workflows.BookingCancelInput{Actor: s.citizenActor(), Reason: "Basta così"})
	if res := s.waitBooking(t, b.ID); res.Status != workflows.BookingCancelled {
		t.Fatalf("booking ended %s", res.Status)
	}
	s.recordBookingHistory(t, b.ID, "declined-reoffered-cancelled")
	s.assertBooksBalance()
}
