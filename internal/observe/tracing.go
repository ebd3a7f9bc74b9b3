package observe

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentation names Sportello's own tracers.
const instrumentation = "sportello"

// propagator carries the trace context (W3C traceparent) and baggage.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// TracingConfig says where traces go.
type TracingConfig struct {
	// Endpoint is the URL the OTLP/HTTP exporter posts spans to:
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or
	// OTEL_EXPORTER_OTLP_ENDPOINT followed by /v1/traces; empty: no tracing
	// at all.
	Endpoint string
	// Service is service.name: sportello-api, sportello-worker, sportello-dev.
	Service string
	// Version is service.version (may be empty).
	Version string
}

// TracingFromEnv reads the standard OpenTelemetry variables: tracing is on
// when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is
// set (and OTEL_SDK_DISABLED is not true). The exporter itself reads the
// other OTEL_EXPORTER_OTLP_* variables (headers, timeout, certificates).
func TracingFromEnv(getenv func(string) string, service string) TracingConfig {
	c := TracingConfig{Service: service}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return c
	}
	if v := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")); v != "" {
		c.Endpoint = v
	} else if v := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); v != "" {
		c.Endpoint = strings.TrimRight(v, "/") + "/v1/traces"
	}
	return c
}

// tracer is the process's tracer provider and whether it records: a
// no-op one until SetupTracing (or a test) installs another. Outbound calls
// read it at the time of each call (Transport).
type tracer struct {
	tp trace.TracerProvider
	on bool
}

var current atomic.Pointer[tracer]

func init() { current.Store(&tracer{tp: noop.NewTracerProvider()}) }

// Provider is the process's tracer provider.
func Provider() trace.TracerProvider { return current.Load().tp }

// Enabled reports whether traces are recorded (SetupTracing found an
// endpoint, or a test installed a provider).
func Enabled() bool { return current.Load().on }

// SetupTracing installs the process's tracer provider: with an endpoint, an
// OTLP/HTTP exporter behind a batching processor (the sampler follows
// OTEL_TRACES_SAMPLER, parent-based always-on by default); without one,
// nothing is traced and nothing is exported. The returned function flushes
// and stops the exporter.
func SetupTracing(ctx context.Context, c TracingConfig) (shutdown func(context.Context) error, err error) {
	if c.Endpoint == "" {
		return func(context.Context) error { return nil }, nil
	}
	tp, err := newProvider(ctx, c)
	if err != nil {
		return nil, err
	}
	Install(tp)
	return tp.Shutdown, nil
}

// newProvider is the tracer provider exporting to c.Endpoint.
func newProvider(ctx context.Context, c TracingConfig) (*sdktrace.TracerProvider, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTLP endpoint %q is not an http(s) URL", c.Endpoint)
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(c.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", c.Service)}
	if c.Version != "" {
		attrs = append(attrs, attribute.String("service.version", c.Version))
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attrs...))
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(5*time.Second)),
		sdktrace.WithResource(res)), nil
}

// Install makes tp the process's tracer provider (SetupTracing's, or a
// test's recorder) and the OpenTelemetry global one.
func Install(tp trace.TracerProvider) {
	_, off := tp.(noop.TracerProvider)
	current.Store(&tracer{tp: tp, on: !off})
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagator)
}

// HTTPHandler wraps h (the gin engine) in the server span of each request
// when tracing is on: the trace context of an incoming traceparent header
// is continued. Without tracing it returns h itself, at no cost.
func HTTPHandler(h http.Handler) http.Handler {
	if !Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithTracerProvider(Provider()),
		otelhttp.WithPropagators(propagator),
		// The route is set by Middleware once gin has matched it; until
		// then the span is named by the method alone (never the raw path).
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
}
