package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
)

// The supervisors' dashboard (issue 13): the figures of one period of a
// district, or of one of its municipalities, each one statement bounded by
// the period and served by the indexes of migration 019, all sent in one
// round trip (Pipeline) under the caller's scope, so row-level security
// applies to every one of them. Money is integer cents from the ledger.

// DashboardFilter is what the figures are about: the caller's district, a
// municipality of it ("" = all of them) and the period [From, To).
type DashboardFilter struct {
	District     string
	Municipality string
	From, To     time.Time
	Now          time.Time // overdue means due before Now
	Bucket       string    // "day" or "week": the applications' buckets
}

// DashboardApplications is the number of applications filed with one form
// in one day or week (its first day, Europe/Rome).
type DashboardApplications struct {
	Bucket string `json:"bucket"` // YYYY-MM-DD
	Form   string `json:"form"`
	Count  int64  `json:"count"`
}

// DashboardDecisions is what happened to the review tasks opened in the
// period: decided (on time: by their due date, the fund's review SLA, or
// late), still open (and among them overdue), and the median and 90th
// percentile of the time from opening to decision, in hours.
type DashboardDecisions struct {
	Opened      int64   `json:"opened"`
	Decided     int64   `json:"decided"`
	OnTime      int64   `json:"on_time"`
	Late        int64   `json:"late"`
	Pending     int64   `json:"pending"`
	Overdue     int64   `json:"overdue"`
	MedianHours float64 `json:"median_hours"`
	P90Hours    float64 `json:"p90_hours"`
}

// DashboardBacklog is a team's tasks still to do (whatever the period):
// open, claimed, and overdue among them. Team "" is the tasks of no team.
type DashboardBacklog struct {
	Team      string     `json:"team"`
	TeamName  string     `json:"team_name"`
	Open      int64      `json:"open"`
	Claimed   int64      `json:"claimed"`
	Overdue   int64      `json:"overdue"`
	OldestDue *time.Time `json:"oldest_due,omitempty"`
}

// DashboardFund is a fund's budget burn: its budget, what it has awarded
// and what the vouchers have spent (at merchants and, for service
// vouchers, on bookings: held at checkout less what cancellations gave
// back), what is left, and the same movements within the period.
type DashboardFund struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Kind               string `json:"kind"`
	Municipality       string `json:"municipality"`
	MunicipalityName   string `json:"municipality_name"`
	BudgetCents        int64  `json:"budget_cents"`
	AwardedCents       int64  `json:"awarded_cents"`
	RedeemedCents      int64  `json:"redeemed_cents"`
	BookedCents        int64  `json:"booked_cents"`
	AvailableCents     int64  `json:"available_cents"`
	PeriodAwardedCents int64  `json:"period_awarded_cents"`
	PeriodSpentCents   int64  `json:"period_spent_cents"`
}

// DashboardRedemptions is the redemptions at one kind of merchant.
type DashboardRedemptions struct {
	MerchantKind string `json:"merchant_kind"`
	Count        int64  `json:"count"`
	AmountCents  int64  `json:"amount_cents"`
}

// DashboardBookings is the bookings of one cooperative in one category
// made in the period, the cancelled ones among them, their sessions
// delivered so far, and their money.
type DashboardBookings struct {
	Cooperative       string `json:"cooperative"`
	CooperativeName   string `json:"cooperative_name"`
	Category          string `json:"category"`
	Bookings          int64  `json:"bookings"`
	Cancelled         int64  `json:"cancelled"`
	SessionsDelivered int64  `json:"sessions_delivered"`
	TotalCents        int64  `json:"total_cents"`
	VoucherCents      int64  `json:"voucher_cents"`
}

// DashboardFailures is the payment and refund failures of one kind in the
// period: payment_failed (bookings whose online payment failed),
// refund_failed and payment_mismatch (the incidents, which only
// supervisors read).
type DashboardFailures struct {
	Kind        string `json:"kind"`
	Count       int64  `json:"count"`
	AmountCents int64  `json:"amount_cents"`
}

// DashboardFigures is every figure of the dashboard.
type DashboardFigures struct {
	Applications []DashboardApplications `json:"applications"`
	Decisions    DashboardDecisions      `json:"decisions"`
	Backlog      []DashboardBacklog      `json:"backlog"`
	Funds        []DashboardFund         `json:"funds"`
	Redemptions  []DashboardRedemptions  `json:"redemptions"`
	Bookings     []DashboardBookings     `json:"bookings"`
	Failures     []DashboardFailures     `json:"failures"`
}

// The statements of the dashboard. Each names the district and the period
// first, as its index does; @mun = ” means every municipality.
const (
	// The buckets' bounds come from dashBuckets (days or weeks in Rome):
	// each bucket is a range scan of cases_dashboard, counted per form
	// with no date arithmetic per row.
	dashApplicationsSQL = `SELECT k.label, c.form_id, count(*)
		FROM unnest(@starts::timestamptz[], @ends::timestamptz[], @labels::text[]) AS k(s, e, label)
		JOIN cases c ON c.district_id = @district AND c.created_at >= k.s AND c.created_at < k.e
			AND (@mun = '' OR c.municipality_id = @mun)
		GROUP BY k.label, c.form_id ORDER BY 1, 2`

	dashDecisionsSQL = `SELECT count(*),
			count(*) FILTER (WHERE status = 'done'),
			count(*) FILTER (WHERE status = 'done' AND completed_at <= due_at),
			count(*) FILTER (WHERE status IN ('open', 'claimed')),
			count(*) FILTER (WHERE status IN ('open', 'claimed') AND due_at < @now),
			percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at) / 3600)
				FILTER (WHERE status = 'done')
		FROM tasks
		WHERE district_id = @district AND created_at >= @from AND created_at < @to
			AND (@mun = '' OR municipality_id = @mun) AND kind = 'review'`

	dashBacklogSQL = `SELECT coalesce(b.team_id, ''), coalesce(tm.name, ''), b.open, b.claimed, b.overdue, b.oldest
		FROM (SELECT team_id,
				count(*) FILTER (WHERE status = 'open') AS open,
				count(*) FILTER (WHERE status = 'claimed') AS claimed,
				count(*) FILTER (WHERE due_at < @now) AS overdue,
				min(due_at) AS oldest
			FROM tasks
			WHERE district_id = @district AND status IN ('open', 'claimed')
				AND (@mun = '' OR municipality_id = @mun)
			GROUP BY team_id) b
		LEFT JOIN teams tm ON tm.id = b.team_id
		ORDER BY tm.name NULLS LAST, b.team_id`

	// The fund's sums read transfers_fund_time (index-only); the service
	// vouchers' bookings are their holds less their voids.
	dashFundsSQL = `SELECT f.id, f.name, f.kind, f.municipality_id, mu.name,
			s.budget, s.awarded, s.redeemed, bk.total, coalesce(a.balance_cents, 0),
			s.p_awarded, s.p_redeemed + bk.period
		FROM funds f
		JOIN municipalities mu ON mu.id = f.municipality_id
		LEFT JOIN accounts a ON a.id = 'fund:' || f.id
		CROSS JOIN LATERAL (SELECT
				coalesce(sum(t.amount_cents) FILTER (WHERE t.kind = 'funding'), 0)::bigint AS budget,
				coalesce(sum(t.amount_cents) FILTER (WHERE t.kind = 'award'), 0)::bigint AS awarded,
				coalesce(sum(t.amount_cents) FILTER (WHERE t.kind = 'redemption'), 0)::bigint AS redeemed,
				coalesce(sum(t.amount_cents) FILTER (WHERE t.kind = 'award' AND t.created_at >= @from AND t.created_at < @to), 0)::bigint AS p_awarded,
				coalesce(sum(t.amount_cents) FILTER (WHERE t.kind = 'redemption' AND t.created_at >= @from AND t.created_at < @to), 0)::bigint AS p_redeemed
			FROM transfers t WHERE t.fund_id = f.id AND t.kind IN ('funding', 'award', 'redemption')) s
		CROSS JOIN LATERAL (SELECT
				coalesce(sum(CASE t.kind WHEN 'hold' THEN t.amount_cents ELSE -t.amount_cents END), 0)::bigint AS total,
				coalesce(sum(CASE t.kind WHEN 'hold' THEN t.amount_cents ELSE -t.amount_cents END)
					FILTER (WHERE t.created_at >= @from AND t.created_at < @to), 0)::bigint AS period
			FROM vouchers v JOIN transfers t ON t.voucher_id = v.id AND t.kind IN ('hold', 'void')
			WHERE f.kind = 'service' AND v.fund_id = f.id) bk
		WHERE f.district_id = @district AND (@mun = '' OR f.municipality_id = @mun)
			AND f.opens_at < @to AND f.expires_at >= @from
		ORDER BY mu.name, f.opens_at DESC, f.id`

	dashRedemptionsSQL = `SELECT m.kind, count(*), coalesce(sum(r.amount_cents), 0)::bigint
		FROM redemptions r
		JOIN vouchers v ON v.id = r.voucher_id
		JOIN merchants m ON m.id = r.merchant_id
		WHERE r.created_at >= @from AND r.created_at < @to
			AND v.district_id = @district AND (@mun = '' OR v.municipality_id = @mun)
		GROUP BY m.kind ORDER BY m.kind`

	dashBookingsSQL = `SELECT b.cooperative_id, coalesce(c.name, b.cooperative_id), b.category,
			count(*), count(*) FILTER (WHERE b.status = 'cancelled'),
			coalesce(sum(d.delivered), 0)::bigint,
			coalesce(sum(b.total_cents), 0)::bigint, coalesce(sum(b.voucher_cents), 0)::bigint
		FROM bookings b
		LEFT JOIN cooperatives c ON c.id = b.cooperative_id
		CROSS JOIN LATERAL (SELECT count(*) AS delivered FROM booking_sessions s
			WHERE s.booking_id = b.id AND s.status IN ('delivered', 'confirmed')) d
		WHERE b.district_id = @district AND b.created_at >= @from AND b.created_at < @to
			AND (@mun = '' OR b.municipality_id = @mun)
		GROUP BY 1, 2, 3 ORDER BY 2, 3`

	dashFailuresSQL = `SELECT 'payment_failed', count(*), coalesce(sum(online_cents), 0)::bigint
		FROM bookings
		WHERE district_id = @district AND created_at >= @from AND created_at < @to
			AND (@mun = '' OR municipality_id = @mun) AND payment_status = 'failed'
		UNION ALL
		SELECT k.kind, count(i.*), coalesce(sum(i.amount_cents), 0)::bigint
		FROM (VALUES ('refund_failed'), ('payment_mismatch')) k(kind)
		LEFT JOIN incidents i ON i.kind = k.kind AND i.district_id = @district
			AND i.created_at >= @from AND i.created_at < @to AND (@mun = '' OR i.municipality_id = @mun)
		GROUP BY k.kind`
)

// Dashboard computes every figure of f under scope, in one round trip.
func (a API) Dashboard(ctx context.Context, scope Scope, f DashboardFilter) (DashboardFigures, error) {
	out := DashboardFigures{Applications: []DashboardApplications{}, Backlog: []DashboardBacklog{},
		Funds: []DashboardFund{}, Redemptions: []DashboardRedemptions{}, Bookings: []DashboardBookings{},
		Failures: []DashboardFailures{}}
	args := dashArgs(f)
	b := &pgx.Batch{}
	b.Queue(dashApplicationsSQL, args).Query(func(rows pgx.Rows) error {
		var err error
		out.Applications, err = pgx.CollectRows(rows, pgx.RowToStructByPos[DashboardApplications])
		return err
	})
	b.Queue(dashDecisionsSQL, args).QueryRow(func(row pgx.Row) error {
		d := &out.Decisions
		var pct []float64 // the median and the 90th percentile, one sort; NULL without decisions
		if err := row.Scan(&d.Opened, &d.Decided, &d.OnTime, &d.Pending, &d.Overdue, &pct); err != nil {
			return err
		}
		if len(pct) == 2 {
			d.MedianHours, d.P90Hours = pct[0], pct[1]
		}
		d.Late = d.Decided - d.OnTime
		return nil
	})
	b.Queue(dashBacklogSQL, args).Query(func(rows pgx.Rows) error {
		var err error
		out.Backlog, err = pgx.CollectRows(rows, pgx.RowToStructByPos[DashboardBacklog])
		return err
	})
	b.Queue(dashFundsSQL, args).Query(func(rows pgx.Rows) error {
		var err error
		out.Funds, err = pgx.CollectRows(rows, pgx.RowToStructByPos[DashboardFund])
		return err
	})
	b.Queue(dashRedemptionsSQL, args).Query(func(rows pgx.Rows) error {
		var err error
		out.Redemptions, err = pgx.CollectRows(rows, pgx.RowToStructByPos[DashboardRedemptions])
		return err
	})
	b.Queue(dashBookingsSQL, args).Query(func(rows pgx.Rows) error {
		var err error
		out.Bookings, err = pgx.CollectRows(rows, pgx.RowToStructByPos[DashboardBookings])
		return err
	})
	b.Queue(dashFailuresSQL, args).Query(func(rows pgx.Rows) error {
		var err error
		out.Failures, err = pgx.CollectRows(rows, pgx.RowToStructByPos[DashboardFailures])
		return err
	})
	if err := a.s.Pipeline(ctx, scope, b); err != nil {
		return DashboardFigures{}, MapError(err)
	}
	return out, nil
}

// dashArgs are the arguments of every dashboard statement for f.
func dashArgs(f DashboardFilter) pgx.NamedArgs {
	starts, ends, labels := dashBuckets(f)
	return pgx.NamedArgs{"district": f.District, "mun": f.Municipality, "from": f.From, "to": f.To,
		"now": f.Now, "starts": starts, "ends": ends, "labels": labels}
}

// dashBuckets cuts [f.From, f.To) into days, or weeks from Monday when
// f.Bucket is "week", in Rome: their bounds and labels (the first day of
// the day or week, YYYY-MM-DD; a week cut by the period keeps its
// Monday's label).
func dashBuckets(f DashboardFilter) (starts, ends []time.Time, labels []string) {
	rome := calendar.Rome()
	from, to := f.From.In(rome), f.To.In(rome)
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, rome)
	if f.Bucket == "week" {
		day = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // back to Monday
	}
	for day.Before(to) {
		next := day.AddDate(0, 0, 1)
		if f.Bucket == "week" {
			next = day.AddDate(0, 0, 7)
		}
		s, e := day, next
		if s.Before(from) {
			s = from
		}
		if e.After(to) {
			e = to
		}
		starts, ends, labels = append(starts, s), append(ends, e), append(labels, day.Format(time.DateOnly))
		day = next
	}
	return starts, ends, labels
}
