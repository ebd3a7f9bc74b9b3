package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"sportello/internal/bookingtest"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/workflows"
)

// bookingBench books, through the store's cart and checkout, one unit of
// Baobab's service paid by service voucher, starts the Booking workflow and
// takes it to its end as the users would: the cooperative accepts once the
// request is in its inbox (polled as the inbox page reads it), records the
// delivery, the citizen confirms it.
type bookingBench struct {
	st        *store.Store
	tc        client.Client
	queue     string
	serviceID int64
	coopUser  int64
	citizens  []store.UserView
	vouchers  []string
}

func (bb *bookingBench) book(ctx context.Context, i int) (string, error) {
	c := bb.citizens[i]
	scope := store.Scope{Kind: "citizen", District: c.District, Municipality: c.Municipality, UserID: c.ID}
	if _, err := bb.st.API().AddToCart(ctx, scope, bb.serviceID, 1); err != nil {
		return "", fmt.Errorf("cart: %w", err)
	}
	res, err := bb.st.API().Checkout(ctx, scope, store.CheckoutInput{BookingID: uuid.NewString(), ServiceID: bb.serviceID,
		Mode: store.PayVoucher, VoucherID: bb.vouchers[i], WorkflowID: workflows.BookingWorkflowID})
	if err != nil {
		return "", fmt.Errorf("checkout: %w", err)
	}
	id := res.Booking.ID
	wid := workflows.BookingWorkflowID(id)
	run, err := bb.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wid, TaskQueue: bb.queue}, workflows.Booking,
		workflows.BookingInput{BookingID: id, DistrictID: c.District, CitizenID: c.ID})
	if err != nil {
		return "", err
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := bb.st.Pool.QueryRow(ctx, `SELECT count(*) FROM booking_offers WHERE booking_id = $1 AND outcome = 'pending'`, id).Scan(&n); err != nil {
			return "", err
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("booking %s never reached the cooperative's inbox", id)
		}
	}
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
	}
	var out workflows.BookingResult
	if err := run.Get(ctx, &out); err != nil {
		return "", err
	}
	if out.Status != workflows.BookingCompleted {
		return "", fmt.Errorf("booking %s ended %s", id, out.Status)
	}
	return wid, nil
}

// BenchmarkBookings prints bookings per second through the whole saga
// (checkout, offer, acceptance, delivery, confirmation with its ledger
// posting) against a bare workflow of the same shape (the same number of
// activities, local activities and updates, measured from a real booking's
// history) on the same Temporal server, and their ratio.
func BenchmarkBookings(b *testing.B) {
	ctx := context.Background()
	n := testenv.EnvInt("BENCH_BOOKINGS", 60)
	concurrency := testenv.EnvInt("BENCH_CONCURRENCY", 16)
	bs := newBenchStack(b, "-bare-booking", BareShape)
	st, tc, queue, bareQueue := bs.st, bs.tc, bs.queue, bs.bareQueue

	bb := &bookingBench{st: st, tc: tc, queue: queue, serviceID: bookingtest.ServiceID(b, st, bookingtest.Service),
		coopUser: bookingtest.User(b, st, "coop.baobab").ID}
	var category string
	if err := st.Pool.QueryRow(ctx, `SELECT category FROM services WHERE id = $1`, bb.serviceID).Scan(&category); err != nil {
		b.Fatal(err)
	}
	total := n*b.N + 1
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
	wid, err := bb.book(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	shape, _, err := historyShape(ctx, tc, wid)
	if err != nil {
		b.Fatal(err)
	}
	if len(shape) != 4 {
		b.Fatalf("a booking's history has %d segments (%v), want 4: start and three updates", len(shape), shape)
	}
	work := shapeTotals(shape)
	for it := 0; it < b.N; it++ {
		base := 1 + it*n
		bare, err := run(n, concurrency, func(i int) error {
			return runBareShape(ctx, tc, bareQueue, fmt.Sprintf("bare-booking-%s-%d", queue, base+i), shape)
		})
		if err != nil {
			b.Fatal(err)
		}
		full, err := run(n, concurrency, func(i int) error {
			_, err := bb.book(ctx, base+i)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		// Every booking posted its voucher part to the cooperative once.
		var posted, bookings int64
		if err := st.Pool.QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM bookings WHERE status = 'completed')
			FROM transfers WHERE kind = 'post'`).Scan(&posted, &bookings); err != nil {
			b.Fatal(err)
		}
		if posted != bookings || bookings != int64(base+n) {
			b.Fatalf("%d completed bookings, %d postings; want %d of each", bookings, posted, base+n)
		}
		ratio := full / bare
		fmt.Printf("\nSportello booking saga benchmark (%d bookings, concurrency %d, same Temporal server and PostgreSQL)\n", n, concurrency)
		fmt.Printf("  bare workflow of the same shape (%d activities, %d local, %d timers, 3 updates): %7.1f per second (baseline)\n",
			work.Activities, work.Local, work.Timers, bare)
		fmt.Printf("  bookings through the saga (checkout to confirmed delivery):           %7.1f per second\n", full)
		fmt.Printf("  ratio saga / baseline:                                                %7.2f\n\n", ratio)
		b.ReportMetric(bare, "bare/s")
		b.ReportMetric(full, "bookings/s")
		b.ReportMetric(ratio, "ratio")
	}
}
