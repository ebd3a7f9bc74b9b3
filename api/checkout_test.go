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

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"sportello/api"
	"sportello/internal/bookingtest"
	"sportello/internal/payments"
	"sportello/internal/paysandbox"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/workflows"
)

const paySecret = "checkout-test-secret"

// checkoutEnv is an API with a payments client of a sandbox provider on
// loopback, and (optionally) a stand-in Booking workflow on its queue.
type checkoutEnv struct {
	*env
	sb     *paysandbox.Server
	pay    *payments.Client
	paySrv *httptest.Server
	// handled counts the callbacks the API answered with 2xx.
	handled atomic.Int64
}

// stubBooking stands in for the saga (another branch writes the real one)
// so that the API's update mapping can be exercised: cancel ends it,
// confirm-delivery is refused as the saga refuses a session not delivered.
func stubBooking(ctx workflow.Context, in workflows.BookingInput) error {
	done := false
	if err := workflow.SetUpdateHandler(ctx, workflows.UpdateBookingCancel, func(ctx workflow.Context, c workflows.BookingCancelInput) error {
		done = true
		return nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateBookingConfirmDelivery,
		func(ctx workflow.Context, c workflows.BookingConfirmInput) error { return nil },
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, c workflows.BookingConfirmInput) error {
			return temporal.NewApplicationError(fmt.Sprintf("session %d is not delivered", c.Seqs[0]), workflows.ErrTypeBookingWrongState)
		}}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return done }); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

func newCheckoutEnv(t *testing.T, withStub bool) *checkoutEnv {
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
	if withStub {
		w := sdkworker.New(c, tq, sdkworker.Options{})
		w.RegisterWorkflowWithOptions(stubBooking, workflow.RegisterOptions{Name: workflows.BookingWorkflowName})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	sb, err := paysandbox.New(paysandbox.Options{Secret: paySecret, CallbackBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	paySrv := httptest.NewServer(sb)
	t.Cleanup(func() { paySrv.Close(); sb.Close() })
	pc, err := payments.New(payments.Config{BaseURL: paySrv.URL, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Deps{
		Store: st, Temporal: c, TaskQueue: tq, Namespace: testenv.Namespace, Payments: pc, PaymentsSecret: paySecret,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ce := &checkoutEnv{sb: sb, pay: pc, paySrv: paySrv}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if r.URL.Path == workflows.PaymentsCallbackPath && rec.status >= 200 && rec.status < 300 {
			ce.handled.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	ce.env = &env{t: t, st: st, temporal: c, srv: srv, tokens: map[string]string{}}
	return ce
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

func (e *checkoutEnv) book(user, key string, body map[string]any) (resp, bookingOut) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/bookings", user, body, hdr{"Idempotency-Key": key})
	var b bookingOut
	if r.status == http.StatusCreated {
		r.json(e.t, &b)
	}
	return r, b
}

// payIntent creates a payment for booking b as the saga does (merchant
// reference = booking id, callback to the API) and pays it on the hosted
// page; fault, when not empty, is a callback fault of the sandbox.
func (e *checkoutEnv) payIntent(b bookingOut, fault string) payments.Payment {
	e.t.Helper()
	if fault != "" {
		if err := e.sb.Inject(paysandbox.Fault{Kind: fault, Op: "create"}); err != nil {
			e.t.Fatal(err)
		}
	}
	p, err := e.pay.CreateIntent(context.Background(), "intent:"+b.ID, payments.IntentRequest{AmountCents: b.OnlineCents,
		Description: b.ServiceName, MerchantReference: b.ID, ReturnURL: e.srv.URL + workflows.BookingPaymentReturnPath(b.ID),
		CallbackURL: e.srv.URL + workflows.PaymentsCallbackPath})
	if err != nil {
		e.t.Fatal(err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.PostForm(p.CheckoutURL+"/confirm", url.Values{"lang": {"it"}})
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), workflows.BookingPaymentReturnPath(b.ID)) {
		e.t.Fatalf("hosted page answered %d, to %s", res.StatusCode, res.Header.Get("Location"))
	}
	return p
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

// Checkout over HTTP: the cart shows the band price and the eligible
// voucher; a split checkout is stored once per Idempotency-Key and starts
// exactly one Booking workflow (also on the replay); the provider's signed
// callback, delivered twice, is signalled to it twice with the same event;
// a forged callback is refused; a payment for a booking whose workflow has
// ended is refunded once and recorded.
func TestCheckoutStartsOneWorkflowAndCallbacksSignalIt(t *testing.T) {
	e := newCheckoutEnv(t, false)
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

	// The provider's callback, delivered twice, reaches the workflow twice
	// with one event id (the saga tells repeats apart).
	p := e.payIntent(b, "duplicate-callback")
	waitFor(t, "two payment signals", func() bool { return len(signals(t, e, wfID)) >= 2 })
	sig := signals(t, e, wfID)
	if len(sig) != 2 || sig[0] != sig[1] || sig[0].PaymentID != p.ID || sig[0].Status != payments.StatusCaptured || sig[0].Amount != total-1000 {
		t.Fatalf("signals %+v", sig)
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

	// A payment that arrives after the booking's workflow ended is refunded.
	svc2 := bookingtest.ServiceID(t, e.st, "Centro estivo")
	expectStatus(t, e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svc2}), http.StatusOK)
	r, late := e.book(cz, "checkout-2", map[string]any{"service_id": svc2, "payment": "online"})
	expectStatus(t, r, http.StatusCreated)
	if err := e.temporal.TerminateWorkflow(ctx, workflows.BookingWorkflowID(late.ID), "", "cancelled for non-payment (test)"); err != nil {
		t.Fatal(err)
	}
	lp := e.payIntent(late, "duplicate-callback")
	waitFor(t, "the late payment's refund", func() bool {
		v, err := e.st.API().Booking(ctx, store.System, late.ID)
		return err == nil && v.PaymentStatus == "refunded"
	})
	// Every delivery handled: the first capture twice, the late capture
	// twice and its refund's event twice (the sandbox duplicates them all).
	waitFor(t, "every callback delivery", func() bool { return e.handled.Load() >= 6 })
	if rf := e.sb.Refunds(lp.ID); len(rf) != 1 || rf[0].AmountCents != late.OnlineCents {
		t.Fatalf("refunds %+v", rf)
	}
	got, err := e.pay.Payment(ctx, lp.ID)
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
	e := newCheckoutEnv(t, false)
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

// Cancel and confirm reach the booking's workflow; its refusals map to 409
// (wrong state, or a workflow that has ended) and bad seqs to 422; another
// citizen's booking is a 404.
func TestBookingCancelAndConfirmMapping(t *testing.T) {
	e := newCheckoutEnv(t, true)
	const cz = "cittadino.tradate"
	voucher := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: cz, Cents: 100_000})
	svc := bookingtest.ServiceID(t, e.st, "Doposcuola e aiuto compiti")
	expectStatus(t, e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svc, "quantity": 2}), 200)
	r, b := e.book(cz, "c-1", map[string]any{"service_id": svc, "payment": "voucher", "voucher_id": voucher})
	expectStatus(t, r, 201)
	if b.Status != workflows.BookingRequested || b.OnlineCents != 0 {
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
	r = e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", cz, map[string]any{"reason": "non serve più"}, hdr{"Idempotency-Key": "cancel-1"})
	expectStatus(t, r, 200)
	waitFor(t, "the workflow to end", func() bool {
		d, err := e.temporal.DescribeWorkflowExecution(context.Background(), workflows.BookingWorkflowID(b.ID), "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	r = e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", cz, map[string]any{"reason": "ancora"})
	if r.status != 409 || r.errorBody(t).Code != "booking_closed" {
		t.Fatalf("cancel after the end: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", cz, map[string]any{"reason": strings.Repeat("x", 1001)})
	if r.status != 422 || r.errorBody(t).Fields[0].Pointer != "/reason" {
		t.Fatalf("long reason: %d %s", r.status, r.body)
	}
}
