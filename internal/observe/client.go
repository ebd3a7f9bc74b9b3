package observe

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
)

// Transport wraps base (http.DefaultTransport when nil) for the clients
// of outside services (internal/payments, internal/accounting): each call
// is a client span, a child of the caller's span (an activity's, under
// the Temporal interceptor), and carries the trace context to the server
// in a W3C traceparent header, so one trace goes from the citizen's
// request through the workflow and its activity to the provider. Spans go
// to the process's tracer provider at the time of the call (none when
// tracing is off: the header then carries only what the caller's context
// already holds). The clients' calls are not counted in /metrics: the
// business counters and the activities' metrics say what they did.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(otel.GetTracerProvider()),
		otelhttp.WithPropagators(propagator),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Host }))
}
