// Package bench measures the platform on one machine, against a baseline
// measured in the same run on the same Temporal server (make bench).
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"sportello/api"
	"sportello/forms"
	"sportello/internal/auth"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// journeyActivities is how many activities a food-voucher journey runs from
// submission to the first released tranche: LoadCase, Precheck, OpenTask,
// ClaimTask, ApplyDecision, ReleaseTranche.
const journeyActivities = 6

// pollInterval is how often the scripted people look at their screens.
const pollInterval = 50 * time.Millisecond

// BareWorkflow runs n no-op activities in sequence: the ceiling of the server.
func BareWorkflow(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for i := 0; i < n; i++ {
		if err := workflow.ExecuteActivity(ctx, Noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// Noop does nothing.
func Noop(context.Context) error { return nil }

type harness struct {
	b        *testing.B
	st       *store.Store
	tc       client.Client
	srv      *httptest.Server
	operator string // bearer tokens
	merchant string
	citizens []citizen
	next     atomic.Int64
	steps    stepTimes
}

type citizen struct {
	token, taxCode string
}

// taxCode builds a valid codice fiscale for a synthetic citizen number i.
func taxCode(b *testing.B, i int) string {
	const letters = "BCDFGHJKLMNPQRSTVWXZ"
	s := fmt.Sprintf("%c%c%cBNC80A01L319", letters[i%20], letters[(i/20)%20], letters[(i/400)%20])
	c, err := forms.TaxCodeCheckChar(s)
	if err != nil {
		b.Fatal(err)
	}
	return s + string(c)
}

func (h *harness) session(ctx context.Context, userID int64) string {
	tok, hash, err := auth.NewToken()
	if err != nil {
		h.b.Fatal(err)
	}
	if _, err := h.st.Pool.Exec(ctx, `INSERT INTO auth_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`,
		hash, userID); err != nil {
		h.b.Fatal(err)
	}
	return tok
}

func (h *harness) userID(ctx context.Context, username string) int64 {
	var id int64
	if err := h.st.Pool.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, username).Scan(&id); err != nil {
		h.b.Fatal(err)
	}
	return id
}

// makeCitizens registers n synthetic citizens of Tradate with sessions.
func (h *harness) makeCitizens(ctx context.Context, n int) {
	for i := 0; i < n; i++ {
		tc := taxCode(h.b, i)
		var id int64
		err := h.st.Pool.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id, tax_code)
			VALUES ($1, 'x', 'citizen', 'Bench', 'tradate', 'tradate', $2) RETURNING id`, "bench."+tc, tc).Scan(&id)
		if err != nil {
			h.b.Fatal(err)
		}
		h.citizens = append(h.citizens, citizen{token: h.session(ctx, id), taxCode: tc})
	}
}

func (h *harness) do(method, path, token string, body any, headers map[string]string, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		_ = json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

type caseView struct {
	Status string `json:"status"`
	Task   *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"task"`
	Voucher *struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	} `json:"voucher"`
}

// journey runs one whole citizen journey over HTTP: apply, pre-check, a
// scripted social worker claims and approves, the award's first tranche is
// released, a merchant redeems. It returns the case's id.
func (h *harness) journey(c citizen) (string, error) {
	var created struct {
		ID string `json:"id"`
	}
	t := time.Now()
	if code, err := h.do("POST", "/api/v1/applications", c.token, testenv.LoadApplication(c.taxCode), nil, &created); err != nil || code != 201 {
		return "", fmt.Errorf("apply: %d %v", code, err)
	}
	h.steps.lap("apply", &t)
	var cv caseView
	poll := func(ok func() bool) error {
		for i := 0; i < 1200; i++ {
			cv = caseView{}
			// The citizen watches the case (the worker's reads are audited, and a
			// person does not re-read a case twenty times a second).
			if code, err := h.do("GET", "/api/v1/applications/"+created.ID, c.token, nil, nil, &cv); err != nil || code != 200 {
				return fmt.Errorf("read case: %d %v", code, err)
			}
			if ok() {
				return nil
			}
			time.Sleep(pollInterval)
		}
		var tl json.RawMessage
		_, _ = h.do("GET", "/api/v1/applications/"+created.ID+"/timeline", c.token, nil, nil, &tl)
		return fmt.Errorf("case %s stuck in %s: %+v %s", created.ID, cv.Status, cv, tl)
	}
	if err := poll(func() bool { return cv.Status == "in_review" }); err != nil {
		return "", err
	}
	h.steps.lap("in-queue", &t)
	// The social worker opens the case once (an audited read) and takes the task.
	var staffView caseView
	if code, err := h.do("GET", "/api/v1/applications/"+created.ID, h.operator, nil, nil, &staffView); err != nil || code != 200 || staffView.Task == nil {
		return "", fmt.Errorf("worker reads case %s: %d %v", created.ID, code, err)
	}
	taskID := staffView.Task.ID
	h.steps.lap("staff-read", &t)
	if code, err := h.do("POST", "/api/v1/tasks/"+taskID+"/claim", h.operator, nil, nil, nil); err != nil || code != 200 {
		return "", fmt.Errorf("claim: %d %v", code, err)
	}
	h.steps.lap("claim", &t)
	if code, err := h.do("POST", "/api/v1/tasks/"+taskID+"/decision", h.operator, map[string]any{"outcome": "approve"}, nil, nil); err != nil || code != 200 {
		return "", fmt.Errorf("decide: %d %v", code, err)
	}
	h.steps.lap("decide", &t)
	if err := poll(func() bool { return cv.Voucher != nil }); err != nil {
		return "", err
	}
	h.steps.lap("voucher", &t)
	// The citizen waits for the first tranche on the voucher page, then the
	// merchant redeems once.
	released := false
	for i := 0; i < 1200 && !released; i++ {
		var v struct {
			AvailableCents int64 `json:"available_cents"`
		}
		if code, err := h.do("GET", "/api/v1/vouchers/"+cv.Voucher.ID, c.token, nil, nil, &v); err != nil || code != 200 {
			return "", fmt.Errorf("read voucher: %d %v", code, err)
		}
		if released = v.AvailableCents > 0; !released {
			time.Sleep(pollInterval)
		}
	}
	h.steps.lap("released", &t)
	if released {
		code, err := h.do("POST", "/api/v1/redemptions", h.merchant, map[string]any{"code": cv.Voucher.Code, "amount_cents": 1000},
			map[string]string{"Idempotency-Key": created.ID}, nil)
		if err != nil || code != 201 {
			return "", fmt.Errorf("redeem: %d %v", code, err)
		}
		h.steps.lap("redeem", &t)
		return created.ID, nil
	}
	return "", fmt.Errorf("voucher of %s never released", created.ID)
}

// steady runs n jobs as run does and returns their rate by Little's law:
// concurrency divided by the mean time a job took (jobs per second while
// concurrency of them are in flight), and the rate by the clock (n over
// the time until the last ended). In a round of a few seconds one job held
// up for two (a workflow task that waits that long for its worker, as
// Temporal's dev server sometimes makes one) doubles or triples the
// round's time, whatever the others did; it adds its two seconds once to
// the mean.
func steady(n, concurrency int, job func(i int) error) (little, clock float64, err error) {
	var sum atomic.Int64
	clock, err = run(n, concurrency, func(i int) error {
		t0 := time.Now()
		err := job(i)
		sum.Add(int64(time.Since(t0)))
		return err
	})
	if err != nil || n == 0 {
		return 0, clock, err
	}
	mean := time.Duration(sum.Load() / int64(n))
	return float64(min(concurrency, n)) / mean.Seconds(), clock, nil
}

// run executes n jobs with the given concurrency and returns jobs per second.
func run(n, concurrency int, job func(i int) error) (float64, error) {
	var wg sync.WaitGroup
	var firstErr atomic.Value
	var next atomic.Int64
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := job(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)-1) + 0.5)
	return sorted[i]
}

// benchStack is what every benchmark stands on: a seeded database, the
// production worker on its own task queue and, on another, a worker of the
// bare workflows of no-op activities (the baselines; their activities:
// Noop, BareOffer and bareActivities), on the shared Temporal server,
// through a client whose SDK metrics the meter keeps. Everything stops when
// the benchmark ends.
type benchStack struct {
	st               *store.Store
	tc               client.Client
	meter            *meter
	queue, bareQueue string
}

func newBenchStack(b *testing.B, bareSuffix string, bare []any, bareActivities ...any) *benchStack {
	_, st := testenv.Postgres(b)
	if err := seed.Run(context.Background(), st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		b.Fatal(err)
	}
	m := newMeter()
	tc, err := client.NewClientFromExisting(testenv.Temporal(b), client.Options{Namespace: testenv.Namespace, MetricsHandler: m,
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tc.Close)
	bs := &benchStack{st: st, tc: tc, meter: m, queue: testenv.TaskQueue(b)}
	bs.bareQueue = bs.queue + bareSuffix
	w := worker.New(bs.tc, st, bs.queue)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	// The worker's case starter, as `sportello worker` runs it.
	starterCtx, stopStarter := context.WithCancel(context.Background())
	starterDone := make(chan struct{})
	go func() {
		defer close(starterDone)
		worker.RunCaseStarter(starterCtx, bs.tc, st, bs.queue, slog.Default())
	}()
	b.Cleanup(func() { stopStarter(); <-starterDone })
	bw := sdkworker.New(bs.tc, bs.bareQueue, worker.Options())
	for _, wf := range bare {
		bw.RegisterWorkflow(wf)
	}
	bw.RegisterActivity(Noop)
	bw.RegisterActivity(BareOffer)
	for _, a := range bareActivities {
		bw.RegisterActivity(a)
	}
	if err := bw.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bw.Stop)
	return bs
}

// apiServer serves the production API over loopback until the benchmark ends.
func (bs *benchStack) apiServer(b *testing.B) *httptest.Server {
	reg, err := forms.NewRegistry()
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Deps{Store: bs.st, Temporal: bs.tc, Forms: reg, TaskQueue: bs.queue, Namespace: "default",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkPlatform prints journeys per second against two baselines on
// the same server (a bare workflow of 6 no-op activities, the issue's
// first yardstick, and a bare workflow of the journey's own shape, read
// from a real journey's history), the p50/p99 latency of POST
// /api/v1/applications under a steady open-loop load, and the peak
// resident set of the process while the journeys run. After a warm-up of
// BENCH_JOURNEYS_WARMUP (default the concurrency) of each, the three sides
// alternate in BENCH_JOURNEY_ROUNDS rounds (default 5) of BENCH_JOURNEYS
// each (default 64, twice the concurrency); each side's rate in a round is
// by Little's law (steady), and the ratios are the medians of the rounds'.
func BenchmarkPlatform(b *testing.B) {
	ctx := context.Background()
	journeys := testenv.EnvInt("BENCH_JOURNEYS", 64)
	rounds := testenv.EnvInt("BENCH_JOURNEY_ROUNDS", 5)
	concurrency := testenv.EnvInt("BENCH_CONCURRENCY", 32)
	warm := testenv.EnvInt("BENCH_JOURNEYS_WARMUP", concurrency)
	rate := testenv.EnvInt("BENCH_RATE", 50)
	seconds := testenv.EnvInt("BENCH_SECONDS", 10)

	bs := newBenchStack(b, "-bare", []any{BareWorkflow, BareShape})
	st, queue, bareQueue := bs.st, bs.queue, bs.bareQueue
	h := &harness{b: b, st: st, tc: bs.tc, srv: bs.apiServer(b)}
	h.operator = h.session(ctx, h.userID(ctx, "operatore.tradate"))
	h.merchant = h.session(ctx, h.userID(ctx, "esercente.tradate"))
	latencyRequests := rate * seconds
	h.makeCitizens(ctx, 1+warm+(rounds*journeys+latencyRequests)*b.N)
	citizens := h.citizens[1:]

	// One journey to learn its shape (and warm up): its history once the
	// journey waits on its next timer.
	caseID, err := h.journey(h.citizens[0])
	if err != nil {
		b.Fatal(err)
	}
	wid := workflows.CaseWorkflowID(caseID)
	if err := waitIdle(ctx, bs.tc, wid); err != nil {
		b.Fatal(err)
	}
	shape, counts, err := historyShape(ctx, bs.tc, wid)
	if err != nil {
		b.Fatal(err)
	}
	if len(shape) != 3 {
		b.Fatalf("a journey's history has %d segments (%v), want 3: start, claim, decision", len(shape), shape)
	}
	work := shapeTotals(shape)

	// The three sides, each numbering its own workflows (and the journeys
	// their citizens) from where it stopped.
	var nextBare, nextShape, nextJourney int
	bareSide := func(n int) (float64, float64, error) {
		base := nextBare
		nextBare += n
		return steady(n, concurrency, func(i int) error {
			run, err := h.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bare-%s-%d", queue, base+i), TaskQueue: bareQueue},
				BareWorkflow, journeyActivities)
			if err != nil {
				return err
			}
			return run.Get(ctx, nil)
		})
	}
	shapeSide := func(n int) (float64, float64, error) {
		base := nextShape
		nextShape += n
		return steady(n, concurrency, func(i int) error {
			return runBareShape(ctx, h.tc, bareQueue, fmt.Sprintf("bare-shape-%s-%d", queue, base+i), shape, nil, nil)
		})
	}
	journeySide := func(n int) (float64, float64, error) {
		base := nextJourney
		nextJourney += n
		return steady(n, concurrency, func(i int) error {
			_, err := h.journey(citizens[base+i])
			return err
		})
	}
	// Warm-up, unmeasured, on every side alike (as the booking benchmark
	// does): each pool connection has prepared the journey's statements
	// and PostgreSQL has settled their plans, the workers have their caches.
	for _, side := range []func(int) (float64, float64, error){bareSide, shapeSide, journeySide} {
		if _, _, err := side(warm); err != nil {
			b.Fatal(err)
		}
	}

	for i := 0; i < b.N; i++ {
		// The sides alternate in rounds, each round in another order, so
		// that a drift of the machine between phases falls on all of them;
		// the ratios are the medians of the rounds', each side's rate by
		// Little's law (steady). The CPU per workflow and the peak resident
		// set cover every round.
		var bares, shapes, fulls, ratios, shapeRatios, clocks []float64
		cpuShape, cpuFull := map[string]float64{}, map[string]float64{}
		bs.meter.reset()
		h.steps.reset()
		if err := resetPeakRSS(); err != nil {
			b.Fatal(err)
		}
		for r := range rounds {
			var bare, bareShape, full, bareClock, shapeClock, fullClock float64
			order := []func() error{
				func() (err error) { bare, bareClock, err = bareSide(journeys); return err },
				func() (err error) {
					c0 := processCPU()
					bareShape, shapeClock, err = shapeSide(journeys)
					addCPU(cpuShape, c0, processCPU())
					return err
				},
				func() (err error) {
					c0 := processCPU()
					full, fullClock, err = journeySide(journeys)
					addCPU(cpuFull, c0, processCPU())
					return err
				},
			}
			for k := range order {
				if err := order[(k+r)%len(order)](); err != nil {
					b.Fatal(err)
				}
			}
			bares, shapes, fulls = append(bares, bare), append(shapes, bareShape), append(fulls, full)
			clocks = append(clocks, bareClock, shapeClock, fullClock)
			ratios, shapeRatios = append(ratios, full/bare), append(shapeRatios, full/bareShape)
		}
		bare, bareShape, full := median(bares), median(shapes), median(fulls)
		peak, err := procStatus("VmHWM")
		if err != nil {
			b.Fatal(err)
		}
		bs.meter.report(queue, "journeys")
		h.steps.print("where a journey's time goes")

		// Steady open-loop load on POST /api/v1/applications, by citizens
		// who have not applied yet.
		post := nextJourney
		nextJourney += latencyRequests
		pool0 := st.Pool.Stat()
		bs.meter.reset()
		lat := make([]time.Duration, latencyRequests)
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / time.Duration(rate))
		var failures atomic.Int64
		for j := 0; j < latencyRequests; j++ {
			<-tick.C
			wg.Add(1)
			go func(j int) {
				defer wg.Done()
				c := citizens[post+j]
				t0 := time.Now()
				code, err := h.do("POST", "/api/v1/applications", c.token, testenv.LoadApplication(c.taxCode), nil, nil)
				lat[j] = time.Since(t0)
				if err != nil || code != 201 {
					failures.Add(1)
				}
			}(j)
		}
		wg.Wait()
		tick.Stop()
		if f := failures.Load(); f > 0 {
			b.Fatalf("%d of %d applications failed under load", f, latencyRequests)
		}
		sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
		p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
		// Where a POST's time goes under this load: waiting for a database
		// connection, and starting the case's workflow on Temporal.
		pool1 := st.Pool.Stat()
		starts := bs.meter.stats(startRPC, "request")
		fmt.Printf("  POST phase: pool %d acquired, %d waited, %v waiting in all; Temporal starts %d, p50 %v, p99 %v, max %v\n",
			pool1.AcquireCount()-pool0.AcquireCount(), pool1.EmptyAcquireCount()-pool0.EmptyAcquireCount(),
			(pool1.AcquireDuration() - pool0.AcquireDuration()).Round(time.Millisecond), starts.n,
			starts.p50.Round(100*time.Microsecond), starts.p99.Round(100*time.Microsecond), starts.max.Round(time.Millisecond))

		ratio, shapeRatio := median(ratios), median(shapeRatios)
		fmt.Printf("\nSportello benchmark (%d rounds of %d journeys and %d of each bare workflow, alternated; concurrency %d; same Temporal server and PostgreSQL)\n",
			rounds, journeys, journeys, concurrency)
		fmt.Printf("  one journey's history: %v\n", counts)
		fmt.Printf("  bare workflow, %d no-op activities:  %8.1f per second (baseline; median of the rounds, Little's law)\n", journeyActivities, bare)
		fmt.Printf("  bare workflow of the journey's shape (%d activities, %d local, %d timers, %d cancelled, 2 updates): %8.1f per second\n",
			work.Activities, work.Local, work.Timers, work.Cancelled, bareShape)
		fmt.Printf("  food-voucher journey over HTTP:        %8.1f per second\n", full)
		fmt.Printf("  each round, bare / shape / journeys per second (ratios):")
		for r := range rounds {
			fmt.Printf(" %.1f / %.1f / %.1f (%.2f, %.2f);", bares[r], shapes[r], fulls[r], ratios[r], shapeRatios[r])
		}
		fmt.Printf("\n  the same by the clock (n over the round's time, a held-up job included):")
		for r := range rounds {
			fmt.Printf(" %.1f / %.1f / %.1f;", clocks[3*r], clocks[3*r+1], clocks[3*r+2])
		}
		fmt.Println()
		// CPU per journey by process, what the machine's load changes least:
		// with both cores busy, the ratio follows it.
		done := float64(rounds * journeys)
		var shapeCPU, fullCPU float64
		for _, side := range []struct {
			name string
			cpu  map[string]float64
			sum  *float64
		}{{"bare workflow of the journey's shape", cpuShape, &shapeCPU}, {"journey over HTTP", cpuFull, &fullCPU}} {
			bench, temporal, pg := side.cpu["bench"]*1000/done, side.cpu["temporal"]*1000/done, side.cpu["postgres"]*1000/done
			*side.sum = bench + temporal + pg
			fmt.Printf("  CPU per journey, %s: %.1f ms (this process %.1f, Temporal %.1f, PostgreSQL %.1f)\n",
				side.name, *side.sum, bench, temporal, pg)
		}
		fmt.Println(verdict("journeys_cpu_ms", fullCPU, "ms", "report", true))
		fmt.Println(verdict("journeys_shape_cpu_ms", shapeCPU, "ms", "report", true))
		fmt.Printf("  POST /api/v1/applications at %d/s for %ds: p50 %v, p99 %v\n", rate, seconds,
			p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond))
		fmt.Println(verdict("journeys_ratio", ratio, "ratio", ">=0.70", ratio >= 0.70))
		fmt.Println(verdict("journeys_shape_ratio", shapeRatio, "ratio", ">=0.85", shapeRatio >= 0.85))
		fmt.Println(verdict(fmt.Sprintf("post_p99_at_%d", rate), float64(p99.Microseconds())/1000, "ms", "<=50", p99 <= 50*time.Millisecond))
		fmt.Println(verdict("journeys_peak_rss", peak, "MiB", "report", true))
		fmt.Println()
		b.ReportMetric(bare, "bare/s")
		b.ReportMetric(bareShape, "bare-shape/s")
		b.ReportMetric(full, "journeys/s")
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric(shapeRatio, "shape-ratio")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	}
	// Let the cases filed during the latency phase reach their review task
	// before the worker stops, so that no activity is cut off mid-flight.
	for i := 0; i < 600; i++ {
		var open int
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM tasks`).Scan(&open); err != nil {
			b.Fatal(err)
		}
		if open >= 1+journeys+latencyRequests {
			break
		}
		time.Sleep(pollInterval)
	}
	problem, err := store.LedgerCheck(ctx, st.Pool)
	if err != nil || problem != "" {
		b.Fatalf("ledger after the benchmark: %q %v", problem, err)
	}
}
