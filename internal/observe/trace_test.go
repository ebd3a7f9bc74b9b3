package observe_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"sportello/internal/observe"
)

// recorder keeps every span in memory and wakes whoever waits on it at the
// end of each one.
type recorder struct {
	*tracetest.SpanRecorder
	mu    sync.Mutex
	ended chan struct{}
}

func newRecorder() *recorder {
	return &recorder{SpanRecorder: tracetest.NewSpanRecorder(), ended: make(chan struct{}, 1)}
}

func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.SpanRecorder.OnEnd(s)
	select {
	case r.ended <- struct{}{}:
	default:
	}
}

// waitFor returns once cond holds of the ended spans, at the end of a span;
// it fails the test after a minute.
func (r *recorder) waitFor(t *testing.T, what string, cond func([]sdktrace.ReadOnlySpan) bool) {
	t.Helper()
	timeout := time.After(time.Minute)
	for !cond(r.Ended()) {
		select {
		case <-r.ended:
		case <-timeout:
			t.Fatalf("no %s among %d spans:\n%s", what, len(r.Ended()), describe(r.Ended()))
		}
	}
}

func describe(spans []sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.SpanContext().TraceID().String()[:8] + " " + s.Parent().SpanID().String() + " -> " +
			s.SpanContext().SpanID().String() + " " + s.Name() + "\n")
	}
	return b.String()
}

// TestOneTraceFromRequestToSQL: with tracing on (an in-memory recorder
// instead of the OTLP exporter), filing an application makes one trace: the
// HTTP server span named by its route, the workflow's start, its run on the
// worker, an activity of it, and SQL spans that are the activity's
// children, named by the statement's first word with no statement text.
// The access log line of the request carries the trace id.
func TestOneTraceFromRequestToSQL(t *testing.T) {
	rec := newRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	observe.Install(tp)
	s := newStack(t)
	s.token("cittadino.tradate")
	s.apply("cittadino.tradate")

	var server sdktrace.ReadOnlySpan
	rec.waitFor(t, "server span of POST /api/v1/applications", func(spans []sdktrace.ReadOnlySpan) bool {
		for _, sp := range spans {
			if sp.Name() == "POST /api/v1/applications" && sp.SpanKind() == trace.SpanKindServer {
				server = sp
				return true
			}
		}
		return false
	})
	tid := server.SpanContext().TraceID()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	var activitySQL sdktrace.ReadOnlySpan
	rec.waitFor(t, "SQL span of an activity of the case's workflow in the request's trace", func(spans []sdktrace.ReadOnlySpan) bool {
		for _, sp := range spans {
			byID[sp.SpanContext().SpanID()] = sp
		}
		for _, sp := range spans {
			if sp.SpanContext().TraceID() != tid || !strings.HasPrefix(sp.Name(), "db ") {
				continue
			}
			if p, ok := byID[sp.Parent().SpanID()]; ok && strings.HasPrefix(p.Name(), "RunActivity:") {
				activitySQL = sp
				return true
			}
		}
		return false
	})

	// The chain, from the SQL span up to the request: RunActivity,
	// StartActivity, RunWorkflow:FoodVoucher, StartWorkflow:FoodVoucher,
	// the server span. Spans still open (the workflow's run) are not in
	// Ended: follow the chain through Started.
	for _, sp := range rec.Started() {
		if _, ok := byID[sp.SpanContext().SpanID()]; !ok {
			byID[sp.SpanContext().SpanID()] = sp
		}
	}
	var chain []string
	for sp := activitySQL; ; {
		chain = append(chain, sp.Name())
		if sp.SpanContext().TraceID() != tid {
			t.Fatalf("span %s is in trace %s, not the request's %s", sp.Name(), sp.SpanContext().TraceID(), tid)
		}
		if sp.SpanContext().SpanID() == server.SpanContext().SpanID() {
			break
		}
		p, ok := byID[sp.Parent().SpanID()]
		if !ok {
			t.Fatalf("the chain %v breaks: no parent of %s\n%s", chain, sp.Name(), describe(rec.Ended()))
		}
		sp = p
	}
	joined := strings.Join(chain, " <- ")
	for _, want := range []string{"RunActivity:", "RunWorkflow:FoodVoucher", "StartWorkflow:FoodVoucher", "POST /api/v1/applications"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the chain from SQL to the request lacks %s: %s", want, joined)
		}
	}
	t.Logf("chain: %s", joined)

	// SQL spans say what kind of statement ran, never its text or arguments.
	for _, sp := range rec.Ended() {
		if !strings.HasPrefix(sp.Name(), "db ") {
			continue
		}
		for _, a := range sp.Attributes() {
			switch string(a.Key) {
			case "db.system", "db.operation.name", "db.operation.batch.size":
			default:
				t.Errorf("SQL span %s carries %s=%s", sp.Name(), a.Key, a.Value.Emit())
			}
		}
		if strings.ContainsAny(sp.Name()[3:], " $'") {
			t.Errorf("SQL span named with more than the statement's first word: %q", sp.Name())
		}
	}

	// The access log line of the request carries its trace id.
	found := false
	for _, line := range s.logs.lines() {
		var l struct {
			Msg     string `json:"msg"`
			Route   string `json:"route"`
			Method  string `json:"method"`
			TraceID string `json:"trace_id"`
			SpanID  string `json:"span_id"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "http request" || l.Route != "/api/v1/applications" || l.Method != "POST" {
			continue
		}
		found = true
		if l.TraceID != tid.String() || l.SpanID == "" {
			t.Errorf("the access log line of the request carries trace %q span %q, want trace %s: %s", l.TraceID, l.SpanID, tid, line)
		}
	}
	if !found {
		t.Errorf("no access log line of POST /api/v1/applications among:\n%s", strings.Join(s.logs.lines(), "\n"))
	}
}
