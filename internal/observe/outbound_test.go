package observe_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"sportello/internal/bookingtest"
	"sportello/internal/observe"
	"sportello/internal/payments"
	"sportello/internal/paysandbox"
)

// headerLog keeps the traceparent header of every request the sandbox
// provider receives, by method and path.
type headerLog struct {
	mu   sync.Mutex
	seen []string // "POST /v1/...|<traceparent>"
}

func (h *headerLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.seen = append(h.seen, r.Method+" "+r.URL.Path+"|"+r.Header.Get("traceparent"))
		h.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (h *headerLog) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

// TestOutboundCallCarriesTheTrace: a citizen's online checkout starts the
// booking's saga, whose activity creates the payment at the provider. The
// provider (the sandbox) receives a W3C traceparent header of the
// request's trace, naming the client span of the call, which is a child
// of the activity's span: one trace from the HTTP request through the
// workflow and the activity to the outbound call.
func TestOutboundCallCarriesTheTrace(t *testing.T) {
	rec := newRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	observe.Install(tp)

	sb, err := paysandbox.New(paysandbox.Options{Secret: "observe-test-payments-secret"})
	if err != nil {
		t.Fatal(err)
	}
	var log headerLog
	paySrv := httptest.NewServer(log.wrap(sb))
	t.Cleanup(func() { paySrv.Close(); sb.Close() })
	pay, err := payments.New(payments.Config{BaseURL: paySrv.URL, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := newStackWith(t, pay)
	const cz = "cittadino.tradate"
	svc := bookingtest.ServiceID(t, s.st, "Doposcuola e aiuto compiti")
	s.expect(s.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svc, "quantity": 1}), http.StatusOK)
	r := s.do("POST", "/api/v1/bookings", cz, map[string]any{"service_id": svc, "payment": "online"}, "Idempotency-Key", "trace-checkout-1")
	if r.status != http.StatusCreated && r.status != http.StatusAccepted {
		t.Fatalf("checkout: %d %s", r.status, r.body)
	}

	var server sdktrace.ReadOnlySpan
	rec.waitFor(t, "server span of POST /api/v1/bookings", func(spans []sdktrace.ReadOnlySpan) bool {
		for _, sp := range spans {
			if sp.Name() == "POST /api/v1/bookings" && sp.SpanKind() == trace.SpanKindServer {
				server = sp
				return true
			}
		}
		return false
	})
	tid := server.SpanContext().TraceID()

	// The provider's requests: the payment's creation carries the trace.
	var parent string
	deadline := time.Now().Add(time.Minute)
	for parent == "" {
		for _, l := range log.all() {
			req, tp, _ := strings.Cut(l, "|")
			if strings.HasPrefix(req, "POST ") && tp != "" {
				parent = tp
			}
		}
		if parent == "" {
			if time.Now().After(deadline) {
				t.Fatalf("the provider received no POST with a traceparent: %q", log.all())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	parts := strings.Split(parent, "-")
	if len(parts) != 4 || parts[0] != "00" || len(parts[1]) != 32 || len(parts[2]) != 16 {
		t.Fatalf("traceparent %q is not W3C's", parent)
	}
	if parts[1] != tid.String() {
		t.Fatalf("the provider's traceparent %q is of trace %s, not the request's %s", parent, parts[1], tid)
	}
	for _, l := range log.all() {
		if _, tp, _ := strings.Cut(l, "|"); tp == "" {
			t.Errorf("a call reached the provider without a traceparent: %s", l)
		}
	}

	// The span the header names is the client span of the call, a child of
	// the activity that made it, in the request's trace.
	var client sdktrace.ReadOnlySpan
	rec.waitFor(t, "the client span named by the traceparent", func(spans []sdktrace.ReadOnlySpan) bool {
		for _, sp := range spans {
			if sp.SpanContext().SpanID().String() == parts[2] {
				client = sp
				return true
			}
		}
		return false
	})
	if client.SpanKind() != trace.SpanKindClient || !strings.HasPrefix(client.Name(), "POST ") ||
		client.SpanContext().TraceID() != tid {
		t.Errorf("the call's span: %s kind %s trace %s", client.Name(), client.SpanKind(), client.SpanContext().TraceID())
	}
	activity := ""
	for _, sp := range rec.Ended() {
		if sp.SpanContext().SpanID() == client.Parent().SpanID() {
			activity = sp.Name()
		}
	}
	for _, sp := range rec.Started() {
		if sp.SpanContext().SpanID() == client.Parent().SpanID() {
			activity = sp.Name()
		}
	}
	if !strings.HasPrefix(activity, "RunActivity:") {
		t.Fatalf("the call's span has no activity parent:\n%s", describe(rec.Ended()))
	}
	t.Logf("%s <- %s, trace %s", client.Name(), activity, tid)
}
