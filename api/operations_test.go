package api_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"sportello/api"
	"sportello/internal/apicontract"
	"sportello/internal/app/operations"
	"sportello/internal/bookingtest"
	"sportello/internal/contract"
	"sportello/internal/mailcatcher"
	"sportello/internal/notify"
	"sportello/internal/paysandbox"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"

	"google.golang.org/protobuf/encoding/protojson"
)

// The operations console against a real Temporal server, with a
// deliberately failing activity: the booking saga's refund, which the
// payment sandbox refuses (503) until told otherwise.
//
//   - a supervisor cancels a paid booking from the console (a reason is
//     required: 422 without one); the saga takes its own cancellation path
//     and starts refunding, which fails and backs off;
//   - past the attempt threshold the refund is listed (Tradate's supervisor
//     sees it, Padova's does not), with its attempt and next attempt time;
//   - the watch e-mails Tradate's supervisor once about it, through a real
//     SMTP conversation with the mail catcher, however often it runs;
//   - "retry now" runs the refund at once, long before its backoff would
//     have: the saga ends, cancelled and refunded, before the listed next
//     attempt time; a second retry or cancel is a 409;
//   - every action is in the audit trail.
func TestOperationsConsoleRetryCancelAndStuckMail(t *testing.T) {
	e := newCheckoutEnv(t, true)
	ctx := context.Background()
	const cz = "cittadino.tradate"
	b, paymentID := paidBooking(t, e, cz, "ops-1")
	ops := opsServer(t, e, b.ID)

	// Cancel from the console: a reason is required.
	wid := workflows.BookingWorkflowID(b.ID)
	r := ops.do("POST", "/api/v1/operations/cancel", "supervisore", map[string]any{"workflow_id": wid, "reason": " "})
	if r.status != http.StatusUnprocessableEntity || r.errorBody(t).Fields[0].Pointer != "/reason" {
		t.Fatalf("cancel without a reason: %d %s", r.status, r.body)
	}
	// A run id that is no run (the HTTP fuzz found Temporal's refusal of it
	// answered as a 500) is a field problem; a workflow id Temporal refuses
	// to look up names no journey.
	r = ops.do("POST", "/api/v1/operations/cancel", "supervisore", map[string]any{"workflow_id": wid, "run_id": "x", "reason": "x"})
	if r.status != http.StatusUnprocessableEntity || r.errorBody(t).Fields[0].Pointer != "/run_id" {
		t.Fatalf("cancel with a bad run id: %d %s", r.status, r.body)
	}
	r = ops.do("POST", "/api/v1/operations/retry", "supervisore", map[string]any{"workflow_id": wid, "run_id": "x", "activity_id": "1"})
	if r.status != http.StatusUnprocessableEntity || r.errorBody(t).Fields[0].Pointer != "/run_id" {
		t.Fatalf("retry with a bad run id: %d %s", r.status, r.body)
	}
	// A workflow id no journey can have (too long, or with a control
	// character, which Temporal refuses in its request headers: the HTTP
	// fuzz found it answered as a 500) is a field problem too.
	for _, bad := range []string{strings.Repeat("w", 2000), "a\nb"} {
		r = ops.do("POST", "/api/v1/operations/retry", "supervisore", map[string]any{"workflow_id": bad, "activity_id": "1"})
		if r.status != http.StatusUnprocessableEntity || r.errorBody(t).Fields[0].Pointer != "/workflow_id" {
			t.Fatalf("retry with workflow id %q: %d %s", bad, r.status, r.body)
		}
		r = ops.do("POST", "/api/v1/operations/cancel", "supervisore", map[string]any{"workflow_id": bad, "reason": "x"})
		if r.status != http.StatusUnprocessableEntity || r.errorBody(t).Fields[0].Pointer != "/workflow_id" {
			t.Fatalf("cancel with workflow id %q: %d %s", bad, r.status, r.body)
		}
	}
	expectStatus(t, ops.do("POST", "/api/v1/operations/retry", "supervisore", map[string]any{"workflow_id": "case:NO-SUCH-CASE",
		"activity_id": "1"}), http.StatusNotFound)
	expectStatus(t, ops.do("POST", "/api/v1/operations/cancel", "operatore.tradate", map[string]any{"workflow_id": wid, "reason": "x"}), http.StatusForbidden)
	expectStatus(t, ops.do("POST", "/api/v1/operations/cancel", "supervisore.padova", map[string]any{"workflow_id": wid, "reason": "x"}), http.StatusNotFound)
	if err := e.sb.Inject(paysandbox.Fault{Kind: "fail-503", Op: "refund", Times: 1000}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, ops.do("POST", "/api/v1/operations/cancel", "supervisore", map[string]any{"workflow_id": wid,
		"reason": "servizio sospeso dal Comune"}), http.StatusOK)

	// The refund fails and backs off; past the threshold it is listed.
	var item operations.Item
	waitForLong(t, "the failing refund on the console", 40*time.Second, func() bool {
		var rep operations.Report
		r := ops.do("GET", "/api/v1/operations", "supervisore", nil)
		if r.status != http.StatusOK {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		r.json(t, &rep)
		for _, it := range rep.Items {
			if it.Kind == operations.KindActivityRetrying && it.WorkflowID == wid && it.ActivityType == "RefundSessions" &&
				it.NextAttempt != nil && time.Until(*it.NextAttempt) > 5*time.Second {
				item = it
				return true
			}
		}
		return false
	})
	if item.Attempt < opsAttempts || item.Municipality != "Tradate" || !strings.Contains(item.LastFailure, "503") {
		t.Fatalf("listed %+v", item)
	}
	var padova operations.Report
	ops.do("GET", "/api/v1/operations", "supervisore.padova", nil).json(t, &padova)
	for _, it := range padova.Items {
		if it.WorkflowID == wid {
			t.Fatalf("Padova's supervisor sees Tradate's booking: %+v", it)
		}
	}
	expectStatus(t, ops.do("GET", "/api/v1/operations", "operatore.tradate", nil), http.StatusForbidden)

	// The watch mails Tradate's supervisor once, however often it runs.
	runWatch(t, e, ops, 2)
	mails := 0
	for _, m := range ops.catcher.Messages() {
		if strings.Contains(m.Text, wid) {
			mails++
			if len(m.To) != 1 || m.To[0] != "ufficio.piano@example.org" || !strings.Contains(m.Subject, "bloccato") ||
				!strings.Contains(m.Text, "RefundSessions") {
				t.Errorf("stuck e-mail to %v: %q %q", m.To, m.Subject, m.Text)
			}
		}
	}
	if mails != 1 {
		t.Fatalf("%d stuck e-mails about %s, want 1", mails, wid)
	}

	// Retry now, with the provider back: the refund runs at once.
	e.sb.ClearFaults()
	expectStatus(t, ops.do("POST", "/api/v1/operations/retry", "supervisore.padova", map[string]any{"workflow_id": wid,
		"run_id": item.RunID, "activity_id": item.ActivityID}), http.StatusNotFound)
	r = ops.do("POST", "/api/v1/operations/retry", "supervisore", map[string]any{"workflow_id": wid, "activity_id": " "})
	if r.status != http.StatusUnprocessableEntity || r.errorBody(t).Fields[0].Pointer != "/activity_id" {
		t.Fatalf("retry without an activity: %d %s", r.status, r.body)
	}
	expectStatus(t, ops.do("POST", "/api/v1/operations/retry", "supervisore", map[string]any{"workflow_id": wid,
		"run_id": item.RunID, "activity_id": item.ActivityID}), http.StatusOK)
	if res := e.sagaResult(b.ID); res.Status != workflows.BookingCancelled {
		t.Fatalf("the saga ended %s", res.Status)
	}
	if now := time.Now(); !now.Before(*item.NextAttempt) {
		t.Fatalf("the refund ran at %s, not before its next attempt %s", now, item.NextAttempt)
	}
	if rf := e.sb.Refunds(paymentID); len(rf) != 1 || rf[0].AmountCents != b.OnlineCents {
		t.Fatalf("provider refunds %+v", rf)
	}
	v, err := e.st.API().Booking(ctx, store.System, b.ID)
	if err != nil || v.Status != workflows.BookingCancelled || v.PaymentStatus != store.PaymentRefunded {
		t.Fatalf("booking %+v %v", v, err)
	}
	for path, body := range map[string]any{
		"/api/v1/operations/retry":  map[string]any{"workflow_id": wid, "activity_id": item.ActivityID},
		"/api/v1/operations/cancel": map[string]any{"workflow_id": wid, "reason": "di nuovo"},
	} {
		r := ops.do("POST", path, "supervisore", body)
		if r.status != http.StatusConflict || r.errorBody(t).Code != "journey_closed" {
			t.Fatalf("%s on an ended journey: %d %s", path, r.status, r.body)
		}
	}
	// Refused: cancel without a reason, with a bad run id, with two workflow
	// ids no journey can have, on the ended journey; retry without an
	// activity, with a bad run id, with the two bad workflow ids, of an
	// unknown case, on the ended journey.
	expectAudit(t, e, "supervisore", map[string]int{operations.AuditCancel: 1, operations.AuditCancel + "_refused": 5,
		operations.AuditRetry: 1, operations.AuditRetry + "_refused": 6})
}

// A failed refund resolved by hand needs two different supervisors: the
// first asks (with a reason), the same one cannot approve (403), a second
// one approves; the provider refunds, the refund is read back from it and
// booked, the incident closes. Again: 409.
func TestOperationsRefundResolutionFourEyes(t *testing.T) {
	e := newCheckoutEnv(t, true)
	ctx := context.Background()
	b, paymentID := paidBooking(t, e, "cittadino.tradate", "ops-2")
	ops := opsServer(t, e, b.ID)
	if _, err := e.st.Pool.Exec(ctx, `INSERT INTO users (username, role, display_name, district_id, password_hash, email)
		SELECT 'supervisora.due', 'supervisor', 'Seconda supervisora', 'tradate', password_hash, 'seconda@example.org'
		FROM users WHERE username = 'supervisore'`); err != nil {
		t.Fatal(err)
	}

	// The refund fails for good: the saga cancelled the sessions and gave up
	// refunding (here: it is terminated while the provider refuses), the
	// activity recorded the incident.
	if err := e.sb.Inject(paysandbox.Fault{Kind: "fail-503", Op: "refund", Times: 1000}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, e.do("POST", "/api/v1/bookings/"+b.ID+"/cancel", "cittadino.tradate", map[string]any{"reason": "non serve più"},
		hdr{"Idempotency-Key": "c-1"}), http.StatusOK)
	if err := e.temporal.TerminateWorkflow(ctx, workflows.BookingWorkflowID(b.ID), "", "refund failed for good (test)"); err != nil {
		t.Fatal(err)
	}
	x, err := e.st.RecordIncident(ctx, store.IncidentInput{Key: workflows.BookingWorkflowID(b.ID) + ":refund:1", BookingID: b.ID,
		Kind: store.IncidentRefundFailed, AmountCents: b.OnlineCents, Details: "refused by the provider"})
	if err != nil {
		t.Fatal(err)
	}
	e.sb.ClearFaults()

	req := func(user string, body map[string]any) resp {
		return ops.do("POST", "/api/v1/operations/refunds", user, body)
	}
	approve := func(user string) resp {
		return ops.do("POST", "/api/v1/operations/refunds/approve", user, map[string]any{"incident_id": x.ID})
	}
	r := req("supervisore", map[string]any{"incident_id": x.ID})
	if r.status != http.StatusUnprocessableEntity || r.errorBody(t).Fields[0].Pointer != "/reason" {
		t.Fatalf("a request without a reason: %d %s", r.status, r.body)
	}
	expectStatus(t, req("operatore.tradate", map[string]any{"incident_id": x.ID, "reason": "x"}), http.StatusForbidden)
	expectStatus(t, req("supervisore.padova", map[string]any{"incident_id": x.ID, "reason": "x"}), http.StatusNotFound)
	r = approve("supervisora.due")
	if r.status != http.StatusConflict || r.errorBody(t).Code != "no_resolution_request" {
		t.Fatalf("approval without a request: %d %s", r.status, r.body)
	}
	// The page, without JavaScript: a request without a reason is the
	// console again, 422, the problem next to the row's field.
	sv := ops.browser()
	sv.login("supervisore")
	p := sv.post("/operations/refunds", url.Values{"incident_id": {x.ID}, "row": {"0"}, "reason": {""}})
	expectPage(t, p, http.StatusUnprocessableEntity, "<h1>Console delle operazioni</h1>", `aria-invalid="true"`, "campo obbligatorio")
	expectStatus(t, req("supervisore", map[string]any{"incident_id": x.ID, "reason": "rimborso concordato con il gestore"}), http.StatusOK)
	r = req("supervisora.due", map[string]any{"incident_id": x.ID, "reason": "anche io"})
	if r.status != http.StatusConflict || r.errorBody(t).Code != "resolution_pending" {
		t.Fatalf("a second request: %d %s", r.status, r.body)
	}
	// The console shows the request waiting.
	var rep operations.Report
	ops.do("GET", "/api/v1/operations", "supervisora.due", nil).json(t, &rep)
	found := false
	for _, it := range rep.Items {
		if it.Kind == store.OpsRefundFailed && it.RecordID == x.ID {
			found = it.Pending != nil && it.Pending.RequestedBy == "Supervisore Ambito di Tradate" && it.AmountCents == b.OnlineCents
		}
	}
	if !found {
		t.Fatalf("the failed refund and its request are not listed: %+v", rep.Items)
	}
	if rf := e.sb.Refunds(paymentID); len(rf) != 0 {
		t.Fatalf("money moved on the request alone: %+v", rf)
	}
	r = approve("supervisore")
	if r.status != http.StatusForbidden || r.errorBody(t).Code != "four_eyes" {
		t.Fatalf("the requester approving: %d %s", r.status, r.body)
	}
	expectStatus(t, approve("operatore.tradate"), http.StatusForbidden)
	expectStatus(t, approve("supervisore.padova"), http.StatusNotFound)
	expectStatus(t, approve("supervisora.due"), http.StatusOK)

	if rf := e.sb.Refunds(paymentID); len(rf) != 1 || rf[0].AmountCents != b.OnlineCents {
		t.Fatalf("provider refunds %+v", rf)
	}
	v, err := e.st.API().Booking(ctx, store.System, b.ID)
	if err != nil || v.PaymentStatus != store.PaymentRefunded || v.OnlineHeldCents != 0 {
		t.Fatalf("booking %+v %v", v, err)
	}
	if problem, err := store.LedgerCheck(ctx, e.st.Pool); err != nil || problem != "" {
		t.Fatalf("ledger: %q %v", problem, err)
	}
	inc, err := e.st.API().IncidentIn(ctx, store.System, x.ID)
	if err != nil || inc.Status != store.IncidentResolved {
		t.Fatalf("incident %+v %v", inc, err)
	}
	r = approve("supervisora.due")
	if r.status != http.StatusConflict || r.errorBody(t).Code != "refund_not_open" {
		t.Fatalf("approving again: %d %s", r.status, r.body)
	}
	expectAudit(t, e, "supervisore", map[string]int{operations.AuditRefundRequest: 1, operations.AuditRefundRequest + "_refused": 2,
		operations.AuditRefundApproved + "_refused": 1})
	expectAudit(t, e, "supervisora.due", map[string]int{operations.AuditRefundApproved: 1, operations.AuditRefundApproved + "_refused": 2,
		operations.AuditRefundRequest + "_refused": 1})
	recordHistory(t, e, contract.RefundResolutionWorkflowID(x.ID), "refund-resolution-approved.json")
}

// opsAttempts is the console's attempt threshold in these tests.
const opsAttempts = 3

// opsEnv is a second API server on the checkout environment's store and
// Temporal, with the console's threshold lowered, and a mail catcher.
type opsEnv struct {
	*env
	catcher *mailcatcher.Catcher
	mailer  worker.Config
}

// paidBooking books two sessions with a split payment as citizen and pays
// them on the sandbox's page; the saga then offers it to Baobab.
func paidBooking(t *testing.T, e *checkoutEnv, cz, key string) (bookingOut, string) {
	t.Helper()
	voucher := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: cz, Cents: 100_000})
	svc := bookingtest.ServiceID(t, e.st, bookingtest.Service)
	expectStatus(t, e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svc, "quantity": 2}), 200)
	r, b := e.book(cz, key, map[string]any{"service_id": svc, "payment": "split", "voucher_id": voucher, "voucher_cents": 1000})
	expectStatus(t, r, 201)
	paymentID, page := e.paymentPage(b.ID)
	e.payOnPage(b.ID, page)
	e.waitOffer(b.ID, 1, "baobab")
	return b, paymentID
}

// opsServer starts the console's API server for the checkout environment
// (its task queue read from booking's workflow) and a mail catcher.
func opsServer(t *testing.T, e *checkoutEnv, bookingID string) *opsEnv {
	t.Helper()
	d, err := e.temporal.DescribeWorkflowExecution(context.Background(), workflows.BookingWorkflowID(bookingID), "")
	if err != nil {
		t.Fatal(err)
	}
	tq := d.GetExecutionConfig().GetTaskQueue().GetName()
	h := api.New(api.Deps{Store: e.st, Temporal: e.temporal, TaskQueue: tq, Namespace: testenv.Namespace, Payments: e.pay,
		PaymentsSecret: paySecret, Operations: operations.Settings{Attempts: opsAttempts},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	srv := httptest.NewServer(apicontract.For(t, h))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	catcher, err := mailcatcher.Start(ctx, "127.0.0.1:0", mailcatcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close() })
	host, port, _ := net.SplitHostPort(catcher.Addr())
	p, _ := strconv.Atoi(port)
	m, err := worker.NewMailer(notify.Config{Host: host, Port: p, From: "sportello@ambito-tradate.example", TLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	return &opsEnv{env: &env{t: t, st: e.st, temporal: e.temporal, srv: srv, tokens: map[string]string{}}, catcher: catcher,
		mailer: worker.Config{Mailer: m, PortalURL: srv.URL, Payments: e.pay,
			Operations: operations.Settings{Namespace: testenv.Namespace, Attempts: opsAttempts, StuckAfter: time.Nanosecond}}}
}

// runWatch runs the stuck-journey watch n times, as its schedule does, on a
// worker of its own (the console's thresholds lowered, the catcher's SMTP).
func runWatch(t *testing.T, e *checkoutEnv, ops *opsEnv, n int) {
	t.Helper()
	cfg := ops.mailer
	cfg.TaskQueue = testenv.TaskQueue(t)
	w := worker.NewWith(e.temporal, e.st, cfg)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range n {
		id := "operations-watch-test:" + cfg.TaskQueue + ":" + strconv.Itoa(i)
		run, err := e.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.TaskQueue}, workflows.OperationsWatch)
		if err != nil {
			t.Fatal(err)
		}
		var stuck int
		if err := run.Get(ctx, &stuck); err != nil || stuck == 0 {
			t.Fatalf("watch run %d: %d stuck, %v", i, stuck, err)
		}
		if i == 0 {
			recordHistory(t, e, id, "operations-watch.json")
		}
	}
}

// expectAudit checks the number of audit rows of user per action.
func expectAudit(t *testing.T, e *checkoutEnv, user string, want map[string]int) {
	t.Helper()
	for action, n := range want {
		var got int
		if err := e.st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE actor_username = $1 AND action = $2`,
			user, action).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("%s: %d audit rows %s, want %d", user, got, action, n)
		}
	}
}

// recordHistory writes the history of workflow id to
// $SPORTELLO_RECORD_HISTORIES/operations/name when that is set (the
// replay tests of workflows/ read the committed ones).
func recordHistory(t *testing.T, e *checkoutEnv, id, name string) {
	t.Helper()
	recordHistoryIn(t, e.temporal, "operations", id, name)
}

// recordHistoryIn writes the history of workflow id to
// $SPORTELLO_RECORD_HISTORIES/folder/name when that is set.
func recordHistoryIn(t *testing.T, c client.Client, folder, id, name string) {
	t.Helper()
	dir := os.Getenv("SPORTELLO_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, id, "", false, 0)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, folder), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, folder, name), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitForLong(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
