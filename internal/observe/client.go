package observe

import (
	"net/http"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/baggage"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport wraps base (http.DefaultTransport when nil) for the clients
// of outside services (internal/payments, internal/accounting): each call
// is a client span, a child of the caller's span (an activity's, under
// the Temporal interceptor), and carries the trace context to the server
// in a W3C traceparent header, so one trace goes from the citizen's
// request through the workflow and its activity to the provider. Spans go
// to the process's tracer provider at the time of the call. When tracing
// is off at the time of the call there is no span: the request goes to
// base as it is, with the header only when the caller's context already
// holds a trace or baggage (otelhttp's wrapper, its attributes and its
// request copy were a fifth of the payment client's time;
// docs/benchmarks.md, "Payments"). The clients' calls are not counted in
// /metrics: the business counters and the activities' metrics say what
// they did.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base}
}

type transport struct {
	base   http.RoundTripper
	traced atomic.Pointer[tracedTransport]
}

// tracedTransport is otelhttp's wrapper of base for one installed tracer
// provider.
type tracedTransport struct {
	of *tracer
	rt http.RoundTripper
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if cur := current.Load(); cur.on {
		tt := t.traced.Load()
		if tt == nil || tt.of != cur {
			tt = &tracedTransport{of: cur, rt: otelhttp.NewTransport(t.base,
				otelhttp.WithTracerProvider(cur.tp),
				otelhttp.WithPropagators(propagator),
				otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
				otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Host }))}
			t.traced.Store(tt)
		}
		return tt.rt.RoundTrip(r)
	}
	ctx := r.Context()
	if !trace.SpanContextFromContext(ctx).IsValid() && baggage.FromContext(ctx).Len() == 0 {
		return t.base.RoundTrip(r)
	}
	// A RoundTripper must not change the caller's request: the header goes
	// on a copy.
	r = r.Clone(ctx)
	propagator.Inject(ctx, propagation.HeaderCarrier(r.Header))
	return t.base.RoundTrip(r)
}
