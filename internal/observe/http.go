package observe

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// UnmatchedRoute is the route label of requests no route matched (404s of
// unknown paths, whatever their path), so that probes of random paths add
// one series, not one per path.
const UnmatchedRoute = "unmatched"

// httpDuration is the one HTTP metric: its _count is the number of requests
// by method, route and status, its buckets their latency.
var httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "sportello_http_request_duration_seconds",
	Help:    "HTTP requests by method, route (gin's pattern) and status, with their latency.",
	Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
}, []string{"method", "route", "status"})

// statusText holds the label of every status code, so that labelling a
// request allocates nothing.
var statusText = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusLabel(code int) string {
	if code >= 0 && code < len(statusText) {
		return statusText[code]
	}
	return "other"
}

// methodLabel keeps the method label to the standard methods: any other
// method a client invents is "other".
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "other"
}

// Request records one request of the HTTP server (its middleware calls it
// once the handler is done): its latency and status in
// sportello_http_request_duration_seconds under route, gin's pattern
// (/api/v1/applications/:id, never the raw path) or "" for a request no route
// matched (UnmatchedRoute); and, when the request is traced, the route as the
// server span's name and http.route attribute.
func Request(ctx context.Context, method, route string, status int, d time.Duration) {
	if route == "" {
		route = UnmatchedRoute
	}
	method = methodLabel(method)
	httpDuration.WithLabelValues(method, route, statusLabel(status)).Observe(d.Seconds())
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetName(method + " " + route)
		span.SetAttributes(attribute.String("http.route", route))
	}
}
