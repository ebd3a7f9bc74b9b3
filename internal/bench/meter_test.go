package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// slowWorkflowTask is the Go SDK's threshold for its TMPRL1104 warning
// ("Workflow task duration exceeded 5 seconds").
const slowWorkflowTask = 5 * time.Second

// meter is the SDK metrics handler of the benchmarks' Temporal client: it
// keeps, per task queue, the latencies that say where a worker's time goes
// (how long a workflow task ran, how long workflow and activity tasks
// waited for a worker). Everything else is dropped.
type meter struct {
	mu     sync.Mutex
	queue  string
	timers map[string][]time.Duration // "queue/metric" -> samples
	root   *meter
}

// meteredTimers are the SDK timers the meter keeps.
var meteredTimers = map[string]string{
	"temporal_workflow_task_execution_latency":         "wft_run",
	"temporal_workflow_task_schedule_to_start_latency": "wft_wait",
	"temporal_activity_schedule_to_start_latency":      "act_wait",
	"temporal_activity_execution_latency":              "act_run",
	"temporal_local_activity_execution_latency":        "local_run",
	"temporal_workflow_task_replay_latency":            "replay",
	"temporal_request_latency":                         "request",
}

// startRPC is the pseudo-queue of the client's workflow starts.
const startRPC = "rpc:StartWorkflowExecution"

func newMeter() *meter {
	m := &meter{timers: map[string][]time.Duration{}}
	m.root = m
	return m
}

func (m *meter) WithTags(tags map[string]string) client.MetricsHandler {
	if op, ok := tags["operation"]; ok {
		// A client call (StartWorkflowExecution, UpdateWorkflowExecution...):
		// its latency is kept under the pseudo-queue "rpc:" + operation.
		return &meter{queue: "rpc:" + op, root: m.root}
	}
	q, ok := tags["task_queue"]
	if !ok {
		return m
	}
	return &meter{queue: q, root: m.root}
}

func (m *meter) Counter(string) client.MetricsCounter { return client.MetricsNopHandler.Counter("") }
func (m *meter) Gauge(string) client.MetricsGauge     { return client.MetricsNopHandler.Gauge("") }

func (m *meter) Timer(name string) client.MetricsTimer {
	short, ok := meteredTimers[name]
	if !ok || short == "request" && m.queue != startRPC {
		return client.MetricsNopHandler.Timer(name) // of the client's calls, only workflow starts are kept
	}
	key, root := m.queue+"/"+short, m.root
	return timerFunc(func(d time.Duration) {
		root.mu.Lock()
		root.timers[key] = append(root.timers[key], d)
		root.mu.Unlock()
	})
}

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// reset forgets every sample (a new phase begins).
func (m *meter) reset() {
	m.root.mu.Lock()
	m.root.timers = map[string][]time.Duration{}
	m.root.mu.Unlock()
}

// stats are one timer's figures on one queue.
type stats struct {
	n             int
	p50, p99, max time.Duration
	over          int // samples above slowWorkflowTask
}

func (m *meter) stats(queue, short string) stats {
	m.root.mu.Lock()
	d := append([]time.Duration(nil), m.root.timers[queue+"/"+short]...)
	m.root.mu.Unlock()
	sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
	s := stats{n: len(d), p50: percentile(d, 0.5), p99: percentile(d, 0.99)}
	if len(d) > 0 {
		s.max = d[len(d)-1]
	}
	for _, x := range d {
		if x > slowWorkflowTask {
			s.over++
		}
	}
	return s
}

// report prints the worker's side of a phase on queue, one line per timer.
func (m *meter) report(queue, label string) {
	names := map[string]string{"wft_run": "workflow task run", "wft_wait": "workflow task wait for a worker",
		"act_wait": "activity wait for a worker", "act_run": "activity run", "local_run": "local activity run",
		"replay": "workflow task replay"}
	for _, short := range []string{"wft_run", "wft_wait", "replay", "act_wait", "act_run", "local_run"} {
		s := m.stats(queue, short)
		if s.n == 0 {
			continue
		}
		fmt.Printf("  %s, %s: %d, p50 %v, p99 %v, max %v\n", label, names[short], s.n,
			s.p50.Round(100*time.Microsecond), s.p99.Round(100*time.Microsecond), s.max.Round(time.Millisecond))
	}
}

// Memory. The API, the worker and the benchmark's clients run in the
// benchmark's process (PostgreSQL and Temporal are other processes), so its
// resident set is what one machine running `sportello dev` without its
// servers would hold, clients included.

// resetPeakRSS starts a new peak: writing 5 to clear_refs resets VmHWM.
func resetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// procStatus reads one kB field of /proc/self/status (VmHWM, VmRSS) in MiB.
func procStatus(field string) (float64, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		return kb / 1024, err
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}

// settledRSS is the resident set after a full collection that returns
// freed memory to the system: what live objects hold, not garbage.
func settledRSS() (float64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	return procStatus("VmRSS")
}
