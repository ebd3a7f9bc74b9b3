package observe_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMetricsMoveWithAJourney scrapes /metrics around a food-voucher journey
// through the HTTP API (an application, its review, the award, a
// redemption and its replay) and checks that every family moved by exactly
// what the journey did: the HTTP histogram of the routes it called, the
// pool's gauges and counters, the Temporal SDK's metrics, the business
// counters.
func TestMetricsMoveWithAJourney(t *testing.T) {
	s := newStack(t)
	for _, u := range []string{"cittadino.tradate", "operatore.tradate", "esercente.tradate"} {
		s.token(u) // logins are not part of what is measured
	}
	before := s.scrape()
	for _, name := range []string{"sportello_applications_total", "sportello_awards_total", "sportello_redemptions_total",
		"sportello_bookings_total", "sportello_refunds_total"} {
		if _, ok := before.get(t, name); !ok {
			t.Errorf("%s is not on /metrics before its first event", name)
		}
	}

	caseID := s.apply("cittadino.tradate")
	task := s.reviewTask(caseID)
	s.expect(s.do("POST", "/api/v1/tasks/"+task+"/claim", "operatore.tradate", nil), http.StatusOK)
	r := s.do("POST", "/api/v1/tasks/"+task+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"},
		"Idempotency-Key", "decide-1")
	s.expect(r, http.StatusOK)
	var dec struct {
		VoucherID string `json:"voucher_id"`
	}
	r.decode(t, &dec)
	// The same decision again is a replay: nothing is awarded twice.
	s.expect(s.do("POST", "/api/v1/tasks/"+task+"/decision", "operatore.tradate", map[string]any{"outcome": "approve"},
		"Idempotency-Key", "decide-1"), http.StatusOK)

	// The first tranche is released by the workflow after the award.
	var v struct {
		Code           string `json:"code"`
		AvailableCents int64  `json:"available_cents"`
	}
	s.until("the voucher's first tranche", func() bool {
		r := s.do("GET", "/api/v1/vouchers/"+dec.VoucherID, "cittadino.tradate", nil)
		s.expect(r, http.StatusOK)
		r.decode(t, &v)
		return v.AvailableCents > 0
	})
	for range 2 { // the second is a replay of the first
		s.expect(s.do("POST", "/api/v1/redemptions", "esercente.tradate", map[string]any{"code": v.Code, "amount_cents": 1000},
			"Idempotency-Key", "till-1"), http.StatusCreated)
	}
	// The portal's port does not serve /metrics; an unknown path is one
	// "unmatched" series whatever the path.
	s.expect(s.do("GET", "/metrics", "", nil), http.StatusNotFound)
	s.expect(s.do("GET", "/api/v1/no-such-thing/"+caseID, "", nil), http.StatusNotFound)
	after := s.scrape()

	want := []struct {
		name   string
		labels []string
		delta  float64
	}{
		{"sportello_applications_total", nil, 1},
		{"sportello_awards_total", nil, 1},
		{"sportello_redemptions_total", nil, 1},
		{"sportello_bookings_total", nil, 0},
		{"sportello_refunds_total", nil, 0},
		{"sportello_http_request_duration_seconds_count", []string{"method", "POST", "route", "/api/v1/applications", "status", "201"}, 1},
		{"sportello_http_request_duration_seconds_count", []string{"method", "POST", "route", "/api/v1/tasks/:id/claim", "status", "200"}, 1},
		{"sportello_http_request_duration_seconds_count", []string{"method", "POST", "route", "/api/v1/tasks/:id/decision", "status", "200"}, 2},
		{"sportello_http_request_duration_seconds_count", []string{"method", "POST", "route", "/api/v1/redemptions", "status", "201"}, 2},
		{"sportello_http_request_duration_seconds_bucket", []string{"method", "POST", "route", "/api/v1/applications", "status", "201", "le", "+Inf"}, 1},
		{"sportello_http_request_duration_seconds_count", []string{"method", "GET", "route", "unmatched", "status", "404"}, 2},
	}
	for _, w := range want {
		if d := delta(t, before, after, w.name, w.labels...); d != w.delta {
			t.Errorf("%s %v moved by %v, want %v", w.name, w.labels, d, w.delta)
		}
	}
	for series := range after {
		if strings.HasPrefix(series, "sportello_http_request_duration_seconds") &&
			(strings.Contains(series, caseID) || strings.Contains(series, task) || strings.Contains(series, dec.VoucherID)) {
			t.Errorf("a raw path is a label: %s", series)
		}
	}

	// The pool: its size as configured, connections acquired by the journey.
	if got, _ := after.get(t, "sportello_db_pool_max_connections"); got != float64(s.st.Pool.Config().MaxConns) {
		t.Errorf("sportello_db_pool_max_connections = %v, want %d", got, s.st.Pool.Config().MaxConns)
	}
	if d := delta(t, before, after, "sportello_db_pool_acquires_total"); d <= 0 {
		t.Errorf("sportello_db_pool_acquires_total moved by %v", d)
	}
	if got, _ := after.get(t, "sportello_db_pool_connections"); got < 1 {
		t.Errorf("sportello_db_pool_connections = %v", got)
	}

	// The Temporal SDK: the client started one workflow (the case's), and
	// the worker completed workflow tasks.
	if d := delta(t, before, after, "temporal_request_total", "operation", "StartWorkflowExecution"); d != 1 {
		t.Errorf("temporal_request_total{operation=StartWorkflowExecution} moved by %v, want 1", d)
	}
	if d := delta(t, before, after, "temporal_workflow_task_execution_latency_seconds_count",
		"workflow_type", "FoodVoucher"); d < 1 {
		t.Errorf("temporal_workflow_task_execution_latency_seconds_count moved by %v", d)
	}
	// Its timers have buckets in seconds (not OpenTelemetry's default,
	// meant for milliseconds).
	if _, ok := after.get(t, "temporal_workflow_task_execution_latency_seconds_bucket",
		"workflow_type", "FoodVoucher", "le", "0.25"); !ok {
		t.Error("temporal_workflow_task_execution_latency_seconds has no 0.25 s bucket")
	}
}
