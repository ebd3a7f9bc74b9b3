package observe

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every metric of this process: one per process, served by
// Handler. The business counters below are registered on it at start-up, so
// a scrape shows them at 0 before their first event.
var Registry = prometheus.NewRegistry()

// The business counters, each counted once where its event is committed (a
// replayed request or a retried step that finds its row already written
// does not count again), in whichever process commits it.
var (
	// Applications counts applications filed (a new case), at the API.
	Applications = newCounter("sportello_applications_total", "Applications filed (new cases).")
	// Awards counts vouchers awarded, by the worker's decision activity.
	Awards = newCounter("sportello_awards_total", "Vouchers awarded (approved cases).")
	// Redemptions counts voucher redemptions at a merchant, at the API.
	Redemptions = newCounter("sportello_redemptions_total", "Voucher redemptions at merchants.")
	// Bookings counts bookings of services checked out, at the API.
	Bookings = newCounter("sportello_bookings_total", "Service bookings checked out.")
	// Refunds counts refunds of online payments: those of cancelled
	// sessions (worker) and of payments that arrived too late (API).
	Refunds = newCounter("sportello_refunds_total", "Refunds of online payments recorded.")
)

func newCounter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	Registry.MustRegister(c)
	return c
}

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		httpDuration,
	)
}

// Handler serves the registry in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}
