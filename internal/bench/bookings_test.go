package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"sportello/internal/bookingtest"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/workflows"
)

// screen is what a scripted person looks at: every interval, while someone
// waits for an item on it, it is read once for all of them, and those whose
// item it shows go on. The saga's cooperative and its baseline look at
// theirs with the same interval, so the benchmark's own polling costs both
// the same delay.
type screen struct {
	interval time.Duration
	read     func(context.Context) (map[string]bool, error)
	mu       sync.Mutex
	waiting  map[string]chan error
	reads    atomic.Int64
}

func newScreen(ctx context.Context, b testing.TB, interval time.Duration, read func(context.Context) (map[string]bool, error)) *screen {
	s := &screen{interval: interval, read: read, waiting: map[string]chan error{}}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	b.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			s.mu.Lock()
			n := len(s.waiting)
			s.mu.Unlock()
			if n == 0 {
				continue
			}
			shown, err := s.read(ctx)
			s.reads.Add(1)
			s.mu.Lock()
			for id, ch := range s.waiting {
				if err != nil || shown[id] {
					ch <- err
					delete(s.waiting, id)
				}
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// wait returns once the screen shows id.
func (s *screen) wait(ctx context.Context, id string) error {
	ch := make(chan error, 1)
	s.mu.Lock()
	s.waiting[id] = ch
	s.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-time.After(time.Minute):
	case <-ctx.Done():
	}
	s.mu.Lock()
	delete(s.waiting, id)
	s.mu.Unlock()
	return fmt.Errorf("%s never showed on the screen", id)
}

// stepTimes collects how long each step of a journey or a saga took.
type stepTimes struct {
	mu    sync.Mutex
	names []string
	d     map[string][]time.Duration
}

// lap records the time since *t0 as step name and restarts *t0 (a nil
// stepTimes records nothing).
func (st *stepTimes) lap(name string, t0 *time.Time) {
	now := time.Now()
	if st == nil {
		*t0 = now
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.d == nil {
		st.d = map[string][]time.Duration{}
	}
	if _, ok := st.d[name]; !ok {
		st.names = append(st.names, name)
	}
	st.d[name] = append(st.d[name], now.Sub(*t0))
	*t0 = now
}

func (st *stepTimes) reset() {
	st.mu.Lock()
	st.names, st.d = nil, nil
	st.mu.Unlock()
}

// print writes p50, p90 and the mean of every step, in the order first seen.
func (st *stepTimes) print(title string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	fmt.Printf("  %s (p50 / p90 / mean, ms):\n", title)
	var total time.Duration
	for _, name := range st.names {
		d := append([]time.Duration(nil), st.d[name]...)
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		mean := sum / time.Duration(len(d))
		total += mean
		fmt.Printf("    %-34s %7.1f %7.1f %7.1f\n", name, ms(percentile(d, 0.5)), ms(percentile(d, 0.9)), ms(mean))
	}
	fmt.Printf("    %-34s %23.1f\n", "whole (sum of means)", ms(total))
}

// addCPU adds to sum the CPU seconds of each process kind between c0 and c1
// (processCPU; nothing where it reads nothing).
func addCPU(sum, c0, c1 map[string]float64) {
	for k, v := range c1 {
		sum[k] += v - c0[k]
	}
}

// ms is d in milliseconds, as the benchmarks print it.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// bookingBench books, through the store's cart and checkout, one unit of
// Baobab's service paid by service voucher, starts the Booking workflow and
// takes it to its end as the users would: the cooperative accepts once the
// request is in its inbox (the inbox page's read, on its screen), records
// the delivery, the citizen confirms it.
type bookingBench struct {
	st        *store.Store
	tc        client.Client
	queue     string
	serviceID int64
	coopUser  int64
	inbox     *screen
	steps     *stepTimes
	citizens  []store.UserView
	vouchers  []string
}

func (bb *bookingBench) book(ctx context.Context, i int) (string, error) {
	c := bb.citizens[i]
	t0 := time.Now()
	scope := store.Scope{Kind: "citizen", District: c.District, Municipality: c.Municipality, UserID: c.ID}
	if _, err := bb.st.API().AddToCart(ctx, scope, bb.serviceID, 1); err != nil {
		return "", fmt.Errorf("cart: %w", err)
	}
	res, err := bb.st.API().Checkout(ctx, scope, store.CheckoutInput{BookingID: uuid.NewString(), ServiceID: bb.serviceID,
		Mode: store.PayVoucher, VoucherID: bb.vouchers[i], WorkflowID: workflows.BookingWorkflowID})
	if err != nil {
		return "", fmt.Errorf("checkout: %w", err)
	}
	bb.steps.lap("cart and checkout", &t0)
	id := res.Booking.ID
	wid := workflows.BookingWorkflowID(id)
	run, err := bb.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wid, TaskQueue: bb.queue}, workflows.Booking,
		workflows.BookingInput{BookingID: id, DistrictID: c.District, CitizenID: c.ID})
	if err != nil {
		return "", err
	}
	bb.steps.lap("start the workflow", &t0)
	if err := bb.inbox.wait(ctx, id); err != nil {
		return "", fmt.Errorf("booking %s never reached the cooperative's inbox: %w", id, err)
	}
	bb.steps.lap("until in the inbox", &t0)
	coop := workflows.Actor{UserID: bb.coopUser, Username: "coop.baobab", Role: "cooperative"}
	now := time.Now()
	for _, u := range []struct {
		name string
		arg  any
	}{
		{workflows.UpdateBookingRespond, workflows.BookingRespondInput{Actor: coop, CooperativeID: "baobab", Accept: true,
			Sessions: []time.Time{now.Add(time.Hour)}}},
		{workflows.UpdateBookingRecordDelivery, workflows.BookingDeliveryInput{Actor: coop, CooperativeID: "baobab", Seq: 1, DeliveredAt: now}},
		{workflows.UpdateBookingConfirmDelivery, workflows.BookingConfirmInput{Actor: workflows.Actor{UserID: c.ID, Role: "citizen"}, Seqs: []int{1}}},
	} {
		h, err := bb.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: wid, UpdateName: u.name, Args: []any{u.arg},
			WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", u.name, err)
		}
		bb.steps.lap("update "+u.name, &t0)
	}
	var out workflows.BookingResult
	if err := run.Get(ctx, &out); err != nil {
		return "", err
	}
	bb.steps.lap("until the workflow ends", &t0)
	if out.Status != workflows.BookingCompleted {
		return "", fmt.Errorf("booking %s ended %s", id, out.Status)
	}
	return wid, nil
}

// inboxInterval is how often the scripted cooperative (and its baseline)
// looks at its inbox while it waits for a request.
const inboxInterval = 10 * time.Millisecond

// BenchmarkBookings prints bookings per second through the whole saga
// (checkout, offer, acceptance, delivery, confirmation with its ledger
// posting) against a bare workflow of the same shape (the same number of
// activities, local activities and updates, measured from a real booking's
// history) on the same Temporal server, and their ratio, with the time each
// step took on both sides and what a history of each shows. The sides
// alternate in BENCH_BOOKINGS_ROUNDS rounds (default 5) of BENCH_BOOKINGS
// workflows each (default 48, three times the concurrency); each side's
// rate in a round is by Little's law (steady), and the ratio is the median
// of the rounds'.
func BenchmarkBookings(b *testing.B) {
	ctx := context.Background()
	n := testenv.EnvInt("BENCH_BOOKINGS", 48)
	rounds := testenv.EnvInt("BENCH_BOOKINGS_ROUNDS", 5)
	concurrency := testenv.EnvInt("BENCH_CONCURRENCY", 16)
	warm := testenv.EnvInt("BENCH_BOOKINGS_WARMUP", concurrency)
	bs := newBenchStack(b, "-bare-booking", []any{BareShape})
	st, tc, queue, bareQueue := bs.st, bs.tc, bs.queue, bs.bareQueue

	coop := bookingtest.User(b, st, "coop.baobab")
	bb := &bookingBench{st: st, tc: tc, queue: queue, serviceID: bookingtest.ServiceID(b, st, bookingtest.Service), coopUser: coop.ID}
	// The benchmark books far more than the service's weekly capacity (40
	// sessions): lift it, the capacity check itself stays in the measure.
	if _, err := st.Pool.Exec(ctx, `UPDATE services SET capacity = 100000 WHERE id = $1`, bb.serviceID); err != nil {
		b.Fatal(err)
	}
	// The cooperative's inbox as its page reads it (row-level security, the
	// cooperative's scope), once per look for every request waiting.
	bb.inbox = newScreen(ctx, b, inboxInterval, func(ctx context.Context) (map[string]bool, error) {
		items, err := st.API().CoopBookings(ctx, coop.Scope(), store.CoopRequests)
		shown := map[string]bool{}
		for _, it := range items {
			shown[it.ID] = true
		}
		return shown, err
	})
	bareScreen := newScreen(ctx, b, inboxInterval, func(context.Context) (map[string]bool, error) {
		shown := map[string]bool{}
		bareInbox.Range(func(k, _ any) bool {
			shown[k.(string)] = true
			return true
		})
		return shown, nil
	})
	var category string
	if err := st.Pool.QueryRow(ctx, `SELECT category FROM services WHERE id = $1`, bb.serviceID).Scan(&category); err != nil {
		b.Fatal(err)
	}
	total := rounds*n*b.N + 1 + warm
	for i := range total {
		tcode := taxCode(b, i)
		if _, err := st.Pool.Exec(ctx, `INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id, tax_code)
			VALUES ($1, 'x', 'citizen', 'Bench', 'tradate', 'tradate', $2)`, "bench."+tcode, tcode); err != nil {
			b.Fatal(err)
		}
		bb.citizens = append(bb.citizens, bookingtest.User(b, st, "bench."+tcode))
		bb.vouchers = append(bb.vouchers, bookingtest.ServiceVoucher(b, st, bookingtest.VoucherSpec{Username: "bench." + tcode,
			Categories: []string{category}, Cents: 1_000_000}))
	}
	// One booking to learn the saga's shape (and warm up).
	bb.steps = &stepTimes{}
	wid, err := bb.book(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	shape, sagaHistory, err := historyShape(ctx, tc, wid)
	if err != nil {
		b.Fatal(err)
	}
	if len(shape) != 4 || shape[0].Activities == 0 {
		b.Fatalf("a booking's history has %d segments (%v), want 4: start (with at least the offer) and three updates", len(shape), shape)
	}
	acts, locals := 0, 0
	for _, s := range shape {
		acts, locals = acts+s.Activities, locals+s.Local
	}
	// Warm-up, unmeasured, on both sides alike: as many of each at the
	// benchmark's concurrency, so that every connection of the pool has
	// prepared the saga's statements and PostgreSQL has settled their plans
	// (it plans a prepared statement afresh for its first five executions on
	// a connection) and the workers have their caches, as in a server that
	// has been up for a while.
	if _, err := run(warm, concurrency, func(i int) error {
		return runBareShape(ctx, tc, bareQueue, fmt.Sprintf("bare-booking-%s-warm-%d", queue, i), shape, bareScreen, &stepTimes{})
	}); err != nil {
		b.Fatal(err)
	}
	bb.steps = &stepTimes{}
	if _, err := run(warm, concurrency, func(i int) error {
		_, err := bb.book(ctx, 1+i)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	// The two sides alternate in rounds (bare then saga, then saga then
	// bare, ...), n workflows of each per round, and each round's pair
	// gives a ratio: a drift of the machine between two long phases (the
	// work Temporal and PostgreSQL do after a side's workflows have ended,
	// a checkpoint, another process) falls on both sides alike. The ratio
	// is the median of the rounds'.
	nextBare, nextBooking := 0, 1+warm // bare workflows' numbers, bookings' citizens
	for it := 0; it < b.N; it++ {
		bareSteps := &stepTimes{}
		bb.steps = &stepTimes{}
		var (
			ratios, bares, fulls   []float64
			bareClocks, sagaClocks []float64 // the rounds' rates by the clock
			cpuBare, cpuSaga       = map[string]float64{}, map[string]float64{}
			inboxReads             int64
			bareFirst, measured    string // a measured bare workflow and booking, for their histories
		)
		sagaAcquired, sagaWaited, sagaWait := int64(0), int64(0), time.Duration(0)
		bareRound := func() (float64, error) {
			base := nextBare
			nextBare += n
			c0 := processCPU()
			rate, clock, err := steady(n, concurrency, func(i int) error {
				return runBareShape(ctx, tc, bareQueue, fmt.Sprintf("bare-booking-%s-%d", queue, base+i), shape, bareScreen, bareSteps)
			})
			addCPU(cpuBare, c0, processCPU())
			bareClocks = append(bareClocks, clock)
			if bareFirst == "" {
				bareFirst = fmt.Sprintf("bare-booking-%s-%d", queue, base)
			}
			return rate, err
		}
		sagaRound := func() (float64, error) {
			base := nextBooking
			nextBooking += n
			reads, p0 := bb.inbox.reads.Load(), st.Pool.Stat()
			c0 := processCPU()
			rate, clock, err := steady(n, concurrency, func(i int) error {
				wid, err := bb.book(ctx, base+i)
				if i == 0 && measured == "" {
					measured = wid
				}
				return err
			})
			addCPU(cpuSaga, c0, processCPU())
			sagaClocks = append(sagaClocks, clock)
			p1 := st.Pool.Stat()
			inboxReads += bb.inbox.reads.Load() - reads
			sagaAcquired += p1.AcquireCount() - p0.AcquireCount()
			sagaWaited += p1.EmptyAcquireCount() - p0.EmptyAcquireCount()
			sagaWait += p1.AcquireDuration() - p0.AcquireDuration()
			return rate, err
		}
		for r := range rounds {
			first, second := bareRound, sagaRound
			if r%2 == 1 {
				first, second = sagaRound, bareRound
			}
			a, err := first()
			if err != nil {
				b.Fatal(err)
			}
			c, err := second()
			if err != nil {
				b.Fatal(err)
			}
			bare, full := a, c
			if r%2 == 1 {
				bare, full = c, a
			}
			bares, fulls, ratios = append(bares, bare), append(fulls, full), append(ratios, full/bare)
		}
		_, bareHistory, err := historyShape(ctx, tc, bareFirst)
		if err != nil {
			b.Fatal(err)
		}
		// Every booking posted its voucher part to the cooperative once.
		var posted, bookings int64
		if err := st.Pool.QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM bookings WHERE status = 'completed')
			FROM transfers WHERE kind = 'post'`).Scan(&posted, &bookings); err != nil {
			b.Fatal(err)
		}
		if want := int64(1 + warm + (it+1)*rounds*n); posted != bookings || bookings != want {
			b.Fatalf("%d completed bookings, %d postings; want %d of each", bookings, posted, want)
		}
		// The history of a measured booking, as the bare side's is of a
		// measured bare workflow (the first, cold booking's, whose shape
		// the baseline copies, may have one workflow task more).
		if _, sagaHistory, err = historyShape(ctx, tc, measured); err != nil {
			b.Fatal(err)
		}
		ratio, bare, full := median(ratios), median(bares), median(fulls)
		pool1 := st.Pool.Stat()
		booked := float64(rounds * n)
		fmt.Printf("\nSportello booking saga benchmark (%d rounds of %d bookings and %d bare workflows, alternated; concurrency %d; same Temporal server and PostgreSQL)\n",
			rounds, n, n, concurrency)
		fmt.Printf("  bare workflow of the same shape (%d activities, %d local, 3 updates): %7.1f per second (baseline; median of the rounds, Little's law)\n", acts, locals, bare)
		fmt.Printf("  bookings through the saga (checkout to confirmed delivery):           %7.1f per second (median of the rounds)\n", full)
		fmt.Printf("  ratio saga / baseline, median of the rounds':                         %7.2f (target >= 0.85)\n", ratio)
		fmt.Printf("  each round, bare / saga per second (ratio):")
		for r := range rounds {
			fmt.Printf(" %.1f / %.1f (%.2f);", bares[r], fulls[r], fulls[r]/bares[r])
		}
		fmt.Printf("\n  the same by the clock (n over the round's time, a held-up booking included):")
		for r := range rounds {
			fmt.Printf(" %.1f / %.1f;", bareClocks[r], sagaClocks[r])
		}
		fmt.Println()
		fmt.Printf("  a booking's history: %v\n", sagaHistory)
		fmt.Printf("  a bare one's history: %v\n", bareHistory)
		fmt.Printf("  inbox reads during the saga: %d (every %v while a request is awaited)\n", inboxReads, inboxInterval)
		fmt.Printf("  pool during the saga: %d connections at most, %d acquired, %d of them waited, %.1f ms waited per booking\n",
			pool1.MaxConns(), sagaAcquired, sagaWaited, ms(sagaWait)/booked)
		if len(cpuSaga) > 0 {
			fmt.Printf("  CPU per booking, ms (bare / saga):")
			for _, p := range []string{"bench", "temporal", "postgres"} {
				fmt.Printf(" %s %.1f / %.1f;", p, 1000*cpuBare[p]/booked, 1000*cpuSaga[p]/booked)
			}
			fmt.Println()
		}
		bareSteps.print("bare workflow, each step")
		bb.steps.print("saga, each step")
		fmt.Println()
		fmt.Println(verdict("bookings_ratio", ratio, "ratio", ">=0.85", ratio >= 0.85))
		fmt.Println(verdict("bookings_per_second", full, "bookings/s", "report", true))
		fmt.Println(verdict("bookings_bare_per_second", bare, "workflows/s", "report", true))
		b.ReportMetric(bare, "bare/s")
		b.ReportMetric(full, "bookings/s")
		b.ReportMetric(ratio, "ratio")
	}
}
