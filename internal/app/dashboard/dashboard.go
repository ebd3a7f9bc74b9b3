// Package dashboard is the supervisors' dashboard (issue 13): "how are we
// doing this week" on one page. Supervisors read their district, or one of
// its municipalities; operators read their own municipality only (row-level
// security enforces the same in the database). The figures are
// store.API.Dashboard's; this package checks the filters, decides whose
// figures the caller reads, projects when each fund runs out and writes
// the CSV export. Its adapters are api/dashboard.go and api/web/dashboard.go.
package dashboard

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"sportello/internal/app"
	"sportello/internal/calendar"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// Service does the dashboard's use cases.
type Service struct{ *app.Core }

// New returns the dashboard service on core.
func New(core *app.Core) Service { return Service{core} }

// Periods a filter may name; custom dates are From and To.
const (
	PeriodWeek   = "week"   // the 7 days ending today
	PeriodMonth  = "month"  // the 30 days ending today
	PeriodCustom = "custom" // From and To (a week ending To when one is missing)
)

// MaxDays is the longest period the dashboard reads.
const MaxDays = 366

// rome is where days begin and end.
var rome = calendar.Rome()

var errRole = app.Refuse(app.Forbidden, "forbidden", "your role may not use this resource")

// Filter is the dashboard's query as typed (query parameters): a
// municipality ("" = the whole district), a period ("week", "month") or
// custom dates (YYYY-MM-DD, both days included).
type Filter struct {
	Municipality string
	Period       string
	From, To     string
}

// Fund is a fund's budget burn with its projection: at the award rate of
// the period, the day its available budget runs out (RunsOutOn, empty when
// nothing was awarded in the period), or Exhausted when nothing is left.
type Fund struct {
	store.DashboardFund
	SpentCents int64  `json:"spent_cents"` // redeemed + booked
	RunsOutOn  string `json:"runs_out_on,omitempty"`
	Exhausted  bool   `json:"exhausted"`
}

// Dashboard is the answer: the filter as applied and every figure.
type Dashboard struct {
	Municipality string                        `json:"municipality"` // "" = every municipality of the district
	District     string                        `json:"district"`
	From         string                        `json:"from"` // YYYY-MM-DD, included
	To           string                        `json:"to"`   // YYYY-MM-DD, included
	Days         int                           `json:"days"`
	Bucket       string                        `json:"bucket"` // "day" or "week": the applications' buckets
	Applications []store.DashboardApplications `json:"applications"`
	Decisions    store.DashboardDecisions      `json:"decisions"`
	Backlog      []store.DashboardBacklog      `json:"backlog"`
	Funds        []Fund                        `json:"funds"`
	Redemptions  []store.DashboardRedemptions  `json:"redemptions"`
	Bookings     []store.DashboardBookings     `json:"bookings"`
	Failures     []store.DashboardFailures     `json:"failures"`
}

// mayRead tells the roles that read the dashboard.
func mayRead(u store.UserView) bool {
	r := contract.Role(u.Role)
	return r == contract.RoleSupervisor || r == contract.RoleOperator
}

// resolved is a checked filter.
type resolved struct {
	municipality string
	from, to     time.Time // the first day and the day after the last, at midnight in Rome
	days         int
}

// check checks f for user at now: the field problems, or the filter to apply.
func (s Service) check(ctx context.Context, u store.UserView, f Filter, now time.Time) (resolved, []app.FieldError, error) {
	var fe []app.FieldError
	r := resolved{municipality: strings.TrimSpace(f.Municipality)}
	if contract.Role(u.Role) == contract.RoleOperator {
		if r.municipality != "" && r.municipality != u.Municipality {
			fe = append(fe, app.Param("municipality", "forbidden", "dashboard.err.municipality_not_yours"))
		}
		r.municipality = u.Municipality
	} else if r.municipality != "" {
		places, err := s.API.Municipalities(ctx, u.District)
		if err != nil {
			return r, nil, err
		}
		known := false
		for _, p := range places {
			known = known || p.ID == r.municipality
		}
		if !known {
			fe = append(fe, app.Param("municipality", "invalid", "dashboard.err.municipality_unknown"))
		}
	}
	today := time.Date(now.In(rome).Year(), now.In(rome).Month(), now.In(rome).Day(), 0, 0, 0, 0, rome)
	span := 7
	switch strings.TrimSpace(f.Period) {
	case "", PeriodWeek, PeriodCustom:
	case PeriodMonth:
		span = 30
	default:
		fe = append(fe, app.Param("period", "invalid", "dashboard.err.period_invalid"))
	}
	last := today
	if v := strings.TrimSpace(f.To); v != "" {
		d, err := time.ParseInLocation(time.DateOnly, v, rome)
		if err != nil {
			fe = append(fe, app.Param("to", "invalid", "dashboard.err.date_invalid"))
		} else {
			last = d
		}
	}
	first := last.AddDate(0, 0, 1-span)
	if v := strings.TrimSpace(f.From); v != "" {
		d, err := time.ParseInLocation(time.DateOnly, v, rome)
		if err != nil {
			fe = append(fe, app.Param("from", "invalid", "dashboard.err.date_invalid"))
		} else {
			first = d
		}
	}
	if len(fe) == 0 {
		switch {
		case first.After(last):
			fe = append(fe, app.Param("to", "before_from", "dashboard.err.to_before_from"))
		case first.AddDate(0, 0, MaxDays).Before(last.AddDate(0, 0, 1)):
			fe = append(fe, app.Param("from", "too_long", "dashboard.err.period_too_long", MaxDays))
		}
	}
	r.from, r.to = first, last.AddDate(0, 0, 1)
	r.days = int(r.to.Sub(r.from).Hours()/24 + 0.5)
	return r, fe, nil
}

// Read computes the dashboard user may read under f.
func (s Service) Read(ctx context.Context, u store.UserView, f Filter) (Dashboard, error) {
	if !mayRead(u) {
		return Dashboard{}, errRole
	}
	now := s.Now()
	r, fe, err := s.check(ctx, u, f, now)
	if err != nil {
		return Dashboard{}, err
	}
	if len(fe) > 0 {
		return Dashboard{}, app.InvalidInput(fe...)
	}
	bucket := "day"
	if r.days > 31 {
		bucket = "week"
	}
	figs, err := s.API.Dashboard(ctx, u.Scope(), store.DashboardFilter{District: u.District, Municipality: r.municipality,
		From: r.from, To: r.to, Now: now, Bucket: bucket})
	if err != nil {
		return Dashboard{}, err
	}
	d := Dashboard{Municipality: r.municipality, District: u.District,
		From: r.from.Format(time.DateOnly), To: r.to.AddDate(0, 0, -1).Format(time.DateOnly), Days: r.days, Bucket: bucket,
		Applications: figs.Applications, Decisions: figs.Decisions, Backlog: figs.Backlog, Funds: make([]Fund, 0, len(figs.Funds)),
		Redemptions: figs.Redemptions, Bookings: figs.Bookings, Failures: figs.Failures}
	for _, f := range figs.Funds {
		d.Funds = append(d.Funds, project(f, r, now))
	}
	return d, nil
}

// project adds to f when it runs out at the period's award rate: what is
// available divided by what was awarded per day, counted from the end of
// the period (or from today when the period ends later).
func project(f store.DashboardFund, r resolved, now time.Time) Fund {
	out := Fund{DashboardFund: f, SpentCents: f.RedeemedCents + f.BookedCents}
	if f.AvailableCents <= 0 {
		out.Exhausted = true
		return out
	}
	if f.PeriodAwardedCents <= 0 {
		return out
	}
	// days = available / (awarded / period days), rounded up, in integers.
	days := (f.AvailableCents*int64(r.days) + f.PeriodAwardedCents - 1) / f.PeriodAwardedCents
	start := r.to
	if today := now.In(rome); start.After(today) {
		start = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, rome).AddDate(0, 0, 1)
	}
	if days > 100*365 {
		return out // not in any horizon worth a date
	}
	out.RunsOutOn = start.AddDate(0, 0, int(days)-1).Format(time.DateOnly)
	return out
}

// WriteCSV writes d as one CSV file: every row starts with the name of its
// figure (filter, applications, decisions, backlog, funds, redemptions,
// bookings, failures); a figure's first row is its header. Money is in
// integer cents, as in the JSON answer.
func WriteCSV(w io.Writer, d Dashboard) error {
	cw := csv.NewWriter(w)
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	section := func(name string, header []string, rows [][]string) {
		_ = cw.Write(append([]string{name}, header...))
		for _, r := range rows {
			for k, v := range r {
				r[k] = cell(v)
			}
			_ = cw.Write(append([]string{name}, r...))
		}
	}
	section("filter", []string{"district", "municipality", "from", "to"},
		[][]string{{d.District, d.Municipality, d.From, d.To}})
	var rows [][]string
	for _, a := range d.Applications {
		rows = append(rows, []string{a.Bucket, a.Form, i(a.Count)})
	}
	section("applications", []string{d.Bucket, "form", "count"}, rows)
	dc := d.Decisions
	section("decisions", []string{"opened", "decided", "on_time", "late", "pending", "overdue", "median_hours", "p90_hours"},
		[][]string{{i(dc.Opened), i(dc.Decided), i(dc.OnTime), i(dc.Late), i(dc.Pending), i(dc.Overdue),
			strconv.FormatFloat(dc.MedianHours, 'f', 1, 64), strconv.FormatFloat(dc.P90Hours, 'f', 1, 64)}})
	rows = nil
	for _, b := range d.Backlog {
		rows = append(rows, []string{b.Team, b.TeamName, i(b.Open), i(b.Claimed), i(b.Overdue)})
	}
	section("backlog", []string{"team", "team_name", "open", "claimed", "overdue"}, rows)
	rows = nil
	for _, f := range d.Funds {
		rows = append(rows, []string{f.ID, f.Name, f.Kind, f.Municipality, i(f.BudgetCents), i(f.AwardedCents),
			i(f.RedeemedCents), i(f.BookedCents), i(f.SpentCents), i(f.AvailableCents), i(f.PeriodAwardedCents),
			i(f.PeriodSpentCents), f.RunsOutOn})
	}
	section("funds", []string{"fund", "name", "kind", "municipality", "budget_cents", "awarded_cents", "redeemed_cents",
		"booked_cents", "spent_cents", "available_cents", "period_awarded_cents", "period_spent_cents", "runs_out_on"}, rows)
	rows = nil
	for _, r := range d.Redemptions {
		rows = append(rows, []string{r.MerchantKind, i(r.Count), i(r.AmountCents)})
	}
	section("redemptions", []string{"merchant_kind", "count", "amount_cents"}, rows)
	rows = nil
	for _, b := range d.Bookings {
		rows = append(rows, []string{b.Cooperative, b.CooperativeName, b.Category, i(b.Bookings), i(b.Cancelled),
			i(b.SessionsDelivered), i(b.TotalCents), i(b.VoucherCents)})
	}
	section("bookings", []string{"cooperative", "cooperative_name", "category", "bookings", "cancelled",
		"sessions_delivered", "total_cents", "voucher_cents"}, rows)
	rows = nil
	for _, f := range d.Failures {
		rows = append(rows, []string{f.Kind, i(f.Count), i(f.AmountCents)})
	}
	section("failures", []string{"kind", "count", "amount_cents"}, rows)
	cw.Flush()
	return cw.Error()
}

// FileName is the CSV export's file name: the period and the place.
func FileName(d Dashboard) string {
	place := d.Municipality
	if place == "" {
		place = d.District
	}
	return "dashboard-" + place + "-" + d.From + "-" + d.To + ".csv"
}

// cell keeps a text from being read as a formula by a spreadsheet (names
// are typed by people): one starting with =, +, -, @ or a control character
// gets a leading apostrophe. Numbers here are never negative.
func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
