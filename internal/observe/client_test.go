package observe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"sportello/internal/observe"
)

// TestTransportWithAndWithoutTracing: with tracing off, an outbound call
// goes out as it is (no traceparent) unless the caller's context holds a
// trace, which it then carries, on a copy of the request; with tracing on
// at the time of the call (installed after the client was made), the call
// is a client span and carries it.
func TestTransportWithAndWithoutTracing(t *testing.T) {
	observe.Install(noop.NewTracerProvider())
	t.Cleanup(func() { observe.Install(noop.NewTracerProvider()) })
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("traceparent"))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	c := &http.Client{Transport: observe.Transport(nil)}
	call := func(ctx context.Context) (sent, left string) {
		t.Helper()
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1], r.Header.Get("traceparent")
	}

	if observe.Enabled() {
		t.Fatal("tracing on after installing a no-op provider")
	}
	if sent, _ := call(context.Background()); sent != "" {
		t.Errorf("tracing off, no trace in the context: traceparent %q sent", sent)
	}
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	upstream := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true}))
	sent, left := call(upstream)
	if sent != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("tracing off, a trace in the context: traceparent %q sent", sent)
	}
	if left != "" {
		t.Errorf("the caller's request was changed: traceparent %q", left)
	}

	rec := newRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	observe.Install(tp)
	sent, _ = call(upstream)
	parts := strings.Split(sent, "-")
	if len(parts) != 4 || parts[1] != tid.String() || parts[2] == sid.String() {
		t.Fatalf("tracing on: traceparent %q, want trace %s and the call's own span", sent, tid)
	}
	var client sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if sp.SpanContext().SpanID().String() == parts[2] {
			client = sp
		}
	}
	if client == nil || client.SpanKind() != trace.SpanKindClient || client.Parent().SpanID() != sid {
		t.Fatalf("tracing on: no client span %s, child of %s, among\n%s", parts[2], sid, describe(rec.Ended()))
	}
}
