package observe

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reads pgxpool.Stat at each scrape.
type poolCollector struct {
	pool *pgxpool.Pool

	total, idle, acquired, constructing, max       *prometheus.Desc
	acquires, emptyAcquires, canceled, acquireWait *prometheus.Desc
}

// RegisterPool adds the gauges and counters of a pgx pool to Registry
// (sportello_db_pool_*); the function it returns removes them (a process
// has one pool, tests open many).
func RegisterPool(pool *pgxpool.Pool) (unregister func()) {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("sportello_db_pool_"+name, help, nil, nil)
	}
	c := &poolCollector{pool: pool,
		total:         d("connections", "Connections open in the pool (idle, in use or being opened)."),
		idle:          d("idle_connections", "Idle connections in the pool."),
		acquired:      d("acquired_connections", "Connections in use."),
		constructing:  d("constructing_connections", "Connections being opened."),
		max:           d("max_connections", "The pool's maximum size."),
		acquires:      d("acquires_total", "Connections acquired from the pool."),
		emptyAcquires: d("empty_acquires_total", "Acquisitions that had to wait for a connection (none idle)."),
		canceled:      d("canceled_acquires_total", "Acquisitions given up (context ended) while waiting."),
		acquireWait:   d("acquire_wait_seconds_total", "Time spent acquiring connections, summed."),
	}
	Registry.MustRegister(c)
	return func() { Registry.Unregister(c) }
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.constructing, c.max,
		c.acquires, c.emptyAcquires, c.canceled, c.acquireWait} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	n := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	g(c.total, float64(s.TotalConns()))
	g(c.idle, float64(s.IdleConns()))
	g(c.acquired, float64(s.AcquiredConns()))
	g(c.constructing, float64(s.ConstructingConns()))
	g(c.max, float64(s.MaxConns()))
	n(c.acquires, float64(s.AcquireCount()))
	n(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	n(c.canceled, float64(s.CanceledAcquireCount()))
	n(c.acquireWait, s.AcquireDuration().Seconds())
}
