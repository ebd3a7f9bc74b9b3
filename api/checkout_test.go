package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"sportello/api"
	"sportello/internal/accounting"
	"sportello/internal/apicontract"
	"sportello/internal/bookingtest"
	"sportello/internal/payments"
	"sportello/internal/paysandbox"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"
)

const paySecret = "checkout-test-secret"

// checkoutEnv is an API with a payments client of a sandbox provider on
// loopback and, when asked, the worker as production wires it: the real
// Booking workflow and its activities, paying through the same sandbox.
type checkoutEnv struct {
	*env
	sb     *paysandbox.Server
	pay    *payments.Client
	paySrv *httptest.Server
	// saga: a worker runs the Booking workflow; without one a started
	// booking stays at its start (the pay page's waiting state).
	saga bool
	// handled counts the callbacks the API answered with 2xx.
	handled atomic.Int64
}

// newCheckoutEnv starts the API; withWorker also starts the worker of the
// test's task queue as worker.NewWith wires it (the payment provider's
// client, the accounting sandbox, the API as the portal the provider calls
// back and returns the citizen to).
func newCheckoutEnv(t *testing.T, withWorker bool) *checkoutEnv {
	t.Helper()
	_, st := testenv.Postgres(t)
	ctx := context.Background()
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if _, err := st.Pool.Exec(ctx, `SELECT setval('booking_number_seq', $1)`, 1+rand.Int64N(900_000)); err != nil {
		t.Fatal(err)
	}
	c := testenv.Temporal(t)
	tq := testenv.TaskQueue(t)
	sb, paySrv, pc := newPaySandbox(t, paySecret)
	h := api.New(api.Deps{
		Store: st, Temporal: c, TaskQueue: tq, Namespace: testenv.Namespace, Payments: pc, PaymentsSecret: paySecret,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ce := &checkoutEnv{sb: sb, pay: pc, paySrv: paySrv, saga: withWorker}
	srv := httptest.NewServer(apicontract.For(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if r.URL.Path == workflows.PaymentsCallbackPath && rec.status >= 200 && rec.status < 300 {
			ce.handled.Add(1)
		}
	})))
	t.Cleanup(srv.Close)
	if withWorker {
		_, accClient := testenv.Accounting(t, accounting.Options{})
		w := worker.NewWith(c, st, worker.Config{TaskQueue: tq, PortalURL: srv.URL, Accounting: accClient, Payments: pc})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop) // registered last: stops before the servers close
	}
	ce.env = &env{t: t, st: st, temporal: c, srv: srv, tokens: map[string]string{}}
	return ce
}

// newPaySandbox starts the payment sandbox with secret and returns it, its
// server and a client of it.
func newPaySandbox(t *testing.T, secret string) (*paysandbox.Server, *httptest.Server, *payments.Client) {
	t.Helper()
	sb, err := paysandbox.New(paysandbox.Options{Secret: secret, CallbackBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	paySrv := httptest.NewServer(sb)
	t.Cleanup(func() { paySrv.Close(); sb.Close() })
	pc, err := payments.New(payments.Config{BaseURL: paySrv.URL, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return sb, paySrv, pc
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

type cartJSON struct {
	Items []struct {
		ServiceID  int64             `json:"service_id"`
		Quantity   int               `json:"quantity"`
		Available  bool              `json:"available"`
		UnitPrice  *store.PriceQuote `json:"unit_price"`
		TotalCents int64             `json:"total_cents"`
		Vouchers   []store.ServiceVoucher
	} `json:"items"`
}

type bookingOut struct {
	store.BookingView
	PriceQuote *store.PriceQuote `json:"price_quote"`
}

// book checks out as user. With a worker it then waits until the
// booking's workflow has loaded the booking: before that the saga knows no
// sessions, and an update would be judged against none.
func (e *checkoutEnv) book(user, key string, body map[string]any) (resp, bookingOut) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/bookings", user, body, hdr{"Idempotency-Key": key})
	var b bookingOut
	if r.status == http.StatusCreated {
		r.json(e.t, &b)
		if e.saga {
			waitFor(e.t, "the saga to load booking "+b.ID, func() bool {
				st, err := e.sagaState(b.ID)
				return err == nil && len(st.Sessions) == b.Quantity
			})
		}
	}
	return r, b
}

// sagaState queries the state of a booking's workflow.
func (e *checkoutEnv) sagaState(bookingID string) (workflows.BookingState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var st workflows.BookingState
	v, err := e.temporal.QueryWorkflow(ctx, workflows.BookingWorkflowID(bookingID), "", workflows.QueryBookingState)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// waitOffer waits until the saga has offer number attempt open on
// cooperative.
func (e *checkoutEnv) waitOffer(bookingID string, attempt int, cooperative string) {
	e.t.Helper()
	waitFor(e.t, fmt.Sprintf("offer %d of booking %s to %s", attempt, bookingID, cooperative), func() bool {
		st, err := e.sagaState(bookingID)
		return err == nil && st.Offer != nil && st.Offer.Open && st.Offer.Attempt == attempt && st.Offer.CooperativeID == cooperative
	})
}

// sagaResult waits for a booking's workflow to end and returns its result.
func (e *checkoutEnv) sagaResult(bookingID string) workflows.BookingResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res workflows.BookingResult
	if err := e.temporal.GetWorkflow(ctx, workflows.BookingWorkflowID(bookingID), "").Get(ctx, &res); err != nil {
		e.t.Fatalf("booking workflow %s: %v", bookingID, err)
	}
	return res
}

// paymentPage waits for the payment the saga created at the provider for a
// booking and returns its id and the provider's hosted page.
func (e *checkoutEnv) paymentPage(bookingID string) (paymentID, page string) {
	e.t.Helper()
	waitFor(e.t, "the payment page of "+bookingID, func() bool {
		v, err := e.st.API().Booking(context.Background(), store.System, bookingID)
		paymentID, page = v.PaymentID, v.PaymentURL
		return err == nil && page != "" && paymentID != ""
	})
	return paymentID, page
}

// payOnPage pays on the provider's hosted page as the citizen's browser
// does; the provider sends the citizen back to the booking's return page.
func (e *checkoutEnv) payOnPage(bookingID, page string) {
	e.t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.PostForm(page+"/confirm", url.Values{"lang": {"it"}})
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), e.srv.URL+workflows.BookingPaymentReturnPath(bookingID)) {
		e.t.Fatalf("hosted page answered %d, to %s", res.StatusCode, res.Header.Get("Location"))
	}
}

// signals reads the payment signals in the history of a booking's workflow.
func signals(t *testing.T, e *checkoutEnv, workflowID string) []workflows.BookingPayment {
	t.Helper()
	var out []workflows.BookingPayment
	it := e.temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() == workflows.SignalBookingPayment {
			var p workflows.BookingPayment
			if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &p); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Checkout over HTTP, on the real saga: the cart shows the band price and
// the eligible voucher; a split checkout is stored once per Idempotency-Key
// and starts exactly one Booking workflow (also on the replay), which
// creates the payment at the provider; the provider's signed callback,
// delivered twice, is signalled to it twice with the same event and the
// saga takes the payment once; a forged callback is refused; a payment for
// a booking whose workflow has ended (cancelled while its payment page was
// open) is refunded once and recorded.
func TestCheckoutStartsOneWorkflowAndCallbacksSignalIt(t *testing.T) {
	e := newCheckoutEnv(t, true)
	ctx := context.Background()
	const cz = "cittadino.tradate"
	voucher := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: cz, Cents: 3000})
	svc := bookingtest.ServiceID(t, e.st, "Doposcuola e aiuto compiti")

	r := e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svc, "quantity": 3})
	expectStatus(t, r, http.StatusOK)
	var cart cartJSON
	r = e.do("GET", "/api/v1/cart", cz, nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &cart)
	if len(cart.Items) != 1 || cart.Items[0].UnitPrice == nil || cart.Items[0].TotalCents != 3*cart.Items[0].UnitPrice.Cents ||
		len(cart.Items[0].Vouchers) != 1 || cart.Items[0].Vouchers[0].ID != voucher || cart.Items[0].Vouchers[0].AvailableCents != 3000 {
		t.Fatalf("cart %s", r.body)
	}
	total := cart.Items[0].TotalCents
	// The provider will call back twice for the payment the saga creates.
	if err := e.sb.Inject(paysandbox.Fault{Kind: "duplicate-callback", Op: "create"}); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"service_id": svc, "payment": "split", "voucher_id": voucher, "voucher_cents": 1000}
	r, b := e.book(cz, "checkout-1", body)
	expectStatus(t, r, http.StatusCreated)
	if b.Status != workflows.BookingAwaitingPayment || b.VoucherCents != 1000 || b.OnlineCents != total-1000 ||
		b.PriceQuote == nil || b.PriceQuote.Cents != b.UnitPriceCents || len(b.Sessions) != 3 || b.VoucherHeldCents != 1000 {
		t.Fatalf("booking %s", r.body)
	}
	wfID := workflows.BookingWorkflowID(b.ID)
	d, err := e.temporal.DescribeWorkflowExecution(ctx, wfID, "")
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	info := d.GetWorkflowExecutionInfo()
	if info.GetType().GetName() != workflows.BookingWorkflowName || info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("workflow %v %v", info.GetType(), info.GetStatus())
	}
	firstRun := info.GetExecution().GetRunId()

	// The replay returns the same booking and starts nothing new.
	r2, b2 := e.book(cz, "checkout-1", body)
	expectStatus(t, r2, http.StatusCreated)
	if b2.ID != b.ID || r2.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay %s (%v)", r2.body, r2.header)
	}
	if d, err = e.temporal.DescribeWorkflowExecution(ctx, wfID, ""); err != nil || d.GetWorkflowExecutionInfo().GetExecution().GetRunId() != firstRun {
		t.Fatalf("after the replay: %v %v", d, err)
	}
	var started int
	it := e.temporal.GetWorkflowHistory(ctx, wfID, firstRun, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			started++
			var in workflows.BookingInput
			if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &in); err != nil ||
				in != (workflows.BookingInput{BookingID: b.ID, DistrictID: "tradate", CitizenID: b.CitizenID, OnlineCents: total - 1000}) {
				t.Fatalf("input %+v %v", in, err)
			}
		}
	}
	if started != 1 {
		t.Fatalf("%d starts", started)
	}
	r = e.do("POST", "/api/v1/bookings", cz, map[string]any{"service_id": svc, "payment": "online"}, hdr{"Idempotency-Key": "checkout-1"})
	if r.status != http.StatusConflict || r.errorBody(t).Code != "idempotency_key_reused" {
		t.Fatalf("key reused: %d %s", r.status, r.body)
	}

	// The saga creates the payment; the citizen pays on the provider's
	// page. The provider's callback, delivered twice, reaches the workflow
	// twice with one event id, and the saga takes the payment once and
	// offers the booking to the cooperative.
	paymentID, page := e.paymentPage(b.ID)
	e.payOnPage(b.ID, page)
	waitFor(t, "two payment signals", func() bool { return len(signals(t, e, wfID)) >= 2 })
	sig := signals(t, e, wfID)
	if len(sig) != 2 || sig[0] != sig[1] || sig[0].EventID == "" || sig[0].PaymentID != paymentID ||
		sig[0].Status != payments.StatusCaptured || sig[0].Amount != total-1000 {
		t.Fatalf("signals %+v", sig)
	}
	e.waitOffer(b.ID, 1, "baobab")
	if st, err := e.sagaState(b.ID); err != nil || !st.Paid || st.PaymentID != paymentID || st.Status != workflows.BookingRequested {
		t.Fatalf("saga after the payment: %+v %v", st, err)
	}
	paid, err := e.st.API().Booking(ctx, store.System, b.ID)
	if err != nil || paid.Status != workflows.BookingRequested || paid.PaymentStatus != store.PaymentPaid || paid.OnlineHeldCents != total-1000 {
		t.Fatalf("booking after the payment: %+v %v", paid, err)
	}
	var taken int
	if err := e.st.Pool.QueryRow(ctx, `SELECT count(*) FROM transfers WHERE booking_id = $1 AND kind = 'payment'`, b.ID).Scan(&taken); err != nil || taken != 1 {
		t.Fatalf("%d payment transfers (%v), want 1 for a callback delivered twice", taken, err)
	}

	// A forged or unsigned callback is refused.
	for _, h := range []string{"", payments.Sign("wrong-secret", time.Now(), []byte(`{}`)), "t=1,v1=00"} {
		req, _ := http.NewRequest("POST", e.srv.URL+workflows.PaymentsCallbackPath,
			strings.NewReader(`{"id":"evt_x","type":"payment.captured","payment":{"id":"pay_x","merchant_reference":"`+b.ID+`"}}`))
		req.Header.Set(payments.SignatureHeader, h)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("signature %q: %d", h, res.StatusCode)
		}
	}
	if n := len(signals(t, e, wfID)); n != 2 {
		t.Fatalf("%d signals after forged callbacks", n)
	}

	// A payment that arrives after the booking's workflow ended is refunded:
	// the citizen cancels while the payment page is open, the saga ends, and
	// then the citizen pays on that page.
	svc2 := bookingtest.ServiceID(t, e.st, "Centro estivo")
	expectStatus(t, e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svc2}), http.StatusOK)
	if err := e.sb.Inject(paysandbox.Fault{Kind: "duplicate-callback", Op: "create"}); err != nil {
		t.Fatal(err)
	}
	r, late := e.book(cz, "checkout-2", map[string]any{"service_id": svc2, "payment": "online"})
	expectStatus(t, r, http.StatusCreated)
	latePayment, latePage := e.paymentPage(late.ID)
	r = e.do("POST", "/api/v1/bookings/"+late.ID+"/cancel", cz, map[string]any{"reason": "ho cambiato idea"})
	expectStatus(t, r, http.StatusOK)
	var lateCancelled bookingOut
	if r.json(t, &lateCancelled); lateCancelled.Status != workflows.BookingCancelled || lateCancelled.PaymentStatus == store.PaymentPaid {
		t.Fatalf("after the cancellation: %s", r.body)
	}
	if res := e.sagaResult(late.ID); res.Status != workflows.BookingCancelled {
		t.Fatalf("the late booking's saga ended %s", res.Status)
	}
	e.payOnPage(late.ID, latePage)
	waitFor(t, "the late payment's refund", func() bool {
		v, err := e.st.API().Booking(ctx, store.System, late.ID)
		return err == nil && v.PaymentStatus == "refunded"
	})
	// Every delivery handled: the first capture twice, the late capture
	// twice and its refund's event twice (the sandbox duplicates them all).
	waitFor(t, "every callback delivery", func() bool { return e.handled.Load() >= 6 })
	if rf := e.sb.Refunds(latePayment); len(rf) != 1 || rf[0].AmountCents != late.OnlineCents {
		t.Fatalf("refunds %+v", rf)
	}
	got, err := e.pay.Payment(ctx, latePayment)
	if err != nil || got.RefundedCents != late.OnlineCents {
		t.Fatalf("provider payment %+v %v", got, err)
	}
	var transfers int
	if err := e.st.Pool.QueryRow(ctx, `SELECT count(*) FROM transfers WHERE booking_id = $1 AND kind IN ('payment','refund')`, late.ID).Scan(&transfers); err != nil || transfers != 2 {
		t.Fatalf("late transfers %d %v", transfers, err)
	}
	if problem, err := store.LedgerCheck(ctx, e.st.Pool); err != nil || problem != "" {
		t.Fatalf("ledger: %q %v", problem, err)
	}
}

// Cart and checkout refusals over HTTP: 422 with the field, 409 with the
// code, never a 500; other roles get 403.
func TestCartAndCheckoutRefusalsHTTP(t *testing.T) {
	e := newCheckoutEnv(t, true)
	const cz = "cittadino.tradate"
	svc := bookingtest.ServiceID(t, e.st, "Doposcuola e aiuto compiti")
	for _, c := range []struct {
		body         any
		status       int
		code, fieldP string
	}{
		{map[string]any{"service_id": bookingtest.ServiceID(t, e.st, "Scuola di musica")}, 422, "validation", "/service_id"},
		{map[string]any{"service_id": svc, "quantity": 0}, 422, "validation", "/quantity"},
		{map[string]any{"service_id": svc, "quantity": 101}, 422, "validation", "/quantity"},
		{map[string]any{"quantity": 1}, 422, "validation", "/service_id"},
		{map[string]any{"service_id": "x"}, 422, "", ""},
	} {
		r := e.do("POST", "/api/v1/cart/items", cz, c.body)
		if r.status != c.status {
			t.Fatalf("%v: %d %s", c.body, r.status, r.body)
		}
		if c.fieldP != "" {
			eb := r.errorBody(t)
			if eb.Code != c.code || len(eb.Fields) != 1 || eb.Fields[0].Pointer != c.fieldP || eb.Fields[0].MessageIT == "" {
				t.Fatalf("%v: %s", c.body, r.body)
			}
		}
	}
	withdrawn := bookingtest.ServiceID(t, e.st, "Centro estivo")
	if _, err := e.st.Pool.Exec(context.Background(), `UPDATE services SET published = false WHERE id = $1`, withdrawn); err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": withdrawn}); r.status != 409 || r.errorBody(t).Code != "service_unavailable" {
		t.Fatalf("withdrawn: %d %s", r.status, r.body)
	}
	expectStatus(t, e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svc, "quantity": 2}), 200)
	r := e.do("PUT", fmt.Sprintf("/api/v1/cart/items/%d", svc), cz, map[string]any{"quantity": 5})
	expectStatus(t, r, 200)
	silver := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: cz, Cents: 99_000, Categories: []string{"silvercare"}})
	poor := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: cz, Cents: 100})
	for _, c := range []struct {
		body   map[string]any
		status int
		code   string
	}{
		{map[string]any{"service_id": svc, "payment": "voucher", "voucher_id": silver}, 422, "validation"},
		{map[string]any{"service_id": svc, "payment": "voucher", "voucher_id": poor}, 409, "insufficient_balance"},
		{map[string]any{"service_id": svc, "payment": "split", "voucher_id": poor, "voucher_cents": 0}, 422, "validation"},
		{map[string]any{"service_id": svc, "payment": "cash"}, 422, "validation"},
		{map[string]any{"service_id": withdrawn, "payment": "online"}, 409, "not_in_cart"},
	} {
		r := e.do("POST", "/api/v1/bookings", cz, c.body)
		if r.status != c.status || r.errorBody(t).Code != c.code {
			t.Fatalf("%v: %d %s", c.body, r.status, r.body)
		}
	}
	expectStatus(t, e.do("DELETE", fmt.Sprintf("/api/v1/cart/items/%d", svc), cz, nil), 204)
	expectStatus(t, e.do("DELETE", fmt.Sprintf("/api/v1/cart/items/%d", svc), cz, nil), 404)
	expectStatus(t, e.do("GET", "/api/v1/cart", "operatore.tradate", nil), 403)
	expectStatus(t, e.do("GET", "/api/v1/bookings", "coop.baobab", nil), 403)
	expectStatus(t, e.do("GET", "/api/v1/bookings/00000000-0000-0000-0000-000000000000", cz, nil), 404)
	expectStatus(t, e.do("GET", "/api/v1/bookings/nope", cz, nil), 404)
}

// Cancel and confirm reach the booking's workflow and its refusals come
// back mapped: a confirmation of a session not delivered is 409
// booking_wrong_state; the cooperative's answers the saga refuses are 409
// booking_wrong_state (a delivery before accepting), 422 at the field (the
// saga's booking_invalid_data: dates in the past, too few dates) and 409
// booking_not_yours (an answer after the booking went to another
// cooperative); cancelling a cancelled booking is 409 booking_closed, both
// while the saga is still refunding and once it has ended. Bad seqs and
// reasons are 422 before the workflow; another citizen's booking is a 404.
// The cancellation withdraws the pending offer, gives the voucher part back
// and refunds the online part once.
func TestBookingCancelAndConfirmMapping(t *testing.T) {
	e := newCheckoutEnv(t, true)
	ctx := context.Background()
	const cz, coop = "cittadino.tradate", "coop.baobab"
	voucher := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: cz, Cents: 100_000})
	svc := bookingtest.ServiceID(t, e.st, bookingtest.Service)
	// An equivalent service of another cooperative (same category and unit,
	// serving Tradate, cheaper): where the saga turns when Baobab declines.
	var price int64
	var category, unit string
	if err := e.st.Pool.QueryRow(ctx, `SELECT price_cents, category, unit FROM services WHERE id = $1`, svc).Scan(&price, &category, &unit); err != nil {
		t.Fatal(err)
	}
	if err := e.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return store.EnsureService(ctx, tx, "eureka", store.ServiceInput{Category: category, Name: "Doposcuola pomeridiano", Unit: unit,
			PriceCents: price - 100, Capacity: 10, CapacityPeriod: "week", Municipalities: []string{"tradate"}}, true)
	}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svc, "quantity": 2}), 200)
	r, b := e.book(cz, "c-1", map[string]any{"service_id": svc, "payment": "split", "voucher_id": voucher, "voucher_cents": 1000})
	expectStatus(t, r, 201)
	if b.Status != workflows.BookingAwaitingPayment || b.VoucherCents != 1000 || b.OnlineCents <= 0 || len(b.Sessions) != 2 {
		t.Fatalf("booking %s", r.body)
	}
	r = e.do("GET", "/api/v1/bookings", cz, nil)
	expectStatus(t, r, 200)
	var list struct {
		Items []bookingOut `json:"items"`
		Total int          `json:"total"`
	}
	r.json(t, &list)
	if list.Total != 1 || list.Items[0].ID != b.ID {
		t.Fatalf("list %s", r.body)
	}
	expectStatus(t, e.do("GET", "/api/v1/bookings/"+b.ID, "cittadino.vedano", nil), 404)
	expectStatus(t, e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", "cittadino.vedano", map[string]any{}), 404)

	// The last one reaches the saga, which has no delivered session 1.
	for _, c := range []struct {
		body   any
		status int
		code   string
	}{
		{map[string]any{"seqs": []int{}}, 422, "validation"},
		{map[string]any{"seqs": []int{3}}, 422, "validation"},
		{map[string]any{"seqs": []int{1, 1}}, 422, "validation"},
		{map[string]any{"seqs": []int{1}}, 409, "booking_wrong_state"},
	} {
		r := e.do("POST", "/api/v1/bookings/"+b.ID+"/confirm-delivery", cz, c.body)
		if r.status != c.status || r.errorBody(t).Code != c.code {
			t.Fatalf("%v: %d %s", c.body, r.status, r.body)
		}
	}

	// Paid on the provider's page, the booking is offered to Baobab, whose
	// answers the saga judges.
	paymentID, page := e.paymentPage(b.ID)
	e.payOnPage(b.ID, page)
	e.waitOffer(b.ID, 1, "baobab")
	week := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	for _, c := range []struct {
		path          string
		body          any
		status        int
		code, pointer string
	}{
		{"/deliveries", map[string]any{"seq": 1, "delivered_at": time.Now().Add(-time.Minute)}, 409, "booking_wrong_state", ""},
		{"/respond", map[string]any{"accept": true, "sessions": []time.Time{week}}, 422, "validation", "/sessions"},
		{"/respond", map[string]any{"accept": true, "sessions": []time.Time{time.Now().Add(-time.Hour), week}}, 422, "validation", "/sessions/0"},
	} {
		r := e.do("POST", "/api/v1/coop/bookings/"+b.ID+c.path, coop, c.body)
		eb := r.errorBody(t)
		if r.status != c.status || eb.Code != c.code || (c.pointer != "" && (len(eb.Fields) != 1 || eb.Fields[0].Pointer != c.pointer)) {
			t.Fatalf("%s %v: %d %s", c.path, c.body, r.status, r.body)
		}
	}
	expectStatus(t, e.do("POST", "/api/v1/coop/bookings/"+b.ID+"/respond", coop, map[string]any{"accept": false, "reason": "Nessun posto"}), 200)
	e.waitOffer(b.ID, 2, "eureka")
	r = e.do("POST", "/api/v1/coop/bookings/"+b.ID+"/respond", coop, map[string]any{"accept": true, "sessions": []time.Time{week, week.Add(24 * time.Hour)}})
	if r.status != 409 || r.errorBody(t).Code != "booking_not_yours" {
		t.Fatalf("Baobab accepting after declining: %d %s", r.status, r.body)
	}

	// The citizen cancels while Eureka decides. The provider refuses refunds
	// for now, so the saga is still running, refunding, when the citizen
	// cancels again: the saga itself says the booking is closed.
	if err := e.sb.Inject(paysandbox.Fault{Kind: "fail-503", Op: "refund", Times: 1000}); err != nil {
		t.Fatal(err)
	}
	r = e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", cz, map[string]any{"reason": "non serve più"}, hdr{"Idempotency-Key": "cancel-1"})
	expectStatus(t, r, 200)
	var cancelled bookingOut
	r.json(t, &cancelled)
	if cancelled.Status != workflows.BookingCancelled {
		t.Fatalf("after the cancellation: %s", r.body)
	}
	r = e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", cz, map[string]any{"reason": "ancora"}, hdr{"Idempotency-Key": "cancel-2"})
	if r.status != 409 || r.errorBody(t).Code != "booking_closed" {
		t.Fatalf("cancel while refunding: %d %s", r.status, r.body)
	}
	d, err := e.temporal.DescribeWorkflowExecution(ctx, workflows.BookingWorkflowID(b.ID), "")
	if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("the saga should still be refunding: %v %v", d, err)
	}
	e.sb.ClearFaults()
	if res := e.sagaResult(b.ID); res.Status != workflows.BookingCancelled {
		t.Fatalf("the saga ended %s", res.Status)
	}
	r = e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", cz, map[string]any{"reason": "ancora"}, hdr{"Idempotency-Key": "cancel-3"})
	if r.status != 409 || r.errorBody(t).Code != "booking_closed" {
		t.Fatalf("cancel after the end: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", cz, map[string]any{"reason": strings.Repeat("x", 1001)})
	if r.status != 422 || r.errorBody(t).Fields[0].Pointer != "/reason" {
		t.Fatalf("long reason: %d %s", r.status, r.body)
	}

	// The money: the online part refunded once, the voucher part back, the
	// offer to Eureka withdrawn, the books balanced.
	if rf := e.sb.Refunds(paymentID); len(rf) != 1 || rf[0].AmountCents != b.OnlineCents {
		t.Fatalf("provider refunds %+v, want one of %d", rf, b.OnlineCents)
	}
	v, err := e.st.API().Booking(ctx, store.System, b.ID)
	if err != nil || v.Status != workflows.BookingCancelled || v.PaymentStatus != store.PaymentRefunded || v.VoucherHeldCents != 0 ||
		v.OnlineHeldCents != 0 || len(v.Offers) != 2 || v.Offers[0].Outcome != store.OfferDeclined || v.Offers[1].Outcome != store.OfferWithdrawn {
		t.Fatalf("booking after the cancellation: %+v %v", v, err)
	}
	if bal, err := store.Balance(ctx, e.st.Pool, store.VoucherAccountID(voucher)); err != nil || bal != 100_000 {
		t.Fatalf("voucher balance %d (%v), want all of it back", bal, err)
	}
	if problem, err := store.LedgerCheck(ctx, e.st.Pool); err != nil || problem != "" {
		t.Fatalf("ledger: %q %v", problem, err)
	}
}
