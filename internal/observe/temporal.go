package observe

import (
	"fmt"
	"sync"

	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// temporalMetrics is the one Temporal metrics handler of the process: the
// SDK's metrics (temporal_*) through an OpenTelemetry meter whose reader is
// a Prometheus exporter on Registry.
var temporalMetrics = sync.OnceValues(func() (client.MetricsHandler, error) {
	exp, err := otelprom.New(otelprom.WithRegisterer(Registry), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, err
	}
	// The SDK's timers are in seconds; OpenTelemetry's default buckets
	// (0 to 10,000) are meant for milliseconds and would put every task in
	// the first one. Long polls last up to a minute.
	seconds := sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
			Boundaries: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}})
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(seconds))
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                mp.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		// A meter error is a programming error of the SDK's names; it must
		// not crash a worker.
		OnError: func(error) {},
	}), nil
})

// Temporal adds to the options of a Temporal client (the one the API and the
// worker share in a process) the SDK's metrics on Registry and, when tracing
// is on, the tracing interceptor: a workflow started or updated from a
// traced request carries the trace context in its headers, so the workflow's,
// its activities' and their SQL spans join the request's trace. Neither
// changes what a workflow does or records in its history beyond headers:
// replays are unaffected.
func Temporal(opts client.Options) (client.Options, error) {
	h, err := temporalMetrics()
	if err != nil {
		return opts, fmt.Errorf("temporal metrics: %w", err)
	}
	opts.MetricsHandler = h
	if !Enabled() {
		return opts, nil
	}
	ti, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            Provider().Tracer("temporal-sdk-go"),
		TextMapPropagator: propagator,
	})
	if err != nil {
		return opts, fmt.Errorf("temporal tracing: %w", err)
	}
	opts.Interceptors = append([]interceptor.ClientInterceptor{ti}, opts.Interceptors...)
	return opts, nil
}
